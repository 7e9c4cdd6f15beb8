"""Tests of BLEU: hand-worked values, and agreement with sacrebleu."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sacrebleu

from rnncourse.evaluation.bleu import (
    bleu,
    brevity_penalty,
    clipped_matches,
    corpus_bleu,
    paired_bootstrap,
    sentence_bleu,
    sentence_statistics,
)


def test_clipping_by_hand() -> None:
    assert clipped_matches(["the", "the", "the", "the"], ["the", "cat"], 1) == (1, 4)
    assert clipped_matches(["the", "cat", "the", "cat"], ["the", "cat", "sat", "on", "the", "cat"], 2) == (
        2,
        3,
    )


def test_brevity_penalty_by_hand() -> None:
    assert brevity_penalty(10, 10) == 1.0 and brevity_penalty(12, 10) == 1.0
    assert abs(brevity_penalty(5, 10) - math.exp(-1.0)) < 1e-15
    assert brevity_penalty(0, 3) == 0.0


def _random_corpus(seed: int, n: int):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(8)]
    refs = [list(rng.choice(words, size=rng.integers(3, 12))) for _ in range(n)]
    hyps = []
    for ref in refs:  # edit the reference: drop, change and add words
        hyp = [w if rng.random() > 0.25 else str(rng.choice(words)) for w in ref if rng.random() > 0.15]
        hyps.append(hyp + list(rng.choice(words, size=rng.integers(0, 3))))
    return hyps, refs


@pytest.mark.parametrize("seed", range(6))
def test_corpus_bleu_agrees_with_sacrebleu(seed: int) -> None:
    hyps, refs = _random_corpus(seed, 20)
    theirs = sacrebleu.corpus_bleu(
        [" ".join(h) for h in hyps], [[" ".join(r) for r in refs]], tokenize="none", smooth_method="none"
    ).score
    assert theirs > 5.0  # the corpus is neither trivial nor hopeless
    assert abs(100 * corpus_bleu(hyps, refs) - theirs) < 1e-9


def test_bleu_is_on_sacrebleus_scale_of_0_to_100() -> None:
    hyps, refs = _random_corpus(0, 20)
    theirs = sacrebleu.corpus_bleu(
        [" ".join(h) for h in hyps], [[" ".join(r) for r in refs]], tokenize="none", smooth_method="none"
    ).score
    assert abs(bleu(hyps, refs) - theirs) < 1e-9
    sentence = ["the", "cat", "sat", "on", "the", "mat", "today"]
    assert bleu([sentence], [sentence]) == pytest.approx(100.0)
    assert bleu([["a", "b", "c", "d"]], [sentence]) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_sentence_bleu_agrees_with_sacrebleu_exp_smoothing(seed: int) -> None:
    hyps, refs = _random_corpus(100 + seed, 8)
    for h, r in zip(hyps, refs):
        theirs = sacrebleu.sentence_bleu(
            " ".join(h), [" ".join(r)], tokenize="none", smooth_method="exp", use_effective_order=False
        ).score
        assert abs(100 * sentence_bleu(h, r) - theirs) < 1e-9


def test_corpus_bleu_is_not_the_mean_of_sentence_scores() -> None:
    hyps, refs = _random_corpus(7, 10)
    mean = np.mean([sentence_bleu(h, r) for h, r in zip(hyps, refs)])
    assert abs(corpus_bleu(hyps, refs) - mean) > 1e-3


def test_perfect_and_errors() -> None:
    assert corpus_bleu([["a", "b", "c", "d"]], [["a", "b", "c", "d"]]) == 1.0
    with pytest.raises(ValueError, match="references"):
        corpus_bleu([["a"]], [])


def test_summed_sentence_statistics_give_corpus_bleu() -> None:
    rng = np.random.default_rng(4)
    refs = [list(rng.choice(list("abc"), size=rng.integers(6, 12))) for _ in range(12)]
    hyps = [list(rng.choice(list("abc"), size=rng.integers(5, 12))) for _ in range(12)]
    stats = np.sum([sentence_statistics(h, r) for h, r in zip(hyps, refs)], axis=0)
    matches, totals = stats[:4], stats[4:8]
    c, r = int(stats[8]), int(stats[9])
    assert (c, r) == (sum(map(len, hyps)), sum(map(len, refs))) and matches.min() > 0
    by_hand = brevity_penalty(c, r) * math.exp(np.mean(np.log(matches / totals)))
    assert abs(by_hand - corpus_bleu(hyps, refs)) < 1e-12


def test_paired_bootstrap_counts_the_resamples_a_wins() -> None:
    rng = np.random.default_rng(0)
    refs = [list(rng.choice(list("abcdefgh"), size=8)) for _ in range(30)]
    noisy = [r[:4] + list("zzzz") for r in refs]  # half right in every sentence
    assert paired_bootstrap(refs, noisy, refs, 50, np.random.default_rng(1)) == 1.0
    assert paired_bootstrap(noisy, refs, refs, 50, np.random.default_rng(1)) == 0.0
    assert paired_bootstrap(noisy, noisy, refs, 50, np.random.default_rng(1)) == 0.0  # ties are no win
    with pytest.raises(ValueError, match="one hypothesis"):
        paired_bootstrap(refs[:2], refs, refs, 5, rng)
