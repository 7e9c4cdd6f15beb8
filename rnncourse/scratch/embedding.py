"""An embedding layer: one learned vector per token id.

Token ``v`` of a vocabulary of size V is represented by row ``v`` of a
matrix ``W`` of shape (V, E):

    e_t = W[x_t]

This is the same as multiplying a one-hot vector by ``W.T``, but a lookup
costs O(E) instead of O(V E). The backward is the matching scatter: the
gradient of row ``v`` is the sum of the upstream gradients of every position
whose id is ``v``.

Shapes: N batch, T time steps, V vocabulary size, E embedding size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_floating, check_shape, dtype_name


class EmbeddingCache(NamedTuple):
    """What ``embedding_backward`` needs from ``embedding_forward``."""

    ids: np.ndarray  # (N, T) int
    W_shape: tuple[int, int]  # (V, E)
    W_dtype: np.dtype
    padding_idx: int | None


def embedding_forward(
    ids: np.ndarray, W: np.ndarray, padding_idx: int | None = None
) -> tuple[np.ndarray, EmbeddingCache]:
    """Look up the rows of ``W``: ``out[n, t] = W[ids[n, t]]``.

    Args:
        ids: (N, T) integer token ids in ``[0, V)``; any integer shape works.
        W: (V, E) the embedding matrix.
        padding_idx: id of the padding token, if any. Its row is looked up like
            any other (initialise it to zeros so that padding embeds as 0), but
            ``embedding_backward`` never gives it a gradient, so it stays fixed.

    Returns:
        out: (N, T, E), i.e. ``ids.shape + (E,)``, and the cache.

    Raises:
        TypeError: non-integer ids, or a non-float W. ValueError: W not 2-D, or
            a padding_idx outside [0, V). IndexError: an id outside [0, V).
    """
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids has dtype {dtype_name(ids)}; expected integers")
    check_floating("W", W)
    V = check_shape("W", W, {"V": None, "E": None})[0]
    if padding_idx is not None and not 0 <= padding_idx < V:
        raise ValueError(f"padding_idx is {padding_idx}; expected an id in [0, V) = [0, {V})")
    # NumPy would silently accept negative ids (counting from the end).
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise IndexError(f"ids has values in [{ids.min()}, {ids.max()}]; expected ids in [0, V) = [0, {V})")
    return W[ids], EmbeddingCache(ids, W.shape, W.dtype, padding_idx)


def embedding_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
    """Gradient of the embedding matrix: ``dW[v] = sum of dout[n, t] over all ids[n, t] = v``.

    Args:
        dout: (N, T, E) upstream gradient of ``out``.
        cache: from ``embedding_forward``.

    Returns:
        dW: (V, E), zero in the rows of ids that did not occur (and of ``padding_idx``).
    """
    ids, W_shape, W_dtype, padding_idx = cache
    dW = np.zeros(W_shape, dtype=W_dtype)
    # ``dW[ids] += dout`` would be wrong: with a repeated id, fancy-index
    # assignment keeps only one of the writes. ``np.add.at`` adds them all.
    np.add.at(dW, ids.reshape(-1), dout.reshape(-1, W_shape[1]))
    if padding_idx is not None:
        dW[padding_idx] = 0
    return dW
