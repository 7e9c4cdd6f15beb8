"""Truncated backpropagation through time, for a ``RecurrentLayer`` or a stack of them.

The sequence is cut into chunks of k steps; each chunk runs forward from the
final state of the chunk before and backward at once, and no gradient
crosses a chunk boundary (see ``truncated_bptt``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from rnncourse.scratch.recurrent import RecurrentLayer
from rnncourse.scratch.shapes import check_lengths, check_shape
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
