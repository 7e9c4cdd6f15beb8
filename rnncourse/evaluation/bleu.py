"""BLEU (Papineni et al. 2002): clipped n-gram precision and a brevity penalty, at corpus level.

For hypotheses h_i and references r_i (lists of tokens), n = 1..N (N = 4):

    m_n = sum_i sum_{g in n-grams(h_i)} min(count_{h_i}(g), count_{r_i}(g))   clipped matches
    t_n = sum_i max(|h_i| - n + 1, 0)                                         hypothesis n-grams
    p_n = m_n / t_n
    BP  = 1 if c > r else exp(1 - r / c)        c = sum |h_i|, r = sum |r_i|
    BLEU = BP * exp( sum_n (1/N) log p_n )      uniform weights 1/N

Clipping stops "the the the the" from scoring a perfect unigram precision
against "the cat": a hypothesis n-gram matches at most as often as the
reference holds it. The brevity penalty punishes hypotheses *shorter* than
the references (precision alone would reward saying little); it is 1 for
longer ones, whose extra words already lower the precisions. The sums run
over the whole corpus *before* the ratio: corpus BLEU is not the mean of
sentence BLEUs.

A single sentence often has no matching 4-gram, and log 0 makes BLEU 0.
Sentence BLEU therefore smooths: the "exp" method (Chen and Cherry 2014,
method 3, sacrebleu's default) replaces the k-th zero count m_n = 0 by
1 / 2^k (a hypothesis without one matching word still scores 0).
Scores are in [0, 1]; sacrebleu prints 100 times these.

Dive into Deep Learning's ``bleu`` weights p_n by 1/2^n instead of 1/N and
is a per-sentence score; it is not the BLEU papers report.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

Tokens = Sequence[str]


def ngrams(tokens: Tokens, n: int) -> Counter[tuple[str, ...]]:
    """How often each n-gram (a tuple of n tokens) occurs in ``tokens``."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def clipped_matches(hypothesis: Tokens, reference: Tokens, n: int) -> tuple[int, int]:
    """(clipped matching n-grams, n-grams of the hypothesis) for one sentence pair."""
    hyp, ref = ngrams(hypothesis, n), ngrams(reference, n)
    return sum(min(count, ref[gram]) for gram, count in hyp.items()), max(len(hypothesis) - n + 1, 0)


def brevity_penalty(hypothesis_length: int, reference_length: int) -> float:
    """``1`` if c > r, else ``exp(1 - r / c)``; 0 for an empty hypothesis."""
    if hypothesis_length == 0:
        return 0.0
    if hypothesis_length > reference_length:
        return 1.0
    return math.exp(1.0 - reference_length / hypothesis_length)


def _bleu(matches: Sequence[int], totals: Sequence[int], c: int, r: int, smooth: bool) -> float:
    if c == 0 or matches[0] == 0:  # not one word in common: 0, smoothed or not (as sacrebleu)
        return 0.0
    logs, zeros = [], 0
    for m, t in zip(matches, totals):
        if t == 0:  # no n-gram of this order in the hypothesis at all
            return 0.0
        if m == 0:
            if not smooth:
                return 0.0
            zeros += 1
            logs.append(math.log(1.0 / (2**zeros * t)))
        else:
            logs.append(math.log(m / t))
    return brevity_penalty(c, r) * math.exp(sum(logs) / len(logs))


def corpus_bleu(hypotheses: Sequence[Tokens], references: Sequence[Tokens], max_n: int = 4) -> float:
    """Corpus BLEU in [0, 1] of tokenised hypotheses against one reference each (no smoothing)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    matches, totals = [0] * max_n, [0] * max_n
    for hyp, ref in zip(hypotheses, references):
        for n in range(1, max_n + 1):
            m, t = clipped_matches(hyp, ref, n)
            matches[n - 1] += m
            totals[n - 1] += t
    c = sum(len(h) for h in hypotheses)
    r = sum(len(x) for x in references)
    return _bleu(matches, totals, c, r, smooth=False)


def bleu(hypotheses: Sequence[Tokens], references: Sequence[Tokens]) -> float:
    """Corpus BLEU in [0, 100], as papers and sacrebleu print it: 100 times :func:`corpus_bleu` (4-grams)."""
    return 100 * corpus_bleu(hypotheses, references)


def sentence_bleu(hypothesis: Tokens, reference: Tokens, max_n: int = 4) -> float:
    """Smoothed BLEU in [0, 1] of one sentence (the "exp" smoothing above)."""
    matches, totals = zip(*(clipped_matches(hypothesis, reference, n) for n in range(1, max_n + 1)))
    return _bleu(matches, totals, len(hypothesis), len(reference), smooth=True)


def sentence_statistics(hypothesis: Tokens, reference: Tokens, max_n: int = 4) -> list[int]:
    """What corpus BLEU sums over sentences: ``[m_1 .. m_N, t_1 .. t_N, c, r]`` (matches, totals, lengths)."""
    matches, totals = zip(*(clipped_matches(hypothesis, reference, n) for n in range(1, max_n + 1)))
    return [*matches, *totals, len(hypothesis), len(reference)]


def paired_bootstrap(
    hypotheses_a: Sequence[Tokens],
    hypotheses_b: Sequence[Tokens],
    references: Sequence[Tokens],
    rounds: int,
    rng: np.random.Generator,
    max_n: int = 4,
) -> float:
    """Share of bootstrap resamples of the test sentences on which system A's corpus BLEU beats B's.

    Paired bootstrap resampling (Koehn 2004): draw the test set's sentences
    with replacement ``rounds`` times, score both systems on each resample, and
    count how often A wins. Near 1 (or 0), the difference is not an accident
    of which sentences the test set holds; near 0.5, it may well be.
    """
    if not len(hypotheses_a) == len(hypotheses_b) == len(references):
        raise ValueError("need one hypothesis of each system per reference")
    stats = [
        np.array([sentence_statistics(h, r, max_n) for h, r in zip(hyps, references)])
        for hyps in (hypotheses_a, hypotheses_b)
    ]  # (n, 2 * max_n + 2) each
    wins = 0
    for _ in range(rounds):
        rows = rng.integers(0, len(references), size=len(references))
        a, b = (
            _bleu(s[:max_n].tolist(), s[max_n : 2 * max_n].tolist(), int(s[-2]), int(s[-1]), smooth=False)
            for s in (stats[0][rows].sum(axis=0), stats[1][rows].sum(axis=0))
        )
        wins += a > b
    return wins / rounds
