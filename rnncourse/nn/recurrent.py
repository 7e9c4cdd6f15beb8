"""Sequence layers ``RNN``, ``LSTM`` and ``GRU``: the cells of ``cells.py`` run over time.

Written from the equations (see ``rnncourse.nn.cells``) with a Python
loop over the time steps, but with the same constructor arguments, parameter
names and return values as ``torch.nn.RNN``, ``torch.nn.LSTM`` and
``torch.nn.GRU``, so ``ours.load_state_dict(theirs.state_dict())`` works and
the outputs can be compared number for number.

What a layer computes, for layer l and direction d:

1. The input part of every step at once, one matrix product:
   ``x_part = x @ W_xh.T + b_xh``, shape (T, N, G*H).
2. A loop over time (t = 0..T-1 forward, T-1..0 for the reverse direction),
   each step one call of ``rnn_step`` / ``lstm_step`` / ``gru_step``.
3. The outputs of both directions concatenated on the feature axis, (T, N, 2H),
   are the input of layer l+1 (after dropout, in training mode, if asked).

Shapes: T time steps, N batch, D input features, H hidden units, L layers,
``dirs`` = 2 if bidirectional else 1. Sequences are time-major (T, N, D)
unless ``batch_first=True``, then (N, T, D); states are always (L*dirs, N, H),
ordered layer 0 forward, layer 0 reverse, layer 1 forward, ...

Padded batches. ``layer(x, lengths=lengths)`` takes the true length of each
sequence, a 1-D tensor of N integers. At a step t >= length the state is not
updated (``h_t = h_{t-1}``) and the output is zero, so:

* ``h_n`` is each sequence's state at its own last real step;
* the output equals what ``pad_packed_sequence`` gives for torch's packed run;
* the reverse direction, which walks from t = T-1 down, keeps its initial state
  through the padding and so starts at each sequence's own last real step.

A ``torch.nn.utils.rnn.PackedSequence`` input works too: it is padded, run
with its lengths, and the output packed again, as torch does.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnncourse.checks import check_floating, check_lengths, check_same_dtype, check_shape
from rnncourse.kinds import Kind, TorchModule, kind_of, spec, torch_param_name

from .cells import Nonlinearity, gru_step, init_like_torch, lstm_step, rnn_step
from .regularised import LayerNormLSTM, VariationalLSTM

__all__ = ["GRU", "KIND_LABELS", "LSTM", "RNN", "kind_of_label", "recurrent_layer"]


class _RecurrentBase(nn.Module):
    """Parameters, argument handling and the loop over layers and directions."""

    mode: TorchModule = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout is applied between layers only, so it does nothing with num_layers=1",
                stacklevel=2,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1

        rows = spec(kind_of(self.mode)).num_gates * hidden_size
        # Registered in torch's order: per layer, per direction, W_xh, W_hh, b_xh, b_hh.
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self.num_directions
            for reverse in self._directions():
                shapes = {
                    "weight_ih": (rows, layer_in),
                    "weight_hh": (rows, hidden_size),
                    "bias_ih": (rows,),
                    "bias_hh": (rows,),
                }
                for base, shape in shapes.items():
                    if bias or base.startswith("weight"):
                        setattr(
                            self, torch_param_name(base, layer, reverse), nn.Parameter(torch.empty(shape))
                        )
        self.reset_parameters()

    def _directions(self) -> list[bool]:
        """``reverse`` for every direction: [False], or [False, True] if bidirectional."""
        return [False, True] if self.bidirectional else [False]

    def reset_parameters(self) -> None:
        init_like_torch(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _weights(self, layer: int, reverse: bool) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """(W_xh, W_hh, b_xh, b_hh) of one layer and direction."""
        return (
            getattr(self, torch_param_name("weight_ih", layer, reverse)),
            getattr(self, torch_param_name("weight_hh", layer, reverse)),
            getattr(self, torch_param_name("bias_ih", layer, reverse), None),
            getattr(self, torch_param_name("bias_hh", layer, reverse), None),
        )

    # --- one direction of one layer ------------------------------------------------

    def _step(self, x_part: Tensor, state: tuple[Tensor, ...], W_hh: Tensor, b_hh: Tensor | None):
        """One time step; ``state`` is (h,) or, for the LSTM, (h, c). Returns the new state."""
        raise NotImplementedError

    def _run_direction(
        self,
        x: Tensor,
        state: tuple[Tensor, ...],
        weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
        reverse: bool,
        mask: Tensor | None,
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Run one direction over the sequence.

        Args:
            x: (T, N, D_l) the layer's input.
            state: the initial state, (h0,) or (h0, c0), each (N, H).
            weights: (W_xh, W_hh, b_xh, b_hh).
            reverse: walk from t = T-1 down to 0.
            mask: (T, N, 1) booleans, True where t < length, or None (no padding).

        Returns:
            outputs (T, N, H), zero at padded steps, and the final state.
        """
        W_xh, W_hh, b_xh, b_hh = weights
        x_part = x @ W_xh.T  # (T, N, G*H): every step's input part in one product
        if b_xh is not None:
            x_part = x_part + b_xh
        T = x.shape[0]
        steps = range(T - 1, -1, -1) if reverse else range(T)
        outputs: dict[int, Tensor] = {}  # by time step, whichever the direction
        for t in steps:
            new_state = self._step(x_part[t], state, W_hh, b_hh)
            if mask is None:
                state = new_state
                outputs[t] = new_state[0]
            else:
                # Past a sequence's end keep its state, and output zero.
                m = mask[t]  # (N, 1)
                state = tuple(torch.where(m, new, old) for new, old in zip(new_state, state))
                outputs[t] = torch.where(m, new_state[0], 0.0)
        return torch.stack([outputs[t] for t in range(T)]), state

    # --- the whole layer stack ------------------------------------------------------

    def _initial_state(self, hx, x: Tensor) -> tuple[Tensor, ...]:
        """hx as a tuple of (L*dirs, N, H) tensors, zeros if None."""
        shape = (self.num_layers * self.num_directions, x.shape[1], self.hidden_size)
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            return tuple(x.new_zeros(shape) for _ in range(n_states))
        states = tuple(hx) if self.mode == "LSTM" else (hx,)
        L, N, H = shape
        for name, s in zip(("h0", "c0"), states):
            check_shape(name, s, {"L*dirs": L, "N": N, "H": H})
        check_same_dtype(("x", x), dict(zip(("h0", "c0"), states)))
        return states

    def forward(self, input, hx=None, *, lengths: Tensor | None = None):
        """Run the stack over a batch of sequences.

        Args:
            input: (T, N, D), or (N, T, D) if ``batch_first``; (T, D) for one
                unbatched sequence; or a ``PackedSequence``.
            hx: initial state, (L*dirs, N, H) (for the LSTM a pair (h0, c0));
                zeros if omitted. (L*dirs, H) for an unbatched sequence.
            lengths: optional (N,) true lengths of a padded batch (keyword only).

        Returns:
            output: (T, N, dirs*H) (batch-first if ``batch_first``), the last
                layer's h_t at every step, both directions concatenated; zero at
                padded steps. A ``PackedSequence`` if the input was one.
            h_n: (L*dirs, N, H) the final hidden state of every layer and
                direction; for the LSTM the pair (h_n, c_n).
        """
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError("a PackedSequence carries its own lengths; do not pass lengths")
            return self._forward_packed(input, hx)

        check_floating("input", input)
        unbatched = input.dim() == 2
        if unbatched:
            if lengths is not None:
                raise ValueError("lengths needs a batch; input has shape (T, D), one unbatched sequence")
            check_shape("input", input, {"T": None, "D": self.input_size})
            input = input.unsqueeze(1)  # (T, 1, D), time-major either way
            if hx is not None:
                stacked = self.num_layers * self.num_directions
                for name, s in zip(("h0", "c0"), hx if self.mode == "LSTM" else (hx,)):
                    check_shape(name, s, {"L*dirs": stacked, "H": self.hidden_size})
                hx = tuple(s.unsqueeze(1) for s in hx) if self.mode == "LSTM" else hx.unsqueeze(1)
        else:
            axes = ("N", "T") if self.batch_first else ("T", "N")
            check_shape("input", input, {**dict.fromkeys(axes), "D": self.input_size})
            if self.batch_first:
                input = input.transpose(0, 1)  # (T, N, D)
        x = input
        T, N, _ = x.shape
        check_same_dtype(("input", x), dict(self.named_parameters()))

        mask = None
        checked_lengths = check_lengths(lengths, N, T)
        if checked_lengths is not None:
            steps = torch.arange(T, device=x.device)
            lengths_t = torch.as_tensor(checked_lengths, device=x.device)
            mask = (steps[:, None] < lengths_t[None, :]).unsqueeze(-1)  # (T, N, 1)

        h0 = self._initial_state(hx, x)
        finals: list[tuple[Tensor, ...]] = []
        for layer in range(self.num_layers):
            outs = []
            for d, reverse in enumerate(self._directions()):
                k = layer * self.num_directions + d  # index into the state stack
                out, final = self._run_direction(
                    x,
                    tuple(s[k] for s in h0),
                    self._weights(layer, reverse),
                    reverse=reverse,
                    mask=mask,
                )
                outs.append(out)
                finals.append(final)
            x = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]  # (T, N, dirs*H)
            if self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, p=self.dropout, training=self.training)

        output = x
        h_n = tuple(torch.stack([f[i] for f in finals]) for i in range(len(h0)))
        if unbatched:
            output = output.squeeze(1)
            h_n = tuple(s.squeeze(1) for s in h_n)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (h_n if self.mode == "LSTM" else h_n[0])

    def _forward_packed(self, packed: PackedSequence, hx):
        """Pad, run with the lengths, pack the output again with the same ordering."""
        padded, lengths = pad_packed_sequence(packed, batch_first=self.batch_first)
        output, h_n = self.forward(padded, hx, lengths=lengths)
        if packed.sorted_indices is None:  # packed with enforce_sorted=True
            out_packed = pack_padded_sequence(output, lengths, batch_first=self.batch_first)
            return out_packed, h_n
        # Keep the input's own sort order, so the data rows line up with torch's.
        batch_dim = 0 if self.batch_first else 1
        in_order = output.index_select(batch_dim, packed.sorted_indices)
        sorted_lengths = lengths.index_select(0, packed.sorted_indices.cpu())
        data = pack_padded_sequence(in_order, sorted_lengths, batch_first=self.batch_first).data
        out_packed = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return out_packed, h_n


class RNN(_RecurrentBase):
    """Multi-layer vanilla RNN: ``h_t = f(W_xh x_t + b_xh + W_hh h_{t-1} + b_hh)``.

    Same arguments as ``torch.nn.RNN``: ``input_size``, ``hidden_size``,
    ``num_layers=1``, ``nonlinearity="tanh"`` (or ``"relu"``), ``bias=True``,
    ``batch_first=False``, ``dropout=0.0`` (between layers), ``bidirectional=False``.

    Parameters, for layer l (``_reverse`` appended for the backward direction):
        weight_ih_l{l}: (H, D) for l = 0, (H, dirs*H) above: W_xh.
        weight_hh_l{l}: (H, H): W_hh.
        bias_ih_l{l}, bias_hh_l{l}: (H,) each.

    ``rnn(x, h0=None, lengths=None) -> (output, h_n)``; see ``forward``.
    """

    mode = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: Nonlinearity = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"

    def _step(self, x_part, state, W_hh, b_hh):
        return (rnn_step(x_part, state[0], W_hh, b_hh, self.nonlinearity),)


class LSTM(_RecurrentBase):
    """Multi-layer LSTM (gates i, f, g, o; equations in ``cells.LSTMCell``).

    Same arguments as ``torch.nn.LSTM`` (without ``proj_size``): ``input_size``,
    ``hidden_size``, ``num_layers=1``, ``bias=True``, ``batch_first=False``,
    ``dropout=0.0`` (between layers), ``bidirectional=False``.

    Parameters, for layer l (``_reverse`` appended for the backward direction):
        weight_ih_l{l}: (4H, D) for l = 0, (4H, dirs*H) above: W_xh.
        weight_hh_l{l}: (4H, H): W_hh.
        bias_ih_l{l}, bias_hh_l{l}: (4H,) each.

    ``lstm(x, (h0, c0)=None, lengths=None) -> (output, (h_n, c_n))``; see ``forward``.
    """

    mode = "LSTM"

    def _step(self, x_part, state, W_hh, b_hh):
        return lstm_step(x_part, state[0], state[1], W_hh, b_hh)


class GRU(_RecurrentBase):
    """Multi-layer GRU (gates r, z, n, torch's convention; equations in ``cells.GRUCell``).

    Same arguments as ``torch.nn.GRU``: ``input_size``, ``hidden_size``,
    ``num_layers=1``, ``bias=True``, ``batch_first=False``, ``dropout=0.0``
    (between layers), ``bidirectional=False``.

    Parameters, for layer l (``_reverse`` appended for the backward direction):
        weight_ih_l{l}: (3H, D) for l = 0, (3H, dirs*H) above: W_xh.
        weight_hh_l{l}: (3H, H): W_hh.
        bias_ih_l{l}, bias_hh_l{l}: (3H,) each.

    ``gru(x, h0=None, lengths=None) -> (output, h_n)``; see ``forward``.
    """

    mode = "GRU"

    def _step(self, x_part, state, W_hh, b_hh):
        return (gru_step(x_part, state[0], W_hh, b_hh),)


# --- the one place where a kind becomes a torch layer ----------------------------------

Implementation = Literal["torch", "course", "variational", "layernorm"]

#: The short names that pages print and stored results use as keys, and the kind each stands for.
KIND_LABELS: dict[str, Kind] = {"rnn": "rnn_tanh", "lstm": "lstm", "gru": "gru"}


def kind_of_label(label: str) -> Kind:
    """The kind a short label names: ``kind_of_label("rnn") == "rnn_tanh"``; a kind is its own label."""
    kind = KIND_LABELS.get(label, label)
    spec(kind)  # a ValueError that names the kinds, for anything else
    return cast(Kind, kind)


def recurrent_layer(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    implementation: Implementation = "torch",
    **options: Any,
) -> nn.Module:
    """The sequence layer of ``kind`` (``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"``, ``"gru"``).

    The class and the RNN's nonlinearity come from ``rnncourse.kinds.spec(kind)``.
    Every layer made here is batch first: it takes (N, T, D) and returns
    ``(output (N, T, dirs*H), state)`` as ``torch.nn``'s layers do with ``batch_first=True``.

    Args:
        kind: the cell.
        input_size, hidden_size, num_layers: D, H, L.
        implementation: ``"torch"`` for ``torch.nn``'s layer, ``"course"`` for this
            module's twin (same names and results, slower), or for an LSTM one of the
            regularised layers of ``rnncourse.nn.regularised``: ``"variational"``
            (``VariationalLSTM``) or ``"layernorm"`` (``LayerNormLSTM``).
        options: passed on to the class (``dropout``, ``bidirectional``, ``recurrent_dropout``, ...).
    """
    cell = spec(kind)
    if implementation in ("variational", "layernorm"):
        if kind != "lstm":
            raise ValueError(f"implementation {implementation!r} is an LSTM layer; got kind {kind!r}")
        regularised = {"variational": VariationalLSTM, "layernorm": LayerNormLSTM}[implementation]
        return regularised(input_size, hidden_size, num_layers, **options)
    classes: dict[str, dict[str, type[nn.Module]]] = {
        "torch": {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU},
        "course": {"RNN": RNN, "LSTM": LSTM, "GRU": GRU},
    }
    if implementation not in classes:
        raise ValueError(
            f"implementation must be 'torch', 'course', 'variational' or 'layernorm', got {implementation!r}"
        )
    if cell.nonlinearity is not None:
        options["nonlinearity"] = cell.nonlinearity
    layer_class = classes[implementation][cell.torch_module]
    layer: nn.Module = layer_class(input_size, hidden_size, num_layers, batch_first=True, **options)
    return layer
