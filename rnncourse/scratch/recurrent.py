"""One interface over the recurrent layers, so that the rest is written once.

``rnn.py``, ``lstm.py`` and ``gru.py`` each have their own forward/backward
pair with their own parameters and state (an LSTM carries a cell state c
besides h). ``RecurrentLayer`` wraps any of them behind the same methods

    forward(x, state, lengths)          -> (h_seq, final_state, cache)
    backward(dh_seq, cache, dfinal)     -> (dx, dstate0, grads)

on which ``stacked.py`` (stacked and bidirectional layers) and ``tbptt.py``
(truncated backpropagation through time) are built, once for all kinds.

Padded batches: sequence n has ``lengths[n]`` real steps followed by
padding. Its state stops at its own last step, ``h_t = h_{t-1}`` for
``t >= lengths[n]``, its outputs there are 0 (as
``torch.nn.utils.rnn.pad_packed_sequence`` gives) and no gradient reaches or
leaves the padding.

Parameters and gradients are dictionaries ``name -> array`` (``"W_xh"``,
``"W_hh"`` and the kind's biases, see ``rnncourse.kinds``), ready for the
optimizers in ``optim.py``. Shapes: N batch, T time steps, D input features,
H hidden units; states are ``(N, H)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_floating, check_lengths, check_same_dtype, check_shape
from rnncourse.kinds import Kind, init_bound, numpy_param_shapes, spec
from rnncourse.scratch.gru import GRUCache, gru_backward, gru_forward
from rnncourse.scratch.lstm import LSTMCache, lstm_backward, lstm_forward
from rnncourse.scratch.rnn import SequenceCache, rnn_backward, rnn_forward

KindCache = SequenceCache | LSTMCache | GRUCache


class State(NamedTuple):
    """The recurrent state of one layer: h (N, H), and for an LSTM also c (N, H)."""

    h: np.ndarray
    c: np.ndarray | None = None


def param_shapes(kind: Kind, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter of one layer, in the order its forward takes them."""
    return numpy_param_shapes(kind, input_size, hidden_size)


def init_params(
    kind: Kind,
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    dtype: np.dtype | type = np.float64,
) -> dict[str, np.ndarray]:
    """Parameters of one layer, every entry uniform in (-1/sqrt(H), 1/sqrt(H)) as in torch.nn.

    The bound (``rnncourse.kinds.init_bound``) shrinks with H so that a
    pre-activation, a sum of H terms ``W_hh[i, j] h_j`` with |h_j| <= 1, stays
    of order 1 whatever the width.

    Args:
        kind: ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``.
        input_size: D. hidden_size: H.
        rng: the source of randomness, e.g. ``np.random.default_rng(0)``.
        dtype: of every array.

    Returns:
        ``W_xh`` (G H, D), ``W_hh`` (G H, H) with G = 1, 4, 3 for RNN, LSTM, GRU,
        and the biases: ``b_h`` (H,) for the RNN, ``b`` (4H,) for the LSTM,
        ``b_xh`` and ``b_hh`` (3H,) for the GRU.
    """
    bound = init_bound(hidden_size)
    return {
        name: rng.uniform(-bound, bound, size=shape).astype(dtype)
        for name, shape in param_shapes(kind, input_size, hidden_size).items()
    }


def _sequence_forward(
    kind: str, p: Mapping[str, np.ndarray], x: np.ndarray, state: State
) -> tuple[np.ndarray, State, KindCache]:
    """Run the forward of ``kind`` over all T >= 1 steps of ``x``."""
    if kind == "lstm":
        assert state.c is not None  # RecurrentLayer.forward checked it
        h, c_T, lstm_cache = lstm_forward(x, state.h, state.c, p["W_xh"], p["W_hh"], p["b"])
        return h, State(h[:, -1], c_T), lstm_cache
    if kind == "gru":
        h, gru_cache = gru_forward(x, state.h, p["W_xh"], p["W_hh"], p["b_xh"], p["b_hh"])
        return h, State(h[:, -1]), gru_cache
    nonlinearity = spec(kind).nonlinearity
    assert nonlinearity is not None  # a vanilla RNN has one
    h, rnn_cache = rnn_forward(x, state.h, p["W_xh"], p["W_hh"], p["b_h"], nonlinearity)
    return h, State(h[:, -1]), rnn_cache


def _sequence_backward(
    dh: np.ndarray, cache: KindCache, dc_T: np.ndarray | None
) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
    """Backward of ``_sequence_forward``; the gradient of h_T is already in ``dh[:, -1]``."""
    if isinstance(cache, LSTMCache):
        dx, dh0, dc0, dW_xh, dW_hh, db = lstm_backward(dh, cache, dc_T)
        return dx, State(dh0, dc0), {"W_xh": dW_xh, "W_hh": dW_hh, "b": db}
    if isinstance(cache, GRUCache):
        dx, dh0, dW_xh, dW_hh, db_xh, db_hh = gru_backward(dh, cache)
        grads = {"W_xh": dW_xh, "W_hh": dW_hh, "b_xh": db_xh, "b_hh": db_hh}
        return dx, State(dh0), grads
    dx, dh0, dW_xh, dW_hh, db_h = rnn_backward(dh, cache)
    return dx, State(dh0), {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h}


def reverse_padded(x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """Reverse every sequence in time within its own length; padding stays at the end.

    ``out[n, t] = x[n, L_n - 1 - t]`` for ``t < L_n`` and ``out[n, t] = x[n, t]``
    after. The map is its own inverse, and it is a permutation of the steps,
    so it is also its own backward: apply it to the gradient.

    Args:
        x: (N, T, ...) batch-first sequences.
        lengths: (N,) real lengths, or None when every sequence has T steps.

    Returns:
        Array of the shape of ``x`` (a copy, or a reversed view without lengths).
    """
    if lengths is None:
        return x[:, ::-1]
    T = x.shape[1]
    t = np.arange(T)
    L = np.asarray(lengths)[:, None]
    index = np.where(t < L, L - 1 - t, t)  # (N, T)
    index = index.reshape(index.shape + (1,) * (x.ndim - 2))
    return np.take_along_axis(x, index, axis=1)


class _Group(NamedTuple):
    rows: slice | np.ndarray  # the sequences of this group
    length: int  # their common length L >= 1
    cache: KindCache  # from the kind's own forward, over x[rows, :L]


class LayerCache(NamedTuple):
    """What ``RecurrentLayer.backward`` needs from ``RecurrentLayer.forward``."""

    x_shape: tuple[int, int, int]  # (N, T, D)
    dtype: np.dtype
    groups: list[_Group]


class RecurrentLayer:
    """One recurrent layer of any kind behind one interface.

    Padded batches: the sequences of equal length are run together as one
    batch, each only over its own real steps, ``x[rows, :L]``. Nothing past
    the end of a sequence is computed, so its state there is unchanged and
    no gradient can reach or leave the padding, by construction rather than
    by masking every step. (This is what ``pack_padded_sequence`` arranges in
    torch.) An unpadded batch is a single group: one call of the kind's own
    forward.

    Attributes:
        kind: ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``.
        params: name -> array (see ``init_params``); update them in place.
    """

    def __init__(
        self,
        kind: Kind,
        input_size: int,
        hidden_size: int,
        rng: np.random.Generator | None = None,
        dtype: np.dtype | type = np.float64,
        params: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Create the layer and its parameters.

        Args:
            kind: which recurrence.
            input_size: D. hidden_size: H.
            rng: for ``init_params``; defaults to ``np.random.default_rng(0)``.
            dtype: of the initialised parameters.
            params: use these arrays instead of initialising (shapes are checked).
        """
        spec(kind)  # a ValueError naming the kinds for anything else
        self.kind = kind
        self.input_size = input_size
        self.hidden_size = hidden_size
        if params is None:
            rng = np.random.default_rng(0) if rng is None else rng
            self.params = init_params(kind, input_size, hidden_size, rng, dtype)
        else:
            expected = param_shapes(kind, input_size, hidden_size)
            if set(params) != set(expected):
                raise KeyError(f"{kind} needs parameters {sorted(expected)}, got {sorted(params)}")
            G = spec(kind).num_gates
            rows = "H" if G == 1 else f"{G}H"
            symbols = {"W_xh": (rows, "D"), "W_hh": (rows, "H")}
            for name, value in params.items():
                check_floating(name, value)
                check_shape(name, value, list(zip(symbols.get(name, (rows,)), expected[name])))
            check_same_dtype(("W_xh", params["W_xh"]), params)
            self.params = dict(params)

    def zero_state(self, N: int, dtype: np.dtype | type = np.float64) -> State:
        """All-zero initial state for a batch of N (with c for an LSTM)."""
        h = np.zeros((N, self.hidden_size), dtype=dtype)
        return State(h, h.copy() if self.kind == "lstm" else None)

    def check_input(self, x: np.ndarray) -> tuple[int, int, int]:
        """Raise unless ``x`` is (N, T, D) in the parameters' dtype; return (N, T, D)."""
        check_floating("x", x)
        N, T, D = check_shape("x", x, {"N": None, "T": None, "D": self.input_size})
        check_same_dtype(("the parameters", self.params["W_xh"]), {"x": x})
        return N, T, D

    def check_state(self, name: str, state: State, N: int) -> None:
        """Raise unless ``state`` has an (N, H) h in the parameters' dtype, and c exactly for an LSTM."""
        if not isinstance(state, State):
            raise TypeError(f"{name} is a {type(state).__name__}; expected a State")
        if (state.c is not None) != (self.kind == "lstm"):
            raise ValueError(
                f"{name}.c is {'missing' if state.c is None else 'given'}; an LSTM state needs c, the other kinds have none"
            )
        parts = {f"{name}.h": state.h, f"{name}.c": state.c}
        for part, array in parts.items():
            if array is not None:
                check_shape(part, array, {"N": N, "H": self.hidden_size})
        check_same_dtype(("the parameters", self.params["W_xh"]), parts)

    def forward(
        self,
        x: np.ndarray,
        state: State | None = None,
        lengths: np.ndarray | None = None,
    ) -> tuple[np.ndarray, State, LayerCache]:
        """Run the layer over a (possibly padded) batch of sequences.

        Args:
            x: (N, T, D) inputs.
            state: initial ``State``; zeros when None.
            lengths: (N,) real length of every sequence, integers in [0, T]; None means all T.

        Returns:
            h_seq: (N, T, H) the hidden states h_1..h_T, zero past each sequence's length;
            final_state: ``State`` at each sequence's own last real step (the
                initial state for a length of 0);
            cache: for ``backward``.

        Raises:
            ValueError: x not (N, T, D), a state not (N, H), lengths not (N,) or
                outside [0, T]. TypeError: non-float x, a dtype other than the
                parameters', non-integer lengths.
        """
        N, T, D = self.check_input(x)
        checked_lengths = check_lengths(lengths, N, T)
        dtype = self.params["W_xh"].dtype
        state = self.zero_state(N, dtype) if state is None else state
        self.check_state("state", state, N)

        groups_spec: list[tuple[slice | np.ndarray, int]]
        if checked_lengths is None or np.all(checked_lengths == T):
            groups_spec = [(slice(None), T)] if T else []
        else:
            # Length-0 sequences take no step at all: their final state is state0.
            groups_spec = [
                (np.flatnonzero(checked_lengths == L), int(L)) for L in np.unique(checked_lengths) if L > 0
            ]

        h_seq = np.zeros((N, T, self.hidden_size), dtype=dtype)
        final_h = state.h.astype(dtype, copy=True)
        final_c = None if state.c is None else state.c.astype(dtype, copy=True)
        groups = []
        for rows, L in groups_spec:
            start = State(state.h[rows], None if state.c is None else state.c[rows])
            h, final, inner = _sequence_forward(self.kind, self.params, x[rows, :L], start)
            h_seq[rows, :L] = h
            final_h[rows] = final.h
            if final_c is not None and final.c is not None:
                final_c[rows] = final.c
            groups.append(_Group(rows, L, inner))
        return h_seq, State(final_h, final_c), LayerCache((N, T, D), dtype, groups)

    def backward(
        self,
        dh_seq: np.ndarray,
        cache: LayerCache,
        dfinal: State | None = None,
    ) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
        """Backpropagation through time, through the real steps only.

        Args:
            dh_seq: (N, T, H) upstream gradient of ``h_seq``; ignored at padding.
            cache: from ``forward``.
            dfinal: optional upstream gradient of the final ``State`` (e.g. when
                the last state feeds a classifier); its c is used by an LSTM only.

        Returns:
            dx (N, T, D), zero at padding; dstate0, a ``State`` with the gradient of
            the initial state; grads, name -> gradient of every parameter.

        Like the LSTM's and GRU's own caches, ``cache`` is used up: run
        ``forward`` again before a second backward.
        """
        (N, T, D), dtype, groups = cache
        H = self.hidden_size
        is_lstm = self.kind == "lstm"
        dx = np.zeros((N, T, D), dtype=dtype)
        # Start from the gradient of the final state: for a length-0 sequence the
        # final state *is* the initial one; every other row is overwritten below.
        dh0 = np.zeros((N, H), dtype=dtype)
        dc0 = np.zeros((N, H), dtype=dtype) if is_lstm else None
        if dfinal is not None:
            dh0 += dfinal.h
            if dc0 is not None and dfinal.c is not None:
                dc0 += dfinal.c
        grads = {name: np.zeros_like(p, dtype=dtype) for name, p in self.params.items()}
        for rows, L, inner in groups:
            dh = dh_seq[rows, :L].astype(dtype, copy=True)
            dh[:, -1] += dh0[rows]  # the final state is h at the last real step
            dc_T = None if dc0 is None else dc0[rows]
            dx_g, dstate_g, grads_g = _sequence_backward(dh, inner, dc_T)
            dx[rows, :L] = dx_g
            dh0[rows] = dstate_g.h
            if dc0 is not None and dstate_g.c is not None:
                dc0[rows] = dstate_g.c
            for name in grads:
                grads[name] += grads_g[name]
        return dx, State(dh0, dc0), grads
