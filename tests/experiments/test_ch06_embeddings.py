"""Chapter 6's experiment code: word2vec learns, the cost table counts right, the results are stored."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse import results
from rnncourse.experiments import ch06_embeddings as exp
from rnncourse.gradcheck import rel_error


def _toy_stream(seed: int = 0, repeats: int = 300) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Two topics that never share a sentence: words of one topic only co-occur with each other."""
    sentences = ["cat eats fish", "dog eats meat", "king rules land", "queen rules land"]
    words = sorted({w for s in sentences for w in s.split()})
    index = {w: i for i, w in enumerate(words)}
    order = np.random.default_rng(seed).integers(0, 4, size=repeats)
    ids = np.array([index[w] for k in order for w in sentences[k].split()])
    return ids, np.bincount(ids, minlength=len(words)), words


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_word2vec_lowers_the_loss_and_groups_words_by_context(architecture: str) -> None:
    ids, counts, words = _toy_stream()
    run = exp.train_word2vec(
        ids,
        counts,
        architecture=architecture,
        E=8,
        window=1,
        epochs=20,
        lr=0.1,
        batch=16,
        threshold=1.0,
        report_every=20,
    )
    untrained = 6 * np.log(2)
    assert run.losses[-1] < 0.8 * untrained
    unit = run.W_in / np.linalg.norm(run.W_in, axis=1, keepdims=True)
    cos = unit @ unit.T
    i = {w: k for k, w in enumerate(words)}
    assert cos[i["king"], i["queen"]] > cos[i["king"], i["fish"]]


def test_heldout_loss_of_an_untrained_model_is_k_plus_one_log_two() -> None:
    ids, counts, _ = _toy_stream()
    V = len(counts)
    run = exp.Word2VecRun(np.zeros((V, 4)), np.zeros((V, 4)), [], [])
    assert abs(exp.heldout_sgns_loss(run, ids, counts, window=2, K=5) - 6 * np.log(2)) < 1e-12


def test_full_softmax_log_prob_is_a_normalised_log_softmax() -> None:
    rng = np.random.default_rng(0)
    h, W = rng.normal(size=(3, 4)), rng.normal(size=(7, 4))
    logits = h @ W.T
    expected = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    words = np.array([0, 6, 3])
    assert rel_error(exp.full_softmax_log_prob(h, W, words), expected[np.arange(3), words]) < 1e-14


def test_softmax_costs_count_dot_products() -> None:
    (row,) = exp.softmax_costs([1024], E=8, N=16, repeats=1)
    assert row["full_dots"] == 1024 and row["balanced_max_depth"] == 10
    assert row["entropy_bits"] <= row["huffman_expected_depth"] < row["entropy_bits"] + 1


def test_stored_results_hold_their_command_and_the_issue_s_v_range() -> None:
    softmax = results.load("ch06_embeddings_softmax")
    assert [r["V"] for r in softmax["rows"]] == [1_000, 3_000, 10_000, 30_000, 100_000]
    assert all(r["full_us"] > 10 * r["balanced_us"] for r in softmax["rows"][2:])
    for name in ("softmax", "analogies", "word2vec", "classifier"):
        assert results.load(f"ch06_embeddings_{name}")["command"].endswith(name)
