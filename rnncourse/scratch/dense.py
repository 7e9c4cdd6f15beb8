"""A fully connected (affine) layer: ``y = x @ W.T + b``, chapter 1.

Used for the output of a recurrent network, ``y_t = W_hy h_t + b_y``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_floating, check_same_dtype, check_shape


class DenseCache(NamedTuple):
    x: np.ndarray  # (..., D)
    W: np.ndarray  # (C, D)


def dense_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, DenseCache]:
    """Affine map over the last axis.

    Args:
        x: (..., D) inputs, e.g. (N, H) last hidden states or (N, T, H) all of them.
        W: (C, D) weights.
        b: (C,) bias.

    Returns:
        y: (..., C), and the cache.

    Raises:
        ValueError: naming an argument of the wrong shape; TypeError for a
            non-float x or a dtype that differs from x's.
    """
    check_floating("x", x)
    if x.ndim == 0:
        raise ValueError("x has shape (); expected (..., D) with at least one axis")
    C = check_shape("W", W, {"C": None, "D": x.shape[-1]})[0]
    check_shape("b", b, {"C": C})
    check_same_dtype(("x", x), {"W": W, "b": b})
    return x @ W.T + b, DenseCache(x, W)


def dense_backward(dy: np.ndarray, cache: DenseCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``dense_forward``.

    Args:
        dy: (..., C) upstream gradient.
        cache: from ``dense_forward``.

    Returns:
        dx (..., D), dW (C, D), db (C,).
    """
    x, W = cache
    dy_rows = dy.reshape(-1, dy.shape[-1])
    dx = dy @ W
    dW = dy_rows.T @ x.reshape(-1, x.shape[-1])
    db = dy_rows.sum(axis=0)
    return dx, dW, db
