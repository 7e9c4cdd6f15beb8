"""One interface over the recurrent layers, so that the rest is written once.

``rnn.py``, ``lstm.py`` and ``gru.py`` each have their own forward/backward
pair with their own parameters and state (an LSTM carries a cell state c
besides h). ``RecurrentLayer`` wraps any of them behind the same methods

    forward(x, state, lengths)          -> (h_seq, final_state, cache)
    backward(dh_seq, cache, dfinal)     -> (dx, dstate0, grads)

and on top of that interface this module builds, once for all kinds:

* ``StackedRecurrent``: layer l reads the hidden states of layer l - 1,
  ``x^{(l)}_t = h^{(l-1)}_t``, so the gradient of a layer's input is the
  upstream gradient of the layer below.
* ``Bidirectional``: one layer reads the sequence forwards, another reads it
  backwards in time; at step t the output is ``[h->_t ; h<-_t]``, which
  depends on the whole sequence.
* ``truncated_bptt``: backpropagation through time over chunks of k steps.
* ``lengths`` for padded batches: sequence n has ``lengths[n]`` real steps
  followed by padding. Its state stops at its own last step,
  ``h_t = h_{t-1}`` for ``t >= lengths[n]``, its outputs there are 0 (as
  ``torch.nn.utils.rnn.pad_packed_sequence`` gives) and no gradient reaches
  or leaves the padding.

Parameters and gradients are dictionaries ``name -> array`` with the same
names (``"W_xh"``, ``"layer1.reverse.W_hh"``, ...), ready for the optimizers
in ``optim.py``. Shapes: N batch, T time steps, D input features, H hidden
units; states are ``(N, H)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

import numpy as np

from rnncourse.scratch.gru import gru_backward, gru_forward
from rnncourse.scratch.lstm import lstm_backward, lstm_forward
from rnncourse.scratch.rnn import rnn_backward, rnn_forward

Kind = Literal["rnn_tanh", "rnn_relu", "lstm", "gru"]
KINDS: tuple[str, ...] = ("rnn_tanh", "rnn_relu", "lstm", "gru")

# Rows of W_xh per hidden unit: one pre-activation for the RNN, one per gate
# otherwise (i, f, g, o for the LSTM; r, z, n for the GRU).
_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
_BIASES = {"rnn_tanh": ("b_h",), "rnn_relu": ("b_h",), "lstm": ("b",), "gru": ("b_xh", "b_hh")}


class State(NamedTuple):
    """The recurrent state of one layer: h (N, H), and for an LSTM also c (N, H)."""

    h: np.ndarray
    c: np.ndarray | None = None


class BiState(NamedTuple):
    """The states of the two directions of a ``Bidirectional`` layer."""

    forward: State
    reverse: State


def _check_kind(kind: str) -> None:
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def param_shapes(kind: Kind, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter of one layer, in the order its forward takes them."""
    _check_kind(kind)
    G, H, D = _GATES[kind], hidden_size, input_size
    shapes: dict[str, tuple[int, ...]] = {"W_xh": (G * H, D), "W_hh": (G * H, H)}
    shapes.update({name: (G * H,) for name in _BIASES[kind]})
    return shapes


def init_params(
    kind: Kind,
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    dtype: np.dtype | type = np.float64,
) -> dict[str, np.ndarray]:
    """Parameters of one layer, every entry uniform in (-1/sqrt(H), 1/sqrt(H)) as in torch.nn.

    The bound shrinks with H so that a pre-activation, a sum of H terms
    ``W_hh[i, j] h_j`` with |h_j| <= 1, stays of order 1 whatever the width.

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
    bound = 1 / np.sqrt(hidden_size)
    return {
        name: rng.uniform(-bound, bound, size=shape).astype(dtype)
        for name, shape in param_shapes(kind, input_size, hidden_size).items()
    }


def _sequence_forward(
    kind: str, p: Mapping[str, np.ndarray], x: np.ndarray, state: State
) -> tuple[np.ndarray, State, Any]:
    """Run the forward of ``kind`` over all T >= 1 steps of ``x``."""
    if kind == "lstm":
        h, c_T, cache = lstm_forward(x, state.h, state.c, p["W_xh"], p["W_hh"], p["b"])
        return h, State(h[:, -1], c_T), cache
    if kind == "gru":
        h, cache = gru_forward(x, state.h, p["W_xh"], p["W_hh"], p["b_xh"], p["b_hh"])
        return h, State(h[:, -1]), cache
    h, cache = rnn_forward(x, state.h, p["W_xh"], p["W_hh"], p["b_h"], kind[len("rnn_") :])
    return h, State(h[:, -1]), cache


def _sequence_backward(
    kind: str, dh: np.ndarray, cache: Any, dc_T: np.ndarray | None
) -> tuple[np.ndarray, State, dict[str, np.ndarray]]:
    """Backward of ``_sequence_forward``; the gradient of h_T is already in ``dh[:, -1]``."""
    if kind == "lstm":
        dx, dh0, dc0, dW_xh, dW_hh, db = lstm_backward(dh, cache, dc_T)
        return dx, State(dh0, dc0), {"W_xh": dW_xh, "W_hh": dW_hh, "b": db}
    if kind == "gru":
        dx, dh0, dW_xh, dW_hh, db_xh, db_hh = gru_backward(dh, cache)
        grads = {"W_xh": dW_xh, "W_hh": dW_hh, "b_xh": db_xh, "b_hh": db_hh}
        return dx, State(dh0), grads
    dx, dh0, dW_xh, dW_hh, db_h = rnn_backward(dh, cache)
    return dx, State(dh0), {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h}


def check_lengths(lengths: np.ndarray | None, N: int, T: int) -> np.ndarray | None:
    """``lengths`` as an (N,) int array with every entry in [0, T], or None for no padding."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (N,):
        raise ValueError(f"lengths must have shape ({N},), got {lengths.shape}")
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must be integers, got {lengths.dtype}")
    if lengths.size and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(f"lengths must be in [0, {T}], got {lengths}")
    return lengths.astype(np.int64)


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
    cache: Any  # from the kind's own forward, over x[rows, :L]


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
        _check_kind(kind)
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
            for name, value in params.items():
                if value.shape != expected[name]:
                    raise ValueError(f"{name} must have shape {expected[name]}, got {value.shape}")
            self.params = dict(params)

    def zero_state(self, N: int, dtype: np.dtype | type = np.float64) -> State:
        """All-zero initial state for a batch of N (with c for an LSTM)."""
        h = np.zeros((N, self.hidden_size), dtype=dtype)
        return State(h, h.copy() if self.kind == "lstm" else None)

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
            lengths: (N,) real length of every sequence, in [0, T]; None means all T.

        Returns:
            h_seq: (N, T, H) the hidden states h_1..h_T, zero past each sequence's length;
            final_state: ``State`` at each sequence's own last real step (the
                initial state for a length of 0);
            cache: for ``backward``.
        """
        N, T, D = x.shape
        if self.input_size != D:
            raise ValueError(f"x has {D} features, the layer expects {self.input_size}")
        lengths = check_lengths(lengths, N, T)
        dtype = np.result_type(x, *self.params.values())
        if state is None:
            state = self.zero_state(N, dtype)
        if (state.c is not None) != (self.kind == "lstm"):
            raise ValueError("an LSTM state needs c, the other kinds have none")

        if lengths is None or np.all(lengths == T):
            spec: list[tuple[slice | np.ndarray, int]] = [(slice(None), T)] if T else []
        else:
            # Length-0 sequences take no step at all: their final state is state0.
            spec = [(np.flatnonzero(lengths == L), int(L)) for L in np.unique(lengths) if L > 0]

        h_seq = np.zeros((N, T, self.hidden_size), dtype=dtype)
        final_h = state.h.astype(dtype, copy=True)
        final_c = None if state.c is None else state.c.astype(dtype, copy=True)
        groups = []
        for rows, L in spec:
            start = State(state.h[rows], None if state.c is None else state.c[rows])
            h, final, inner = _sequence_forward(self.kind, self.params, x[rows, :L], start)
            h_seq[rows, :L] = h
            final_h[rows] = final.h
            if final_c is not None:
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
            if is_lstm and dfinal.c is not None:
                dc0 += dfinal.c
        grads = {name: np.zeros_like(p, dtype=dtype) for name, p in self.params.items()}
        for rows, L, inner in groups:
            dh = dh_seq[rows, :L].astype(dtype, copy=True)
            dh[:, -1] += dh0[rows]  # the final state is h at the last real step
            dc_T = dc0[rows] if is_lstm else None
            dx_g, dstate_g, grads_g = _sequence_backward(self.kind, dh, inner, dc_T)
            dx[rows, :L] = dx_g
            dh0[rows] = dstate_g.h
            if is_lstm:
                dc0[rows] = dstate_g.c
            for name in grads:
                grads[name] += grads_g[name]
        return dx, State(dh0, dc0), grads


class BiCache(NamedTuple):
    """What ``Bidirectional.backward`` needs from ``Bidirectional.forward``."""

    lengths: np.ndarray | None
    forward: LayerCache
    reverse: LayerCache


class Bidirectional:
    """Two layers of one kind, one reading the sequence forwards and one backwards in time.

        h->_t = step(x_t, h->_{t-1})           t = 1..L
        h<-_t = step(x_t, h<-_{t+1})           t = L..1, starting from h<-_{L+1} = state0
        out_t = [h->_t ; h<-_t]                (N, T, 2H)

    The reverse layer is an ordinary ``RecurrentLayer`` run over each sequence
    reversed within its own length (``reverse_padded``), so for a padded
    sequence it starts at the last *real* step, not at the padding; its
    outputs are reversed back so that ``out_t`` lines up in time.

    Attributes:
        forward_layer, reverse_layer: the two ``RecurrentLayer``s.
        params: ``"forward.<name>"`` and ``"reverse.<name>"`` -> the same arrays.
    """

    def __init__(
        self,
        kind: Kind,
        input_size: int,
        hidden_size: int,
        rng: np.random.Generator | None = None,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        rng = np.random.default_rng(0) if rng is None else rng
        self.kind = kind
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.forward_layer = RecurrentLayer(kind, input_size, hidden_size, rng, dtype)
        self.reverse_layer = RecurrentLayer(kind, input_size, hidden_size, rng, dtype)

    @property
    def output_size(self) -> int:
        return 2 * self.hidden_size

    @property
    def params(self) -> dict[str, np.ndarray]:
        return _prefixed({"forward": self.forward_layer.params, "reverse": self.reverse_layer.params})

    def forward(
        self,
        x: np.ndarray,
        state: BiState | None = None,
        lengths: np.ndarray | None = None,
    ) -> tuple[np.ndarray, BiState, BiCache]:
        """Both directions over a (possibly padded) batch.

        Args:
            x: (N, T, D) inputs.
            state: initial ``BiState``; zeros when None.
            lengths: (N,) real lengths, or None.

        Returns:
            h_seq: (N, T, 2H), forward states then reverse states on the last axis,
            zero at padding; final_state: ``BiState`` whose reverse part is the
            state after reading step 1 (as torch's ``h_n``); cache.
        """
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        fwd_state, rev_state = (None, None) if state is None else state
        h_fwd, final_fwd, cache_fwd = self.forward_layer.forward(x, fwd_state, lengths)
        x_rev = reverse_padded(x, lengths)
        h_rev, final_rev, cache_rev = self.reverse_layer.forward(x_rev, rev_state, lengths)
        h_seq = np.concatenate([h_fwd, reverse_padded(h_rev, lengths)], axis=-1)
        return h_seq, BiState(final_fwd, final_rev), BiCache(lengths, cache_fwd, cache_rev)

    def backward(
        self,
        dh_seq: np.ndarray,
        cache: BiCache,
        dfinal: BiState | None = None,
    ) -> tuple[np.ndarray, BiState, dict[str, np.ndarray]]:
        """Gradients of ``forward``: each direction's backward, summed into dx.

        Args:
            dh_seq: (N, T, 2H) upstream gradient of ``h_seq``.
            cache: from ``forward``.
            dfinal: optional upstream gradient of the final ``BiState``.

        Returns:
            dx (N, T, D), dstate0 (``BiState``), grads with ``forward.``/``reverse.`` names.
        """
        lengths, cache_fwd, cache_rev = cache
        H = self.hidden_size
        dfinal_fwd, dfinal_rev = (None, None) if dfinal is None else dfinal
        dx, dstate_fwd, grads_fwd = self.forward_layer.backward(dh_seq[..., :H], cache_fwd, dfinal_fwd)
        # The reversal is a permutation of the steps: its backward is the same reversal.
        dh_rev = reverse_padded(dh_seq[..., H:], lengths)
        dx_rev, dstate_rev, grads_rev = self.reverse_layer.backward(dh_rev, cache_rev, dfinal_rev)
        dx += reverse_padded(dx_rev, lengths)
        grads = _prefixed({"forward": grads_fwd, "reverse": grads_rev})
        return dx, BiState(dstate_fwd, dstate_rev), grads


def _prefixed(parts: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``{"a": {"W": w}}`` -> ``{"a.W": w}``, keeping the arrays themselves (no copies)."""
    return {f"{prefix}.{name}": array for prefix, d in parts.items() for name, array in d.items()}


LayerState = State | BiState


class StackCache(NamedTuple):
    """What ``StackedRecurrent.backward`` needs: one cache per layer, bottom first."""

    layers: list[LayerCache | BiCache]


class StackedRecurrent:
    """``num_layers`` recurrent layers, each reading the hidden states of the one below.

        x^{(1)} = x,   h^{(l)} = layer_l(x^{(l)}),   x^{(l+1)} = h^{(l)}

    Every layer has its own parameters and its own initial and final state.
    Going back, the ``dx`` of layer l + 1 is the upstream ``dh_seq`` of layer l.
    With ``bidirectional=True`` every layer is a ``Bidirectional`` and the
    layers above the first read 2H features, as in ``torch.nn.RNN``.

    Attributes:
        layers: the layers, bottom first.
        params: ``"layer<l>.<name>"`` -> the layers' own arrays (l from 0).
    """

    def __init__(
        self,
        kind: Kind,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        rng: np.random.Generator | None = None,
        dtype: np.dtype | type = np.float64,
        bidirectional: bool = False,
    ) -> None:
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.kind = kind
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        directions = 2 if bidirectional else 1
        self.layers: list[RecurrentLayer | Bidirectional] = []
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else directions * hidden_size
            cls = Bidirectional if bidirectional else RecurrentLayer
            self.layers.append(cls(kind, size_in, hidden_size, rng, dtype))

    @property
    def params(self) -> dict[str, np.ndarray]:
        return _prefixed({f"layer{i}": layer.params for i, layer in enumerate(self.layers)})

    def forward(
        self,
        x: np.ndarray,
        state: list[LayerState] | None = None,
        lengths: np.ndarray | None = None,
    ) -> tuple[np.ndarray, list[LayerState], StackCache]:
        """Run every layer in turn.

        Args:
            x: (N, T, D) inputs.
            state: one initial state per layer (``State`` or ``BiState``); zeros when None.
            lengths: (N,) real lengths, or None; the same for every layer.

        Returns:
            h_seq: (N, T, H) or (N, T, 2H) the top layer's states; final states,
            one per layer, bottom first; cache.
        """
        states = [None] * len(self.layers) if state is None else list(state)
        if len(states) != len(self.layers):
            raise ValueError(f"need {len(self.layers)} initial states, got {len(states)}")
        finals, caches = [], []
        h = x
        for layer, s0 in zip(self.layers, states):
            h, final, cache = layer.forward(h, s0, lengths)
            finals.append(final)
            caches.append(cache)
        return h, finals, StackCache(caches)

    def backward(
        self,
        dh_seq: np.ndarray,
        cache: StackCache,
        dfinal: list[LayerState | None] | None = None,
    ) -> tuple[np.ndarray, list[LayerState], dict[str, np.ndarray]]:
        """Gradients of ``forward``, top layer first.

        Args:
            dh_seq: upstream gradient of the top layer's ``h_seq``.
            cache: from ``forward``.
            dfinal: optional upstream gradients of the final states, one per layer
                (entries may be None).

        Returns:
            dx (N, T, D); dstate0, one per layer, bottom first; grads.
        """
        dfinals = [None] * len(self.layers) if dfinal is None else list(dfinal)
        dstates: list[LayerState] = [None] * len(self.layers)  # type: ignore[list-item]
        grads: dict[str, dict[str, np.ndarray]] = {}
        d = dh_seq
        for i in reversed(range(len(self.layers))):
            d, dstates[i], grads[f"layer{i}"] = self.layers[i].backward(d, cache.layers[i], dfinals[i])
        ordered = {f"layer{i}": grads[f"layer{i}"] for i in range(len(self.layers))}
        return d, dstates, _prefixed(ordered)


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
    N, T, _ = x.shape
    lengths = check_lengths(lengths, N, T)
    total_loss = 0.0
    grads: dict[str, np.ndarray] = {}
    dx_chunks = []
    for t0 in range(0, T, k):
        t1 = min(t0 + k, T)
        chunk_lengths = None if lengths is None else np.clip(lengths - t0, 0, t1 - t0)
        h, final, cache = model.forward(x[:, t0:t1], state, chunk_lengths)
        loss, dh, head_grads = chunk_loss(h, t0, t1)
        # The gradient of the chunk's initial state (second value) is where
        # the truncation happens: it is dropped instead of being passed back.
        dx, _, model_grads = model.backward(dh, cache)
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
