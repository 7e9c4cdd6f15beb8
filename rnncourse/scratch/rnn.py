"""The vanilla (Elman) recurrent layer, in NumPy: chapter 1 and 2.

One step of the recurrence, with the book's symbols:

    a_t = W_xh x_t + W_hh h_{t-1} + b_h         (pre-activation)
    h_t = f(a_t),  f = tanh or ReLU

For a batch of N row vectors this is ``h_t = f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)``.
The same ``W_xh``, ``W_hh`` and ``b_h`` are used at every step; that sharing is
what makes the layer recurrent, and why backpropagation through time adds
up one gradient contribution per step.

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_recurrent_args
from rnncourse.kinds import KIND_SPECS
from rnncourse.scratch.activations import Activation, activate, activation_backward

GATES = KIND_SPECS["rnn_tanh"].num_gates  # 1: one block of H rows, the pre-activation itself


class StepCache(NamedTuple):
    """What ``rnn_step_backward`` needs from ``rnn_step_forward``."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    W_xh: np.ndarray  # (H, D)
    W_hh: np.ndarray  # (H, H)
    h_t: np.ndarray  # (N, H), the output: f'(a) is computed from it
    activation: Activation


def rnn_step_forward(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_h: np.ndarray,
    activation: Activation = "tanh",
) -> tuple[np.ndarray, StepCache]:
    """One step: ``h_t = f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)``.

    Args:
        x_t: (N, D) inputs at this step.
        h_prev: (N, H) hidden state from the previous step.
        W_xh: (H, D) input-to-hidden weights.
        W_hh: (H, H) hidden-to-hidden weights.
        b_h: (H,) bias.
        activation: ``"tanh"`` or ``"relu"``.

    Returns:
        h_t: (N, H) the new hidden state, and the cache for the backward.

    Raises:
        ValueError: naming any argument of the wrong shape; TypeError for a
            non-float x or a dtype that differs from x's.
    """
    check_recurrent_args(x_t, ("N", "D"), {"h_prev": h_prev}, W_xh, W_hh, {"b_h": b_h}, GATES, x_name="x_t")
    h_t = activate(x_t @ W_xh.T + h_prev @ W_hh.T + b_h, activation)
    return h_t, StepCache(x_t, h_prev, W_xh, W_hh, h_t, activation)


def rnn_step_backward(
    dh_t: np.ndarray, cache: StepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one step from the gradient of its output.

    Args:
        dh_t: (N, H) dL/dh_t.
        cache: from ``rnn_step_forward``.

    Returns:
        dx_t (N, D), dh_prev (N, H), dW_xh (H, D), dW_hh (H, H), db_h (H,).
    """
    da = activation_backward(dh_t, cache.h_t, cache.activation)  # (N, H)
    dx_t = da @ cache.W_xh
    dh_prev = da @ cache.W_hh
    dW_xh = da.T @ cache.x_t
    dW_hh = da.T @ cache.h_prev
    db_h = da.sum(axis=0)
    return dx_t, dh_prev, dW_xh, dW_hh, db_h


class SequenceCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward``."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    W_xh: np.ndarray  # (H, D)
    W_hh: np.ndarray  # (H, H)
    h: np.ndarray  # (N, T, H) every hidden state h_1..h_T
    activation: Activation


def rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_h: np.ndarray,
    activation: Activation = "tanh",
) -> tuple[np.ndarray, SequenceCache]:
    """Run the recurrence over a whole sequence, starting from ``h0``.

    The input projection ``x_t @ W_xh.T + b_h`` does not depend on the
    previous state, so it is computed for all steps in one matrix product;
    only ``h_prev @ W_hh.T`` has to wait for the step before.

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden state.
        W_xh: (H, D), W_hh: (H, H), b_h: (H,) the shared parameters.
        activation: ``"tanh"`` or ``"relu"``.

    Returns:
        h: (N, T, H) hidden states h_1..h_T (not h0), and the cache.

    Raises:
        ValueError: naming any argument of the wrong shape; TypeError for a
            non-float x or a dtype that differs from x's.
    """
    N, T, _, H = check_recurrent_args(x, ("N", "T", "D"), {"h0": h0}, W_xh, W_hh, {"b_h": b_h}, GATES)
    input_part = x @ W_xh.T + b_h  # (N, T, H)
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_xh))
    h_prev = h0
    for t in range(T):
        h_prev = activate(input_part[:, t] + h_prev @ W_hh.T, activation)
        h[:, t] = h_prev
    return h, SequenceCache(x, h0, W_xh, W_hh, h, activation)


def rnn_backward(
    dh: np.ndarray, cache: SequenceCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time over the whole sequence.

    ``dh[:, t]`` is the gradient that reaches h_t from outside the layer
    (from the output at step t). Walking backwards, the gradient of h_t is
    that plus what flows back from step t+1 through ``W_hh``.

    Args:
        dh: (N, T, H) upstream gradients of every hidden state.
        cache: from ``rnn_forward``.

    Returns:
        dx (N, T, D), dh0 (N, H), dW_xh (H, D), dW_hh (H, H), db_h (H,).
    """
    x, h0, W_xh, W_hh, h, activation = cache
    T = x.shape[1]
    da = np.empty_like(h)  # dL/da_t for every step
    dh_next = np.zeros_like(h0)  # gradient reaching h_t from step t+1
    for t in reversed(range(T)):
        da[:, t] = activation_backward(dh[:, t] + dh_next, h[:, t], activation)
        dh_next = da[:, t] @ W_hh
    # The shared weights collect one contribution per step; summing them is
    # one matrix product over all N*T rows.
    h_prev = np.concatenate([h0[:, None, :], h[:, :-1]], axis=1)  # (N, T, H)
    da_rows = da.reshape(-1, da.shape[-1])
    dx = da @ W_xh
    dW_xh = da_rows.T @ x.reshape(-1, x.shape[-1])
    dW_hh = da_rows.T @ h_prev.reshape(-1, h_prev.shape[-1])
    db_h = da_rows.sum(axis=0)
    return dx, dh_next, dW_xh, dW_hh, db_h
