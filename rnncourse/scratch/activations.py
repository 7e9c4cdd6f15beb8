"""Activation functions, each with its derivative: every chapter's cells use these.

All derivatives are written in terms of the function's *output*, which the
forward pass keeps in its cache anyway:

    tanh'(a)    = 1 - tanh(a)^2          = 1 - y^2
    relu'(a)    = [a > 0]                = [y > 0]
    sigmoid'(a) = sigma(a) (1 - sigma(a)) = y (1 - y)

Softmax is here too: it turns a row of scores into probabilities. It is
unchanged when the same constant is subtracted from every score of a row;
subtracting the row's maximum makes every exponent <= 0, so ``exp`` never
overflows, and the largest term is exactly 1, so the sum never underflows.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Activation = Literal["tanh", "relu"]


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-a))``, elementwise, keeping the dtype.

    Written as ``(1 + tanh(a / 2)) / 2``, the same function: it never
    overflows (``exp(-a)`` does for a < -710 in float64, -89 in float32) and
    it can work in place (``out=a``). Its error is a few units in the last
    place of 1, absolute: enough for a gate, which multiplies a quantity of
    order 1, though a value like sigma(-30) ~ 1e-13 has few correct digits.
    """
    out = np.tanh(np.multiply(a, 0.5, out=out), out=out)
    out += 1
    out *= 0.5
    return out


def activate(a: np.ndarray, activation: Activation) -> np.ndarray:
    """``tanh(a)`` or ``relu(a) = max(a, 0)``, elementwise; any shape."""
    if activation == "tanh":
        return np.tanh(a)
    if activation == "relu":
        return np.maximum(a, 0)
    raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")


def activation_backward(dy: np.ndarray, y: np.ndarray, activation: Activation) -> np.ndarray:
    """dL/da from dL/dy, using the output ``y = f(a)``: tanh' = 1 - y^2, relu' = [y > 0].

    Args:
        dy: upstream gradient, any shape.
        y: the forward output ``activate(a, activation)``, shape of ``dy``.

    Returns:
        dL/da, shape of ``dy``.
    """
    if activation == "tanh":
        return dy * (1 - y * y)
    if activation == "relu":
        return dy * (y > 0)
    raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")


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
