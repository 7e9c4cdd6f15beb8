"""The long short-term memory (LSTM) layer, in NumPy: chapter 4.

One step, with the book's symbols (sigma is the logistic sigmoid, ⊙ the
elementwise product):

    i_t = sigma(W_xi x_t + W_hi h_{t-1} + b_i)     input gate
    f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f)     forget gate
    g_t = tanh (W_xg x_t + W_hg h_{t-1} + b_g)     candidate cell
    o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o)     output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

The four gates are stacked in one matrix each, in torch's order i, f, g, o:
``W_xh = [W_xi; W_xf; W_xg; W_xo]`` is (4H, D), ``W_hh`` is (4H, H) and
``b`` is (4H,). torch.nn.LSTM keeps two bias vectors, ``b_ih`` and ``b_hh``;
they only ever appear summed, so ``b = b_ih + b_hh`` and the gradient of
each of them is ``db``.

Two implementations of the same maths live here:

- ``lstm_step_forward``/``lstm_step_backward`` are the reference: one step,
  written to be read next to the equations.
- ``lstm_forward``/``lstm_backward`` run a whole sequence and are written
  for speed and memory: gate activations live in one time-major buffer,
  the backward overwrites that buffer with the gate gradients as it walks
  back through time, and the shared weights get their gradients from one
  large matrix product at the end. Tests prove that both agree.

Shapes: N batch, T time steps, D input features, H hidden units.
The dtype of the inputs is kept: float32 in, float32 out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_recurrent_args
from rnncourse.kinds import KIND_SPECS
from rnncourse.scratch.activations import sigmoid

GATES = KIND_SPECS["lstm"].num_gates  # 4 blocks of H rows: i, f, g, o (torch's order)

# ---------------------------------------------------------------------------
# One step: the reference implementation
# ---------------------------------------------------------------------------


class LSTMStepCache(NamedTuple):
    """What ``lstm_step_backward`` needs from ``lstm_step_forward``."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    W_xh: np.ndarray  # (4H, D)
    W_hh: np.ndarray  # (4H, H)
    i: np.ndarray  # (N, H) gate activations, after their nonlinearity
    f: np.ndarray  # (N, H)
    g: np.ndarray  # (N, H)
    o: np.ndarray  # (N, H)
    tanh_c: np.ndarray  # (N, H) tanh(c_t)


def lstm_step_forward(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    """One LSTM step (equations in the module docstring).

    Args:
        x_t: (N, D) inputs at this step.
        h_prev: (N, H) hidden state h_{t-1}.
        c_prev: (N, H) cell state c_{t-1}.
        W_xh: (4H, D) input-to-gate weights, gates stacked i, f, g, o.
        W_hh: (4H, H) hidden-to-gate weights, same order.
        b: (4H,) gate biases, same order.

    Returns:
        h_t (N, H), c_t (N, H), and the cache for the backward.

    Raises:
        ValueError: naming any argument of the wrong shape; TypeError for a
            non-float x_t or a dtype that differs from x_t's.
    """
    states = {"h_prev": h_prev, "c_prev": c_prev}
    *_, H = check_recurrent_args(x_t, ("N", "D"), states, W_xh, W_hh, {"b": b}, GATES, x_name="x_t")
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b  # (N, 4H) all four pre-activations
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    h_t = o * tanh_c
    return h_t, c_t, LSTMStepCache(x_t, h_prev, c_prev, W_xh, W_hh, i, f, g, o, tanh_c)


def lstm_step_backward(
    dh_t: np.ndarray, dc_t: np.ndarray | None, cache: LSTMStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one step from the gradients of its two outputs.

    The cell state receives gradient along two paths: directly from the
    next step (``dc_t``) and through h_t = o ⊙ tanh(c_t). Their sum is
    the gradient of c_t, from which the gates' gradients follow; the
    nonlinearities' derivatives are computed from their outputs
    (sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2).

    Args:
        dh_t: (N, H) dL/dh_t.
        dc_t: (N, H) dL/dc_t from the next step, or None for zero.
        cache: from ``lstm_step_forward``.

    Returns:
        dx_t (N, D), dh_prev (N, H), dc_prev (N, H),
        dW_xh (4H, D), dW_hh (4H, H), db (4H,).
    """
    x_t, h_prev, c_prev, W_xh, W_hh, i, f, g, o, tanh_c = cache
    dc = dh_t * o * (1 - tanh_c * tanh_c)
    if dc_t is not None:
        dc = dc + dc_t
    do = dh_t * tanh_c
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    # Back through the nonlinearities to the pre-activations, stacked i, f, g, o.
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
    dx_t = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x_t
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx_t, dh_prev, dc_prev, dW_xh, dW_hh, db


# ---------------------------------------------------------------------------
# A whole sequence: the fast implementation
# ---------------------------------------------------------------------------


class LSTMWorkspace:
    """The large buffers of one forward pass, which its backward consumes.

    Kept in a small mutable object (not directly in the NamedTuple) so that
    ``lstm_backward`` can drop them as soon as it has used them: the memory
    is returned even while the caller still holds the cache.
    """

    def __init__(self, gates: np.ndarray, c: np.ndarray) -> None:
        self.gates: np.ndarray | None = gates  # (T, N, 4H) i, f, g, o after nonlinearities
        self.c: np.ndarray | None = c  # (T, N, H) cell states c_1..c_T

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        if self.gates is None or self.c is None:
            raise RuntimeError(
                "this LSTM cache was already used by lstm_backward, which consumes it "
                "(its buffers are overwritten with gradients); run lstm_forward again"
            )
        gates, c = self.gates, self.c
        self.gates = self.c = None
        return gates, c

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.gates, self.c) if a is not None)


class LSTMCache(NamedTuple):
    """What ``lstm_backward`` needs from ``lstm_forward``. Single use."""

    x: np.ndarray  # (N, T, D)
    c0: np.ndarray  # (N, H)
    W_xh: np.ndarray  # (4H, D)
    W_hh: np.ndarray  # (4H, H)
    h_all: np.ndarray  # (T + 1, N, H) time-major h_0..h_T; the output h is a view of it
    work: LSTMWorkspace  # gates and cell states, consumed by the backward


def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, LSTMCache]:
    """Run the LSTM over a whole sequence, starting from ``h0`` and ``c0``.

    Same maths as calling ``lstm_step_forward`` T times, arranged for speed:

    - The input part of every pre-activation, ``W_xh x_t + b``, does not
      depend on the previous state, so it is computed for all steps in one
      matrix product, straight into the gate buffer; each step then only
      adds ``W_hh h_{t-1}``.
    - The buffer is time-major, (T, N, 4H), so one step's gates are one
      contiguous block, and elementwise work runs over whole blocks.
    - All four nonlinearities are one ``tanh`` over the block: since
      sigma(a) = (1 + tanh(a / 2)) / 2, the rows of the sigmoid gates
      (i, f, o) in the weights and bias are halved once, up front; after the
      tanh, those gates are mapped from (-1, 1) to (0, 1) by ``* 1/2 + 1/2``
      and the candidate g is left as it is (``* 1 + 0``).

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden state.
        c0: (N, H) initial cell state.
        W_xh: (4H, D), W_hh: (4H, H), b: (4H,) shared parameters, gates i, f, g, o.

    Returns:
        h: (N, T, H) hidden states h_1..h_T (a batch-first view of a
        time-major buffer, so not C-contiguous), c_T: (N, H) the last
        cell state, and the cache (usable by one ``lstm_backward`` call).

    Raises:
        ValueError: naming any argument of the wrong shape; TypeError for a
            non-float x or a dtype that differs from x's.
    """
    states = {"h0": h0, "c0": c0}
    N, T, D, H = check_recurrent_args(x, ("N", "T", "D"), states, W_xh, W_hh, {"b": b}, GATES)
    dtype = np.result_type(x, h0, c0, W_xh, W_hh, b)

    # Per column of the (N, 4H) block: the scale of the pre-activation
    # before the tanh, and the map ``* scale + shift`` after it. The sigmoid
    # gates have 1/2 and 1/2, the candidate g has 1 and 0.
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1
    shift = np.full(4 * H, 0.5, dtype=dtype)
    shift[2 * H : 3 * H] = 0
    # Halving is exact in floating point, so these are the same products.
    W_xh_T = (W_xh * scale[:, None]).T  # (D, 4H)
    W_hh_T = np.ascontiguousarray((W_hh * scale[:, None]).T)  # (H, 4H), BLAS-friendly

    gates = np.empty((T, N, 4 * H), dtype=dtype)
    x_rows = x.transpose(1, 0, 2).reshape(T * N, D)  # a time-major copy of x
    np.matmul(x_rows, W_xh_T, out=gates.reshape(T * N, 4 * H))
    del x_rows
    gates += b * scale
    h_all = np.empty((T + 1, N, H), dtype=dtype)
    h_all[0] = h0
    c = np.empty((T, N, H), dtype=dtype)
    recurrent = np.empty((N, 4 * H), dtype=dtype)  # W_hh h_{t-1}, reused every step
    scratch = np.empty((N, H), dtype=dtype)

    c_prev = c0
    for t in range(T):
        a = gates[t]
        a += np.matmul(h_all[t], W_hh_T, out=recurrent)
        # Nonlinearities in place: the pre-activations are not needed again,
        # because every derivative is computed from the activations.
        np.tanh(a, out=a)
        a *= scale  # i, f, o: (1 + tanh(a/2)) / 2 = sigma(a); g: tanh(a), untouched
        a += shift
        i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
        c_t = c[t]
        np.multiply(f, c_prev, out=c_t)  # c_t = f ⊙ c_{t-1} + i ⊙ g
        c_t += np.multiply(i, g, out=scratch)
        np.multiply(o, np.tanh(c_t, out=scratch), out=h_all[t + 1])  # h_t = o ⊙ tanh(c_t)
        c_prev = c_t

    h = h_all[1:].transpose(1, 0, 2)
    return h, c[-1].copy(), LSTMCache(x, c0, W_xh, W_hh, h_all, LSTMWorkspace(gates, c))


def lstm_backward(
    dh: np.ndarray, cache: LSTMCache, dc_T: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time over the whole sequence.

    Walking backwards, the gradient of h_t is ``dh[:, t]`` plus what flows
    back from step t+1 through ``W_hh``; the gradient of c_t is what flows
    back from c_{t+1} (through f_{t+1}) plus the path through h_t. The
    formulas are those of ``lstm_step_backward``, grouped over the four
    gates: the gradient of the pre-activations is, column by column,

        da = [dc ⊙ g, dc ⊙ c_{t-1}, dc ⊙ i, dh_t ⊙ tanh(c_t)]      (reaching i, f, g, o)
           ⊙ [i (1 - i), f (1 - f), 1 - g^2, o (1 - o)]            (their slopes)

    Each step writes ``da`` over its own gate activations, which it was the
    last to need, so no second (T, N, 4H) buffer exists. The shared weights
    then collect all T contributions in one matrix product each:
    ``dW_xh = sum_t da_t^T x_t``, ``dW_hh = sum_t da_t^T h_{t-1}``.

    The cache is consumed: its buffers are overwritten and released, and a
    second call with the same cache raises RuntimeError.

    Args:
        dh: (N, T, H) upstream gradients of every hidden state.
        cache: from ``lstm_forward``.
        dc_T: (N, H) upstream gradient of the last cell state c_T, or None.

    Returns:
        dx (N, T, D) (a batch-first view of a time-major array), dh0 (N, H), dc0 (N, H),
        dW_xh (4H, D), dW_hh (4H, H), db (4H,).
    """
    x, c0, W_xh, W_hh, h_all, work = cache
    gates, c = work.take()
    T, N, H = c.shape
    dtype = gates.dtype

    dh_next = np.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t+1
    dc = np.zeros((N, H), dtype=dtype)  # gradient of c_t: from step t+1, then in total
    if dc_T is not None:
        dc += dc_T
    dh_t = np.empty((N, H), dtype=dtype)
    scratch = np.empty((N, H), dtype=dtype)
    reaching = np.empty((N, 4 * H), dtype=dtype)  # gradient reaching each gate's activation
    slope = np.empty((N, 4 * H), dtype=dtype)  # derivative of each gate's nonlinearity
    to_i, to_f, to_g, to_o = (reaching[:, k * H : (k + 1) * H] for k in range(4))
    W_hh = np.ascontiguousarray(W_hh)

    for t in reversed(range(T)):
        a = gates[t]
        i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
        c_prev = c[t - 1] if t > 0 else c0
        # c[t] was last needed as c_prev by step t+1, already done: reuse it.
        tanh_c = np.tanh(c[t], out=c[t])
        np.add(dh[:, t], dh_next, out=dh_t)

        # dc_t = (from step t+1) + dh_t ⊙ o ⊙ (1 - tanh^2 c_t)
        np.multiply(tanh_c, tanh_c, out=scratch)
        np.subtract(1, scratch, out=scratch)
        scratch *= o
        scratch *= dh_t
        dc += scratch

        np.multiply(dc, g, out=to_i)
        np.multiply(dc, c_prev, out=to_f)
        np.multiply(dc, i, out=to_g)
        np.multiply(dh_t, tanh_c, out=to_o)
        np.subtract(1, a, out=slope)  # s (1 - s) for every column, then fix g's
        slope *= a
        slope_g = slope[:, 2 * H : 3 * H]
        np.multiply(g, g, out=slope_g)
        np.subtract(1, slope_g, out=slope_g)
        dc *= f  # dc_{t-1} = dc_t ⊙ f_t, the last use of the activations
        np.multiply(reaching, slope, out=a)

        np.matmul(a, W_hh, out=dh_next)
    del c  # every step is done with the cell states

    da_rows = gates.reshape(T * N, 4 * H)
    db = da_rows.sum(axis=0)
    dW_hh = da_rows.T @ h_all[:-1].reshape(T * N, H)
    # A time-major copy of x (the size of dx; none if x is already a
    # time-major view, as h is) makes dW_xh one matrix product; it is freed
    # before dx is allocated.
    x_rows = x.transpose(1, 0, 2).reshape(T * N, -1)
    dW_xh = da_rows.T @ x_rows
    del x_rows
    # One large product, time-major, returned batch-first as a view (like h):
    # faster than N products of one sequence each, and no copy.
    dx = (da_rows @ W_xh).reshape(T, N, -1).transpose(1, 0, 2)
    return dx, dh_next, dc, dW_xh, dW_hh, db
