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


def test_cbow_update_is_checked() -> None:
    ids, counts, _ = _toy_stream(repeats=20)
    with pytest.raises(ValueError, match="cbow_update"):
        exp.train_word2vec(ids, counts, architecture="cbow", cbow_update="sum")


def test_pmi_alignment_counts_pairs_as_training_sees_them() -> None:
    """Without subsampling, the shifted PMI by hand: log(#(w, c) / (#(w) P_n(c))) - log K."""
    ids, counts, words = _toy_stream(repeats=40)
    V, window, K = len(words), 2, 5
    rng = np.random.default_rng(1)
    run = exp.Word2VecRun(rng.normal(size=(V, 3)), rng.normal(size=(V, 3)), [], [])
    scores, shifted = exp.pmi_alignment(
        run, ids, counts, window, K, threshold=1.0, draws=1, min_count=1, top=V
    )
    joint = np.zeros((V, V))
    for t in range(len(ids)):
        for d in range(-window, window + 1):
            if d != 0 and 0 <= t + d < len(ids):
                joint[ids[t], ids[t + d]] += 1
    noise = counts**0.75 / np.sum(counts**0.75)
    seen = joint > 0
    expected = np.log((joint / (joint.sum(axis=1, keepdims=True) * noise[None, :]))[seen]) - np.log(K)
    assert rel_error(shifted, expected) < 1e-12
    assert rel_error(scores, (run.W_in @ run.W_out.T)[seen]) < 1e-12
    # A count threshold keeps only the pairs seen that often; subsampling changes the pairs themselves
    # (frequent words drop out, and words further apart become neighbours).
    fewer, _ = exp.pmi_alignment(run, ids, counts, window, K, threshold=1.0, draws=1, min_count=30, top=V)
    assert 0 < len(fewer) == int((joint >= 30).sum()) < len(scores)
    _, thinned = exp.pmi_alignment(run, ids, counts, window, K, threshold=1e-2, draws=1, min_count=1, top=V)
    assert len(thinned) != len(scores) or rel_error(thinned, shifted) > 1e-3


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
