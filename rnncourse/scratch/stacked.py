"""Layers built from ``RecurrentLayer``s: bidirectional and stacked, for every kind.

* ``Bidirectional``: one layer reads the sequence forwards, another reads it
  backwards in time; at step t the output is ``[h->_t ; h<-_t]``, which
  depends on the whole sequence.
* ``StackedRecurrent``: layer l reads the hidden states of layer l - 1,
  ``x^{(l)}_t = h^{(l-1)}_t``, so the gradient of a layer's input is the
  upstream gradient of the layer below.

Both have the interface of ``RecurrentLayer`` (``forward(x, state, lengths)``,
``backward(dh_seq, cache, dfinal)``), with nested states: a ``BiState`` of
two ``State``s, and a list of one state per layer. Parameter names are
prefixed by where they live: ``"forward.W_xh"``, ``"layer1.reverse.W_hh"``.
Shapes: N batch, T time steps, D input features, H hidden units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_lengths, check_shape
from rnncourse.kinds import Kind
from rnncourse.scratch.recurrent import LayerCache, RecurrentLayer, State, reverse_padded


class BiState(NamedTuple):
    """The states of the two directions of a ``Bidirectional`` layer."""

    forward: State
    reverse: State


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
        N, T, _ = check_shape("x", x, {"N": None, "T": None, "D": self.input_size})
        checked_lengths = check_lengths(lengths, N, T)
        fwd_state, rev_state = (None, None) if state is None else state
        h_fwd, final_fwd, cache_fwd = self.forward_layer.forward(x, fwd_state, checked_lengths)
        x_rev = reverse_padded(x, checked_lengths)
        h_rev, final_rev, cache_rev = self.reverse_layer.forward(x_rev, rev_state, checked_lengths)
        h_seq = np.concatenate([h_fwd, reverse_padded(h_rev, checked_lengths)], axis=-1)
        return h_seq, BiState(final_fwd, final_rev), BiCache(checked_lengths, cache_fwd, cache_rev)

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
        states: list[LayerState | None] = [None] * len(self.layers) if state is None else list(state)
        if len(states) != len(self.layers):
            raise ValueError(f"state has {len(states)} entries; expected one per layer, {len(self.layers)}")
        finals: list[LayerState] = []
        caches: list[LayerCache | BiCache] = []
        h = x
        for i, (layer, s0) in enumerate(zip(self.layers, states)):
            final: LayerState
            if isinstance(layer, Bidirectional):
                if s0 is not None and not isinstance(s0, BiState):
                    raise TypeError(f"state[{i}] is a {type(s0).__name__}; expected a BiState")
                h, final, bi_cache = layer.forward(h, s0, lengths)
                caches.append(bi_cache)
            else:
                if s0 is not None and not isinstance(s0, State):
                    raise TypeError(f"state[{i}] is a {type(s0).__name__}; expected a State")
                h, final, layer_cache = layer.forward(h, s0, lengths)
                caches.append(layer_cache)
            finals.append(final)
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
        dfinals: list[LayerState | None] = [None] * len(self.layers) if dfinal is None else list(dfinal)
        dstates: dict[int, LayerState] = {}
        grads: dict[str, dict[str, np.ndarray]] = {}
        d = dh_seq
        for i in reversed(range(len(self.layers))):
            layer, layer_cache, dfinal_i = self.layers[i], cache.layers[i], dfinals[i]
            if isinstance(layer, Bidirectional):
                assert isinstance(layer_cache, BiCache) and not isinstance(dfinal_i, State)
                d, dstates[i], grads[f"layer{i}"] = layer.backward(d, layer_cache, dfinal_i)
            else:
                assert isinstance(layer_cache, LayerCache) and not isinstance(dfinal_i, BiState)
                d, dstates[i], grads[f"layer{i}"] = layer.backward(d, layer_cache, dfinal_i)
        ordered = {f"layer{i}": grads[f"layer{i}"] for i in range(len(self.layers))}
        return d, [dstates[i] for i in range(len(self.layers))], _prefixed(ordered)
