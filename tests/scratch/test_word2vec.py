"""Tests of word2vec's pieces: noise, subsampling, pairs, the negative-sampling loss and CBOW's mean."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.word2vec import (
    cbow_mean_backward,
    cbow_mean_forward,
    cbow_windows,
    cbow_word2vec_backward,
    keep_probabilities,
    noise_distribution,
    sample_negatives,
    sgns_backward,
    sgns_forward,
    skipgram_pairs,
    subsample,
)


def _vectors(seed: int, N: int = 5, K: int = 3, E: int = 4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, E)), rng.normal(size=(N, E)), rng.normal(size=(N, K, E)), rng.normal(size=N)


def test_noise_is_counts_to_the_three_quarters_normalised() -> None:
    p = noise_distribution(np.array([16.0, 1.0, 0.0]))
    assert rel_error(p, np.array([8.0, 1.0, 0.0]) / 9.0) < 1e-15  # 16^0.75 = 8
    flat = noise_distribution(np.array([100.0, 1.0]), power=1.0)
    assert p[1] / p[0] > flat[1] / flat[0]  # the rare word gains


def test_sampled_negatives_follow_the_noise_distribution() -> None:
    noise = noise_distribution(np.array([50.0, 20.0, 5.0, 1.0]))
    draws = sample_negatives(noise, (200_000,), np.random.default_rng(0))
    observed = np.bincount(draws, minlength=4) / draws.size
    assert np.abs(observed - noise).max() < 0.005  # 4 standard errors of 200k draws


def test_subsampling_keeps_rare_words_and_thins_frequent_ones() -> None:
    counts = np.array([9000.0, 999.0, 1.0])
    keep = keep_probabilities(counts, threshold=1e-3)
    assert keep[2] == 1.0
    assert abs(keep[0] - np.sqrt(1e-3 / 0.9)) < 1e-12
    ids = np.repeat(np.arange(3), counts.astype(int))
    kept = subsample(ids, keep, np.random.default_rng(1))
    assert np.sum(kept == 2) == 1 and abs(np.sum(kept == 0) / 9000 - keep[0]) < 0.01


def test_skipgram_pairs_are_every_neighbour_within_the_window() -> None:
    ids = np.array([10, 11, 12, 13])
    centres, contexts = skipgram_pairs(ids, 2)
    pairs = set(zip(centres.tolist(), contexts.tolist()))
    expected = {(a, b) for i, a in enumerate(ids) for j, b in enumerate(ids) if 0 < abs(i - j) <= 2}
    assert pairs == {(int(a), int(b)) for a, b in expected} and len(centres) == 2 * (3 + 2)


def test_cbow_windows_hold_both_sides() -> None:
    centres, contexts = cbow_windows(np.arange(6), 2)
    assert centres.tolist() == [2, 3]
    assert contexts.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5]]


def test_sgns_gradients_match_numerical() -> None:
    v, u_pos, u_neg, dloss = _vectors(0)
    _, cache = sgns_forward(v, u_pos, u_neg)
    dv, du_pos, du_neg = sgns_backward(dloss, cache)
    check_gradients(
        lambda: sgns_forward(v, u_pos, u_neg)[0],
        {"v": v, "u_pos": u_pos, "u_neg": u_neg},
        {"v": dv, "u_pos": du_pos, "u_neg": du_neg},
        dloss,
    )


def _torch_sgns(
    v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray, dloss: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The loss and its gradients (v, u_pos, u_neg) by torch's logsigmoid and autograd."""
    tv, tp, tn = (torch.tensor(a, requires_grad=True) for a in (v, u_pos, u_neg))
    loss_t = -torch.nn.functional.logsigmoid((tp * tv).sum(1)) - torch.nn.functional.logsigmoid(
        -torch.einsum("nke,ne->nk", tn, tv)
    ).sum(1)
    loss_t.backward(torch.from_numpy(dloss))
    return loss_t.detach().numpy(), tuple(t.grad.numpy() for t in (tv, tp, tn))  # type: ignore[union-attr]


def test_sgns_matches_torch_autograd() -> None:
    v, u_pos, u_neg, dloss = _vectors(1, N=4, K=5, E=6)
    torch_loss, torch_grads = _torch_sgns(v, u_pos, u_neg, dloss)
    loss, cache = sgns_forward(v, u_pos, u_neg)
    grads = sgns_backward(dloss, cache)
    assert rel_error(loss, torch_loss) < 1e-12
    for ours, theirs in zip(grads, torch_grads):
        assert rel_error(ours, theirs) < 1e-12


def test_sgns_loss_is_finite_for_huge_scores() -> None:
    v = np.full((1, 2), 30.0)
    loss, _ = sgns_forward(v, -v, v[:, None, :])  # scores of -1800: log sigma would underflow naively
    assert np.isfinite(loss).all() and abs(loss[0] - 3600.0) < 1e-9


def test_sgns_gradients_match_torch_for_large_scores_of_both_signs() -> None:
    """sigma comes from rnncourse.scratch.activations: near 0 and 1 its gradients stay right."""
    v, u_pos, u_neg, dloss = _vectors(4, N=6, K=4, E=5)
    v, u_pos, u_neg = 6.0 * v, 6.0 * u_pos, 6.0 * u_neg  # scores of a few hundred, either sign
    torch_loss, torch_grads = _torch_sgns(v, u_pos, u_neg, dloss)
    loss, cache = sgns_forward(v, u_pos, u_neg)
    assert np.abs(cache.sig_pos * (1 - cache.sig_pos)).max() < 1e-2  # the sigmoids are saturated
    assert rel_error(loss, torch_loss) < 1e-12
    for ours, theirs in zip(sgns_backward(dloss, cache), torch_grads):
        assert rel_error(ours, theirs) < 1e-12


def test_cbow_mean_gradient_matches_numerical() -> None:
    rng = np.random.default_rng(2)
    v_ctx, dh = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5))
    h, C = cbow_mean_forward(v_ctx)
    assert rel_error(h, v_ctx.sum(axis=1) / 4) < 1e-15
    check_gradients(lambda: cbow_mean_forward(v_ctx)[0], {"v": v_ctx}, {"v": cbow_mean_backward(dh, C)}, dh)


def test_word2vecs_cbow_update_is_c_times_the_gradient_of_the_mean() -> None:
    dh = np.random.default_rng(5).normal(size=(3, 5))
    assert rel_error(cbow_word2vec_backward(dh, 4), 4 * cbow_mean_backward(dh, 4)) < 1e-15
    assert all(np.array_equal(cbow_word2vec_backward(dh, 4)[:, j], dh) for j in range(4))


def test_wrong_shapes_are_named() -> None:
    v, u_pos, u_neg, _ = _vectors(3)
    with pytest.raises(ValueError, match="u_neg"):
        sgns_forward(v, u_pos, u_neg[:, :, :2])
    with pytest.raises(ValueError, match="u_pos"):
        sgns_forward(v, u_pos[:2], u_neg)
