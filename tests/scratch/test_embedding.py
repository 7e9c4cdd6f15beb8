"""Tests of the embedding lookup and its scatter-add backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.embedding import EmbeddingCache, embedding_backward, embedding_forward


def _problem(seed: int, N: int = 4, T: int = 6, V: int = 5, E: int = 3):
    """A small vocabulary and a long batch, so ids repeat many times."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, size=(N, T))
    W = rng.normal(size=(V, E))
    dout = rng.normal(size=(N, T, E))
    return ids, W, dout


def test_forward_is_a_row_lookup_and_a_one_hot_product() -> None:
    ids, W, _ = _problem(0)
    out, _ = embedding_forward(ids, W)
    assert out.shape == ids.shape + (W.shape[1],)
    for n, t in np.ndindex(*ids.shape):
        np.testing.assert_array_equal(out[n, t], W[ids[n, t]])
    one_hot = np.eye(W.shape[0])[ids]  # (N, T, V)
    assert rel_error(out, one_hot @ W) < 1e-15


def test_gradient_matches_numerical_with_repeated_ids() -> None:
    ids, W, dout = _problem(1)
    assert len(np.unique(ids)) < ids.size  # repeats are the point of this test
    _, cache = embedding_forward(ids, W)
    dW = embedding_backward(dout, cache)
    check_gradients(lambda: embedding_forward(ids, W)[0], {"W": W}, {"W": dW}, dout)


def test_unused_rows_get_zero_gradient() -> None:
    rng = np.random.default_rng(2)
    W = rng.normal(size=(10, 3))
    ids = np.array([[1, 3, 3], [1, 1, 7]])
    _, cache = embedding_forward(ids, W)
    dW = embedding_backward(rng.normal(size=(2, 3, 3)), cache)
    unused = np.setdiff1d(np.arange(10), ids)
    assert np.all(dW[unused] == 0)
    assert np.all(np.abs(dW[[1, 3, 7]]).sum(axis=1) > 0)


def test_padding_row_gets_no_gradient_and_the_others_are_exact() -> None:
    ids, W, dout = _problem(3)
    pad = int(ids[0, 0])
    _, cache = embedding_forward(ids, W, padding_idx=pad)
    dW = embedding_backward(dout, cache)
    assert np.all(dW[pad] == 0)
    _, plain_cache = embedding_forward(ids, W)
    expected = embedding_backward(dout, plain_cache)
    expected[pad] = 0
    assert rel_error(dW, expected) == 0


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_matches_torch_embedding(padding_idx: int | None) -> None:
    ids, W, dout = _problem(4, N=3, T=7, V=6, E=4)
    module = torch.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(W))
    out_t = module(torch.from_numpy(ids))
    out_t.backward(torch.from_numpy(dout))

    out, cache = embedding_forward(ids, W, padding_idx=padding_idx)
    dW = embedding_backward(dout, cache)
    assert rel_error(out, out_t.detach().numpy()) < 1e-10
    assert rel_error(dW, module.weight.grad.numpy()) < 1e-10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype: type) -> None:
    ids, W, dout = _problem(5)
    out, cache = embedding_forward(ids, W.astype(dtype))
    dW = embedding_backward(dout.astype(dtype), cache)
    assert out.dtype == dtype and dW.dtype == dtype


def test_out_of_range_and_non_integer_ids_are_rejected() -> None:
    W = np.zeros((4, 2))
    with pytest.raises(IndexError):
        embedding_forward(np.array([[0, 4]]), W)
    with pytest.raises(IndexError):
        embedding_forward(np.array([[-1, 0]]), W)  # NumPy alone would wrap around
    with pytest.raises(TypeError):
        embedding_forward(np.array([[0.0, 1.0]]), W)


def test_a_backward_that_drops_repeated_ids_is_caught() -> None:
    """Fancy-index ``+=`` keeps one write per repeated id; the check must notice."""
    ids, W, dout = _problem(6)

    def broken_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
        dW = np.zeros(cache.W_shape)
        dW[cache.ids.reshape(-1)] += dout.reshape(-1, cache.W_shape[1])
        return dW

    _, cache = embedding_forward(ids, W)
    with pytest.raises(AssertionError):
        check_gradients(
            lambda: embedding_forward(ids, W)[0],
            {"W": W},
            {"W": broken_backward(dout, cache)},
            dout,
        )


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    N=st.integers(1, 8),
    T=st.integers(1, 50),
    V=st.integers(1, 12),
    E=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_backward_is_the_transposed_one_hot_product(N: int, T: int, V: int, E: int, seed: int) -> None:
    """out = onehot(ids) @ W, so dW = onehot(ids)^T @ dout; each upstream row lands once."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, size=(N, T))
    W = rng.normal(size=(V, E))
    dout = rng.normal(size=(N, T, E))
    _, cache = embedding_forward(ids, W)
    dW = embedding_backward(dout, cache)
    one_hot = np.eye(V)[ids].reshape(-1, V)
    np.testing.assert_allclose(dW, one_hot.T @ dout.reshape(-1, E), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dW.sum(axis=0), dout.sum(axis=(0, 1)), rtol=1e-12, atol=1e-12)
