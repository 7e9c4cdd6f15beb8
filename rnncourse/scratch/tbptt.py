"""Truncated backpropagation through time, for a ``RecurrentLayer`` or a stack of them.

The sequence is cut into chunks of k steps; each chunk runs forward from the
final state of the chunk before and backward at once, and no gradient
crosses a chunk boundary (see ``truncated_bptt``).

The second half is the smallest whole example, for the vanilla RNN language
model of chapter 2: the loss at every step and its gradients by full BPTT
(``rnn_lm_loss_and_grads``), and truncated BPTT with an SGD update after every
chunk and the state carried across (``rnn_lm_tbptt_sgd``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from rnncourse.checks import check_lengths, check_shape
from rnncourse.scratch.activations import softmax
from rnncourse.scratch.optim import clip_by_global_norm
from rnncourse.scratch.recurrent import RecurrentLayer
from rnncourse.scratch.rnn import rnn_backward, rnn_forward
from rnncourse.scratch.stacked import Bidirectional, StackedRecurrent

Model = RecurrentLayer | StackedRecurrent
ChunkLoss = Callable[[np.ndarray, int, int], tuple[float, np.ndarray, dict[str, np.ndarray]]]


class TBPTTResult(NamedTuple):
    """What ``truncated_bptt`` returns."""

    loss: float  # sum of the chunk losses
    grads: dict[str, np.ndarray]  # the model's and the loss head's, summed over chunks
    dx: np.ndarray  # (N, T, D) gradient of the inputs, within chunks only
    final_state: Any  # the model's state after the last chunk, to continue from


def truncated_bptt(
    model: Model,
    x: np.ndarray,
    k: int,
    chunk_loss: ChunkLoss,
    state: Any = None,
    lengths: np.ndarray | None = None,
) -> TBPTTResult:
    """Backpropagation through time over consecutive chunks of k steps.

    The sequence is cut into chunks ``[0, k), [k, 2k), ...`` (the last may be
    shorter). Each chunk runs forward from the final state of the chunk
    before, computes its loss, and runs backward at once; the gradient of its
    initial state is dropped, so no gradient crosses a chunk boundary. The
    state is carried across as a constant: the chunk after sees the right
    *values*, but how they depended on the parameters is forgotten.

    What this buys: backward of a chunk needs only that chunk's caches, so
    memory is O(N k H) instead of O(N T H), and a gradient is available after
    every k steps, so a stream of any length (a whole book of text) can be
    trained on by calling this once per stretch and passing ``final_state`` on.
    The work per step is the same as full BPTT; what is bounded is how far
    back each gradient travels (at most k steps) and how much is kept.

    What it gives up: the loss at step t sends no gradient to steps before the
    start of its chunk, so the parameters are never pushed to make the state
    carry information across more than k steps (at best the model keeps such
    dependencies by accident). The gradient is biased towards short-range
    structure; choose k longer than the dependencies that matter. With
    ``k >= T`` this is exactly full BPTT.

    Args:
        model: a ``RecurrentLayer`` or a unidirectional ``StackedRecurrent``. A
            bidirectional model cannot be truncated: its reverse direction
            needs the future of the whole sequence.
        x: (N, T, D) inputs.
        k: chunk length >= 1.
        chunk_loss: ``chunk_loss(h_chunk, t0, t1) -> (loss, dh_chunk, head_grads)``
            for the model's outputs ``h_chunk`` (N, t1 - t0, H) at steps
            ``[t0, t1)``; ``head_grads`` are the gradients of any parameters of
            its own (e.g. an output layer), named apart from the model's. To get
            the mean over the whole sequence, divide by the total number of
            positions there rather than by the chunk's.
        state: the model's initial state (zeros when None).
        lengths: (N,) real lengths for a padded batch, or None.

    Returns:
        ``TBPTTResult(loss, grads, dx, final_state)``.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    layers = model.layers if isinstance(model, StackedRecurrent) else [model]
    if any(isinstance(layer, Bidirectional) for layer in layers):
        raise ValueError("a bidirectional model cannot be trained with truncated BPTT")
    N, T, _ = check_shape("x", x, {"N": None, "T": None, "D": None})
    checked_lengths = check_lengths(lengths, N, T)
    total_loss = 0.0
    grads: dict[str, np.ndarray] = {}
    dx_chunks = []
    for t0 in range(0, T, k):
        t1 = min(t0 + k, T)
        chunk_lengths = None if checked_lengths is None else np.clip(checked_lengths - t0, 0, t1 - t0)
        final: Any  # a State or a list of them, the model's own structure
        backward: Callable[[np.ndarray], tuple[np.ndarray, Any, dict[str, np.ndarray]]]
        if isinstance(model, StackedRecurrent):
            h, final, stack_cache = model.forward(x[:, t0:t1], state, chunk_lengths)
            backward = partial(model.backward, cache=stack_cache)
        else:
            h, final, layer_cache = model.forward(x[:, t0:t1], state, chunk_lengths)
            backward = partial(model.backward, cache=layer_cache)
        loss, dh, head_grads = chunk_loss(h, t0, t1)
        # The gradient of the chunk's initial state (second value) is where
        # the truncation happens: it is dropped instead of being passed back.
        dx, _, model_grads = backward(dh)
        clash = set(head_grads) & set(model_grads)
        if clash:
            raise KeyError(f"chunk_loss gradients reuse model parameter names: {sorted(clash)}")
        for name, g in {**model_grads, **head_grads}.items():
            grads[name] = grads[name] + g if name in grads else g.copy()
        total_loss += loss
        dx_chunks.append(dx)
        state = final
    dx_all = np.concatenate(dx_chunks, axis=1) if dx_chunks else np.zeros_like(x)
    return TBPTTResult(total_loss, grads, dx_all, state)


# -- A vanilla RNN language model: full BPTT with a loss at every step, and truncated SGD --

#: The parameters of :func:`rnn_lm_loss_and_grads`, by name: W_xh (H, D), W_hh (H, H),
#: b_h (H,), W_hy (C, H), b_y (C,).
RNN_LM_PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def rnn_lm_loss_and_grads(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    h0: np.ndarray,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss of a tanh RNN with a softmax readout at every step, and its gradients by BPTT.

        h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),   z_t = W_hy h_t + b_y,
        L = (1 / N) sum_{n,t} m_{n,t} (-log softmax(z_{n,t})[y_{n,t}])

    The loss is *summed over time* and averaged over the batch: L = sum_t L_t,
    as in the derivation. The backward walks t = T..1 with the adjoint

        delta_t = dL/dh_t (total) = W_hy^T dz_t + W_hh^T (f'(a_{t+1}) * delta_{t+1}),

    and every shared parameter collects one term per step.

    Args:
        params: the arrays named in :data:`RNN_LM_PARAMS`.
        x: (N, T, D) inputs (one-hot characters, or embeddings).
        targets: (N, T) integer classes in [0, C).
        mask: (N, T) 1 at real positions, 0 at padding; None for all real.
        h0: (N, H) initial state.

    Returns:
        loss, grads (every parameter and ``"h0"``), and h_T (N, H), the state
        to carry into the next chunk.
    """
    N, T, _ = check_shape("x", x, {"N": None, "T": None, "D": None})
    check_shape("targets", targets, {"N": N, "T": T})
    m = np.ones((N, T)) if mask is None else np.asarray(mask, dtype=np.float64)
    check_shape("mask", m, {"N": N, "T": T})
    W_hy, b_y = params["W_hy"], params["b_y"]
    h, cache = rnn_forward(x, h0, params["W_xh"], params["W_hh"], params["b_h"])  # (N, T, H)
    logits = h @ W_hy.T + b_y  # (N, T, C)
    p = softmax(logits)
    picked = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]  # (N, T)
    loss = float(-np.sum(m * np.log(picked)) / N)
    dlogits = p.copy()
    np.put_along_axis(dlogits, targets[..., None], np.take_along_axis(p, targets[..., None], -1) - 1, -1)
    dlogits *= m[..., None] / N  # (N, T, C): softmax - onehot, weighted
    dh = dlogits @ W_hy  # (N, T, H): the immediate dL_t/dh_t of every step
    _, dh0, dW_xh, dW_hh, db_h = rnn_backward(dh, cache)
    grads = {
        "W_xh": dW_xh,
        "W_hh": dW_hh,
        "b_h": db_h,
        "W_hy": dlogits.reshape(-1, dlogits.shape[-1]).T @ h.reshape(-1, h.shape[-1]),
        "b_y": dlogits.sum(axis=(0, 1)),
        "h0": dh0,
    }
    return loss, grads, h[:, -1]


def rnn_lm_tbptt_sgd(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray,
    k: int,
    lr: float,
    max_norm: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[float]]:
    """Truncated BPTT with an update after every chunk of k steps, the state carried across.

    For each chunk ``[t0, t0 + k)``: the loss and gradients from the state the
    previous chunk ended in (``h0`` for the first), gradients of the
    parameters clipped to global norm ``max_norm`` (the gradient of the
    chunk's initial state is *not* passed back: that is the detach), then
    ``theta <- theta - lr g``; the next chunk runs with the new parameters.

    Args:
        params: as :func:`rnn_lm_loss_and_grads` (not modified).
        x: (N, T, D), targets: (N, T), h0: (N, H).
        k: chunk length >= 1. lr: learning rate. max_norm: clipping threshold.

    Returns:
        the new parameters (new arrays), the final state (N, H), and the loss of
        every chunk (before its update).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    params = {name: params[name].copy() for name in RNN_LM_PARAMS}
    h, losses = h0, []
    for t0 in range(0, x.shape[1], k):
        loss, grads, h = rnn_lm_loss_and_grads(params, x[:, t0 : t0 + k], targets[:, t0 : t0 + k], None, h)
        grads.pop("h0")  # the boundary: nothing flows into the previous chunk
        clipped, _ = clip_by_global_norm(grads, max_norm)
        params = {name: params[name] - lr * clipped[name] for name in RNN_LM_PARAMS}
        losses.append(loss)
    return params, h, losses
