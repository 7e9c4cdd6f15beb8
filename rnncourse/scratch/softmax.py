"""Softmax, computed so that it cannot overflow.

softmax(z)_i = exp(z_i) / sum_j exp(z_j) is unchanged when the same constant
is subtracted from every z_j. Subtracting max_j z_j makes every exponent
<= 0, so exp never overflows and the largest term is exactly 1, so the sum
never underflows to 0.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Probabilities along ``axis``; every slice along it sums to 1.

    Args:
        logits: array of any shape, e.g. ``(N, C)`` scores for C classes.
        axis: the axis that holds the classes.

    Returns:
        Array of the shape of ``logits``.
    """
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)
