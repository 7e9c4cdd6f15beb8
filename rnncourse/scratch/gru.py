"""The gated recurrent unit (GRU) layer, in NumPy: chapter 5.

One step, with the book's symbols and torch's convention (sigma is the
logistic sigmoid, ⊙ the elementwise product):

    r_t = sigma(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)            reset gate
    z_t = sigma(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)            update gate
    n_t = tanh (W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t-1} + b_hn))    candidate
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

The gates are stacked in torch's order r, z, n: ``W_xh`` is (3H, D),
``W_hh`` is (3H, H), ``b_xh`` and ``b_hh`` are (3H,). Unlike the LSTM's,
the two biases cannot be merged: ``b_hn`` sits inside ``r_t ⊙ (...)``, so
it is scaled by the reset gate and ``b_xn`` is not. (Some texts apply r_t
to h_{t-1} before the product with W_hn; torch, cuDNN and this module
apply it after.)

The other variant, reset *before* the product (Cho et al. 2014, eq. 8;
Keras with ``reset_after=False``), differs in the candidate only:

    n_t = tanh (W_xn x_t + b_xn + W_hn (r_t ⊙ h_{t-1}) + b_hn)

It is a different function of the same weights, not a rearrangement: with
r_t = 0 the torch candidate still sees b_hn, and in general
W_hn (r ⊙ h) != r ⊙ (W_hn h). Its step functions are
``gru_reset_before_step_forward`` and ``..._backward`` below; here b_hn sits
outside the reset, so the two biases could be merged.

Sign of the update gate: torch, Cho et al. (2014) and Keras let z_t keep
the old state (h_t = (1 - z) n + z h_{t-1}); Chung et al. (2014) and
Wikipedia write h_t = (1 - z) h_{t-1} + z n, where z_t writes the new one.
Both are the same family of functions with z and 1 - z swapped (the
update gate's weights and bias change sign), but a port that ignores it
is wrong.

Keras stores the same numbers differently (``to_keras``, ``from_keras``):
gates in the order z, r, h instead of r, z, n; weights transposed, as
(D, 3H) ``kernel`` and (H, 3H) ``recurrent_kernel``; and with
``reset_after=True`` (its default since TensorFlow 2) a (2, 3H) ``bias``
whose row 0 is the input bias and row 1 the recurrent bias.

As for the LSTM, the step functions are the reference, written to be
read next to the equations, and the sequence functions are the fast ones
(time-major buffers, the backward writing gradients over the activations
it has used, one matrix product per shared weight). Tests prove that both
agree.

Shapes: N batch, T time steps, D input features, H hidden units.
The dtype of the inputs is kept: float32 in, float32 out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_recurrent_args
from rnncourse.kinds import KIND_SPECS
from rnncourse.scratch.activations import sigmoid

GATES = KIND_SPECS["gru"].num_gates  # 3 blocks of H rows: r, z, n (torch's order)

# ---------------------------------------------------------------------------
# One step: the reference implementation
# ---------------------------------------------------------------------------


class GRUStepCache(NamedTuple):
    """What ``gru_step_backward`` needs from ``gru_step_forward``."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    W_xh: np.ndarray  # (3H, D)
    W_hh: np.ndarray  # (3H, H)
    r: np.ndarray  # (N, H) gate activations, after their nonlinearity
    z: np.ndarray  # (N, H)
    n: np.ndarray  # (N, H)
    hn: np.ndarray  # (N, H) W_hn h_{t-1} + b_hn, which r_t multiplies


def gru_step_forward(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_xh: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUStepCache]:
    """One GRU step (equations in the module docstring).

    Args:
        x_t: (N, D) inputs at this step.
        h_prev: (N, H) hidden state h_{t-1}.
        W_xh: (3H, D) input-to-gate weights, gates stacked r, z, n.
        W_hh: (3H, H) hidden-to-gate weights, same order.
        b_xh: (3H,) input-side biases; b_hh: (3H,) hidden-side biases.

    Returns:
        h_t (N, H), and the cache for the backward.

    Raises:
        ValueError: naming any argument of the wrong shape; TypeError for a
            non-float x_t or a dtype that differs from x_t's.
    """
    biases = {"b_xh": b_xh, "b_hh": b_hh}
    *_, H = check_recurrent_args(x_t, ("N", "D"), {"h_prev": h_prev}, W_xh, W_hh, biases, GATES, x_name="x_t")
    ax = x_t @ W_xh.T + b_xh  # (N, 3H) input side of all three gates
    ah = h_prev @ W_hh.T + b_hh  # (N, 3H) hidden side
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    hn = ah[:, 2 * H :]
    n = np.tanh(ax[:, 2 * H :] + r * hn)
    h_t = (1 - z) * n + z * h_prev
    return h_t, GRUStepCache(x_t, h_prev, W_xh, W_hh, r, z, n, hn)


def gru_step_backward(
    dh_t: np.ndarray, cache: GRUStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one step from the gradient of its output.

    h_{t-1} is reached along four paths: directly through ``z ⊙ h_{t-1}``
    and through the three hidden-side pre-activations. The input side and
    the hidden side differ only for the candidate: its input side receives
    ``da_n`` and its hidden side ``da_n ⊙ r``.

    Args:
        dh_t: (N, H) dL/dh_t.
        cache: from ``gru_step_forward``.

    Returns:
        dx_t (N, D), dh_prev (N, H), dW_xh (3H, D), dW_hh (3H, H),
        db_xh (3H,), db_hh (3H,).
    """
    x_t, h_prev, W_xh, W_hh, r, z, n, hn = cache
    dn = dh_t * (1 - z)
    dz = dh_t * (h_prev - n)
    da_n = dn * (1 - n * n)
    dr = da_n * hn
    da_r = dr * r * (1 - r)
    da_z = dz * z * (1 - z)
    dax = np.concatenate([da_r, da_z, da_n], axis=1)  # gradient of the input side
    dah = np.concatenate([da_r, da_z, da_n * r], axis=1)  # and of the hidden side
    dx_t = dax @ W_xh
    dh_prev = dh_t * z + dah @ W_hh
    dW_xh = dax.T @ x_t
    dW_hh = dah.T @ h_prev
    return dx_t, dh_prev, dW_xh, dW_hh, dax.sum(axis=0), dah.sum(axis=0)


# ---------------------------------------------------------------------------
# The other variant: reset before the product (Cho et al. 2014)
# ---------------------------------------------------------------------------


class GRUResetBeforeCache(NamedTuple):
    """What ``gru_reset_before_step_backward`` needs from its forward."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    W_xh: np.ndarray  # (3H, D)
    W_hh: np.ndarray  # (3H, H)
    r: np.ndarray  # (N, H)
    z: np.ndarray  # (N, H)
    n: np.ndarray  # (N, H)


def gru_reset_before_step_forward(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_xh: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUResetBeforeCache]:
    """One GRU step with the reset gate applied to h_{t-1} before W_hn.

    ``n_t = tanh(W_xn x_t + b_xn + W_hn (r_t ⊙ h_{t-1}) + b_hn)``; the gates
    r_t, z_t and the output h_t are as in ``gru_step_forward``, with the same
    weights, shapes and gate order (r, z, n).

    Args:
        x_t: (N, D); h_prev: (N, H); W_xh: (3H, D); W_hh: (3H, H);
        b_xh, b_hh: (3H,).

    Returns h_t (N, H) and the cache for ``gru_reset_before_step_backward``;
    raises what ``gru_step_forward`` raises, for the same arguments.
    """
    biases = {"b_xh": b_xh, "b_hh": b_hh}
    *_, H = check_recurrent_args(x_t, ("N", "D"), {"h_prev": h_prev}, W_xh, W_hh, biases, GATES, x_name="x_t")
    ax = x_t @ W_xh.T + b_xh  # (N, 3H)
    a_rz = h_prev @ W_hh[: 2 * H].T + b_hh[: 2 * H]  # (N, 2H) hidden side of r and z only
    r = sigmoid(ax[:, :H] + a_rz[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + a_rz[:, H:])
    # The candidate's hidden side must wait for r: one more (N, H) x (H, H) product.
    n = np.tanh(ax[:, 2 * H :] + (r * h_prev) @ W_hh[2 * H :].T + b_hh[2 * H :])
    h_t = (1 - z) * n + z * h_prev
    return h_t, GRUResetBeforeCache(x_t, h_prev, W_xh, W_hh, r, z, n)


def gru_reset_before_step_backward(
    dh_t: np.ndarray, cache: GRUResetBeforeCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one reset-before step from the gradient of its output.

    Here the candidate's hidden side is ``W_hn (r ⊙ h_{t-1})``, so its
    gradient ``da_n`` reaches r and h_{t-1} through ``g = da_n @ W_hn``:
    ``dr = g ⊙ h_{t-1}`` and a fifth path into h_{t-1}, ``g ⊙ r``.

    Takes dh_t and the cache of ``gru_reset_before_step_forward``; returns the
    six gradients of ``gru_step_backward``, with the same shapes and order.
    """
    x_t, h_prev, W_xh, W_hh, r, z, n = cache
    H = h_prev.shape[1]
    dn = dh_t * (1 - z)
    dz = dh_t * (h_prev - n)
    da_n = dn * (1 - n * n)  # (N, H)
    g = da_n @ W_hh[2 * H :]  # (N, H) gradient of r ⊙ h_{t-1}
    da_r = g * h_prev * r * (1 - r)
    da_z = dz * z * (1 - z)
    dax = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H), also the hidden side's bias gradient
    dx_t = dax @ W_xh
    dh_prev = dh_t * z + g * r + np.concatenate([da_r, da_z], axis=1) @ W_hh[: 2 * H]
    dW_xh = dax.T @ x_t
    dW_hh = np.concatenate([np.concatenate([da_r, da_z], axis=1).T @ h_prev, da_n.T @ (r * h_prev)])
    return dx_t, dh_prev, dW_xh, dW_hh, dax.sum(axis=0), dax.sum(axis=0)


# ---------------------------------------------------------------------------
# Keras's layout, and its cell written from its own equations
# ---------------------------------------------------------------------------

#: Where torch's gate blocks (r, z, n) go in Keras's order (z, r, h).
KERAS_ORDER = (1, 0, 2)  # Keras block k holds torch block KERAS_ORDER[k]


def _reorder_blocks(a: np.ndarray, order: tuple[int, ...], axis: int) -> np.ndarray:
    """The H-sized blocks of ``a`` along ``axis``, rearranged: block k of the result is block order[k]."""
    blocks = np.split(a, GATES, axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


class KerasGRUWeights(NamedTuple):
    """The three arrays of a Keras ``GRU`` layer (``layer.get_weights()``), gates z, r, h."""

    kernel: np.ndarray  # (D, 3H)
    recurrent_kernel: np.ndarray  # (H, 3H)
    bias: np.ndarray  # (2, 3H) with reset_after=True (input row, recurrent row); (3H,) without


def to_keras(
    W_xh: np.ndarray, W_hh: np.ndarray, b_xh: np.ndarray, b_hh: np.ndarray, reset_after: bool = True
) -> KerasGRUWeights:
    """torch-layout GRU parameters as a Keras ``GRU(reset_after=...)`` layer stores them.

    With ``reset_after=True`` the two layers compute the same function.
    With ``reset_after=False`` the Keras layer is the reset-before variant,
    whose single bias is ``b_xh + b_hh`` (legitimate there, because b_hn is
    outside the reset): the port is exact for weights of the reset-before
    variant (``gru_reset_before_step_forward``), not of torch's.

    Args:
        W_xh: (3H, D), W_hh: (3H, H), b_xh: (3H,), b_hh: (3H,), gates r, z, n.
        reset_after: which Keras variant to fill.

    Returns:
        kernel (D, 3H), recurrent_kernel (H, 3H), bias (2, 3H) or (3H,).
    """
    kernel = _reorder_blocks(W_xh, KERAS_ORDER, axis=0).T
    recurrent = _reorder_blocks(W_hh, KERAS_ORDER, axis=0).T
    b_x, b_h = (_reorder_blocks(b, KERAS_ORDER, axis=0) for b in (b_xh, b_hh))
    bias = np.stack([b_x, b_h]) if reset_after else b_x + b_h
    return KerasGRUWeights(np.ascontiguousarray(kernel), np.ascontiguousarray(recurrent), bias)


def from_keras(
    kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A Keras GRU's weights in torch's layout: W_xh (3H, D), W_hh (3H, H), b_xh, b_hh (3H,).

    A (2, 3H) bias (``reset_after=True``) gives both biases; a (3H,) bias
    (``reset_after=False``) becomes b_xh, with b_hh = 0, for the reset-before
    variant. The order (z, r, h) -> (r, z, n) swaps the first two blocks,
    so the same permutation undoes itself.
    """
    W_xh = _reorder_blocks(kernel.T, KERAS_ORDER, axis=0)
    W_hh = _reorder_blocks(recurrent_kernel.T, KERAS_ORDER, axis=0)
    if bias.ndim == 2:
        b_xh, b_hh = (_reorder_blocks(row, KERAS_ORDER, axis=0) for row in bias)
    else:
        b_xh, b_hh = _reorder_blocks(bias, KERAS_ORDER, axis=0), np.zeros_like(bias)
    return W_xh, W_hh, b_xh, b_hh


def keras_gru_step(
    x_t: np.ndarray, h_prev: np.ndarray, weights: KerasGRUWeights, reset_after: bool
) -> np.ndarray:
    """One step of Keras's ``GRUCell`` (sigmoid, tanh), in Keras's own layout and order.

    Written from Keras's equations, not from the torch-layout code above, so
    that a test can prove the port: (N, D), (N, H) -> (N, H).

    x-side ``x_z, x_r, x_h = x_t @ kernel (+ input bias)``, split in three;
    ``reset_after=True``: ``hh = tanh(x_h + r ⊙ (h_prev @ U_h + b_rec_h))``;
    ``reset_after=False``: ``hh = tanh(x_h + (r ⊙ h_prev) @ U_h)``;
    then ``h = z ⊙ h_prev + (1 - z) ⊙ hh``.
    """
    kernel, recurrent, bias = weights
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    x_z, x_r, x_h = np.split(x_t @ kernel + input_bias, GATES, axis=1)
    U_z, U_r, U_h = np.split(recurrent, GATES, axis=1)
    b_z, b_r, b_h = np.split(recurrent_bias, GATES)
    z = sigmoid(x_z + h_prev @ U_z + b_z)
    r = sigmoid(x_r + h_prev @ U_r + b_r)
    if reset_after:
        hh = np.tanh(x_h + r * (h_prev @ U_h + b_h))
    else:
        hh = np.tanh(x_h + (r * h_prev) @ U_h)
    return z * h_prev + (1 - z) * hh


# ---------------------------------------------------------------------------
# A whole sequence: the fast implementation
# ---------------------------------------------------------------------------


class GRUWorkspace:
    """The large buffers of one forward pass, which its backward consumes.

    Mutable, so that ``gru_backward`` can drop them as soon as it has used
    them even while the caller still holds the cache.
    """

    def __init__(self, gates: np.ndarray, hn: np.ndarray) -> None:
        self.gates: np.ndarray | None = gates  # (T, N, 3H) r, z, n after nonlinearities
        self.hn: np.ndarray | None = hn  # (T, N, H) W_hn h_{t-1} + b_hn

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        if self.gates is None or self.hn is None:
            raise RuntimeError(
                "this GRU cache was already used by gru_backward, which consumes it "
                "(its buffers are overwritten with gradients); run gru_forward again"
            )
        gates, hn = self.gates, self.hn
        self.gates = self.hn = None
        return gates, hn

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.gates, self.hn) if a is not None)


class GRUCache(NamedTuple):
    """What ``gru_backward`` needs from ``gru_forward``. Single use."""

    x: np.ndarray  # (N, T, D)
    W_xh: np.ndarray  # (3H, D)
    W_hh: np.ndarray  # (3H, H)
    h_all: np.ndarray  # (T + 1, N, H) time-major h_0..h_T; the output h is a view of it
    work: GRUWorkspace  # gates and hidden-side candidates, consumed by the backward


def gru_forward(
    x: np.ndarray,
    h0: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_xh: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUCache]:
    """Run the GRU over a whole sequence, starting from ``h0``.

    Same maths as calling ``gru_step_forward`` T times. The input side
    ``W_xh x_t + b_xh`` is computed for all steps in one matrix product,
    straight into the time-major gate buffer; each step adds the hidden side.

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden state.
        W_xh: (3H, D), W_hh: (3H, H), b_xh: (3H,), b_hh: (3H,) shared
            parameters, gates r, z, n.

    Returns:
        h: (N, T, H) hidden states h_1..h_T (a batch-first view of a
        time-major buffer, so not C-contiguous), and the cache (usable by
        one ``gru_backward`` call).

    Raises:
        ValueError: naming any argument of the wrong shape; TypeError for a
            non-float x or a dtype that differs from x's.
    """
    biases = {"b_xh": b_xh, "b_hh": b_hh}
    N, T, D, H = check_recurrent_args(x, ("N", "T", "D"), {"h0": h0}, W_xh, W_hh, biases, GATES)
    dtype = np.result_type(x, h0, W_xh, W_hh, b_xh, b_hh)

    gates = np.empty((T, N, 3 * H), dtype=dtype)
    x_rows = x.transpose(1, 0, 2).reshape(T * N, D)  # a time-major copy of x
    np.matmul(x_rows, W_xh.T, out=gates.reshape(T * N, 3 * H))
    del x_rows
    gates += b_xh
    W_hh_T = np.ascontiguousarray(W_hh.T)  # (H, 3H): faster in BLAS than a transposed view
    hn = np.empty((T, N, H), dtype=dtype)
    h_all = np.empty((T + 1, N, H), dtype=dtype)
    h_all[0] = h0
    hidden_side = np.empty((N, 3 * H), dtype=dtype)  # W_hh h_{t-1} + b_hh, reused

    for t in range(T):
        a, h_prev, h_t = gates[t], h_all[t], h_all[t + 1]
        np.matmul(h_prev, W_hh_T, out=hidden_side)
        hidden_side += b_hh
        rz = a[:, : 2 * H]  # r and z side by side: they share their formula
        rz += hidden_side[:, : 2 * H]
        sigmoid(rz, out=rz)
        r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
        hn[t] = hidden_side[:, 2 * H :]
        n += np.multiply(r, hn[t], out=h_t)  # h_t's slot as scratch, filled below
        np.tanh(n, out=n)
        # h_t = (1 - z) ⊙ n + z ⊙ h_{t-1} = n + z ⊙ (h_{t-1} - n): one product fewer
        np.subtract(h_prev, n, out=h_t)
        h_t *= z
        h_t += n

    h = h_all[1:].transpose(1, 0, 2)
    return h, GRUCache(x, W_xh, W_hh, h_all, GRUWorkspace(gates, hn))


def gru_backward(
    dh: np.ndarray, cache: GRUCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time over the whole sequence.

    The formulas are those of ``gru_step_backward``. Each step overwrites
    its gate activations with the gradients of the input-side
    pre-activations (``da_r, da_z, da_n``) and its ``hn`` slot with
    ``da_n ⊙ r``, the only part in which the hidden side differs; the
    shared weights then collect all T contributions in one matrix product
    each.

    The cache is consumed: its buffers are overwritten and released, and a
    second call with the same cache raises RuntimeError.

    Args:
        dh: (N, T, H) upstream gradients of every hidden state.
        cache: from ``gru_forward``.

    Returns:
        dx (N, T, D) (a batch-first view of a time-major array), dh0 (N, H),
        dW_xh (3H, D), dW_hh (3H, H), db_xh (3H,), db_hh (3H,).
    """
    x, W_xh, W_hh, h_all, work = cache
    gates, hn = work.take()
    T, N, H = hn.shape
    dtype = gates.dtype

    dh_next = np.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t+1
    dh_t = np.empty((N, H), dtype=dtype)
    direct = np.empty((N, H), dtype=dtype)  # dh_t ⊙ z, the path that skips the gates
    dn = np.empty((N, H), dtype=dtype)
    scratch = np.empty((N, H), dtype=dtype)
    dah = np.empty((N, 3 * H), dtype=dtype)  # gradient of the hidden side, one step

    for t in reversed(range(T)):
        r, z, n = (gates[t][:, k * H : (k + 1) * H] for k in range(3))
        h_prev = h_all[t]
        np.add(dh[:, t], dh_next, out=dh_t)
        np.multiply(dh_t, z, out=direct)

        # Each gate's slot becomes dL/da of its input-side pre-activation, in
        # an order that reads every activation before it is overwritten.
        np.subtract(1, z, out=scratch)
        np.multiply(dh_t, scratch, out=dn)  # dn = dh_t ⊙ (1 - z)
        # da_z = dh_t ⊙ (h_{t-1} - n) ⊙ z (1 - z), while n is still n
        z *= scratch
        np.subtract(h_prev, n, out=scratch)
        scratch *= dh_t
        z *= scratch
        # da_n = dn ⊙ (1 - n^2)
        np.multiply(n, n, out=scratch)
        np.subtract(1, scratch, out=scratch)
        np.multiply(dn, scratch, out=n)
        # da_r = da_n ⊙ hn ⊙ r (1 - r); the hidden side's candidate gradient
        # da_n ⊙ r goes over hn, whose last use this is.
        dr = np.multiply(n, hn[t], out=dn)
        np.multiply(n, r, out=hn[t])
        np.subtract(1, r, out=scratch)
        r *= scratch
        r *= dr

        # dh_{t-1} = dh_t ⊙ z + (gradient of the hidden side) @ W_hh
        dah[:, : 2 * H] = gates[t][:, : 2 * H]
        dah[:, 2 * H :] = hn[t]
        np.matmul(dah, W_hh, out=dh_next)
        dh_next += direct

    # Input side: the gate buffer now holds da_r, da_z, da_n for every step.
    # Hidden side: the same for r and z, and hn holds da_n ⊙ r.
    da_rows = gates.reshape(T * N, 3 * H)
    dhn_rows = hn.reshape(T * N, H)
    h_prev_rows = h_all[:-1].reshape(T * N, H)
    db_xh = da_rows.sum(axis=0)
    db_hh = np.concatenate([da_rows[:, : 2 * H].sum(axis=0), dhn_rows.sum(axis=0)])
    dW_hh = np.empty((3 * H, H), dtype=dtype)
    np.matmul(da_rows[:, : 2 * H].T, h_prev_rows, out=dW_hh[: 2 * H])
    np.matmul(dhn_rows.T, h_prev_rows, out=dW_hh[2 * H :])
    del hn, dhn_rows
    # A time-major copy of x (the size of dx; none if x is already a
    # time-major view, as h is) makes dW_xh one matrix product; it is freed
    # before dx is allocated.
    x_rows = x.transpose(1, 0, 2).reshape(T * N, -1)
    dW_xh = da_rows.T @ x_rows
    del x_rows
    # One large product, time-major, returned batch-first as a view (like h):
    # faster than N products of one sequence each, and no copy.
    dx = (da_rows @ W_xh).reshape(T, N, -1).transpose(1, 0, 2)
    return dx, dh_next, dW_xh, dW_hh, db_xh, db_hh
