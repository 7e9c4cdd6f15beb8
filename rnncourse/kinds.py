"""The four kinds of recurrent cell, described once: gates, parameter names, initialisation.

Every kind keeps its gates stacked on the rows of two weight matrices, in
torch's order, so that one matrix product computes all of them:

============  =====  ==========  ================  =========================
kind          gates  order       NumPy biases      torch.nn module
============  =====  ==========  ================  =========================
``rnn_tanh``  1      h           ``b_h``           ``RNN(nonlinearity="tanh")``
``rnn_relu``  1      h           ``b_h``           ``RNN(nonlinearity="relu")``
``lstm``      4      i, f, g, o  ``b``             ``LSTM``
``gru``       3      r, z, n     ``b_xh, b_hh``    ``GRU``
============  =====  ==========  ================  =========================

With G gates and H hidden units, ``W_xh`` is (G H, D) and ``W_hh`` is
(G H, H); gate k owns rows ``k H .. (k + 1) H - 1`` of both. torch.nn names
them ``weight_ih_l0`` and ``weight_hh_l0`` (``_l1`` for the second layer,
``_reverse`` appended for the backward direction) and always keeps two bias
vectors, ``bias_ih_l0`` and ``bias_hh_l0``. The NumPy code keeps one,
their sum, where only the sum matters (RNN and LSTM), and both for the GRU,
whose ``b_hn`` is multiplied by the reset gate and cannot be merged.

torch initialises every weight and bias of a recurrent layer uniformly in
``(-1/sqrt(H), 1/sqrt(H))``: a pre-activation sums H terms ``W_ij h_j`` with
``|h_j| <= 1``, and the bound keeps it of order 1 whatever the width.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

Kind = Literal["rnn_tanh", "rnn_relu", "lstm", "gru"]
TorchModule = Literal["RNN", "LSTM", "GRU"]


class KindSpec(NamedTuple):
    """One row of the table above."""

    gates: tuple[str, ...]  # the gate blocks in the order they are stacked on the rows
    numpy_biases: tuple[str, ...]  # bias names in the NumPy parameters
    torch_module: TorchModule  # the torch.nn class
    nonlinearity: Literal["tanh", "relu"] | None  # of a vanilla RNN; None for the gated kinds

    @property
    def num_gates(self) -> int:
        """G, the number of H-row blocks in W_xh and W_hh."""
        return len(self.gates)


KIND_SPECS: dict[str, KindSpec] = {
    "rnn_tanh": KindSpec(("h",), ("b_h",), "RNN", "tanh"),
    "rnn_relu": KindSpec(("h",), ("b_h",), "RNN", "relu"),
    "lstm": KindSpec(("i", "f", "g", "o"), ("b",), "LSTM", None),
    "gru": KindSpec(("r", "z", "n"), ("b_xh", "b_hh"), "GRU", None),
}
KINDS: tuple[Kind, ...] = ("rnn_tanh", "rnn_relu", "lstm", "gru")

# torch.nn's parameter names for one layer and direction, without the suffix
# (``numpy_name`` maps each to the NumPy parameter it stands for).
TORCH_PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def spec(kind: str) -> KindSpec:
    """The table's row for ``kind``; ValueError naming the kinds for anything else."""
    try:
        return KIND_SPECS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}") from None


def kind_of(torch_module: str, nonlinearity: str = "tanh") -> Kind:
    """The kind of a torch.nn module: ``kind_of("LSTM") == "lstm"``, ``kind_of("RNN", "relu") == "rnn_relu"``."""
    if torch_module == "RNN":
        return "rnn_relu" if nonlinearity == "relu" else "rnn_tanh"
    for kind in KINDS:
        if KIND_SPECS[kind].torch_module == torch_module:
            return kind
    raise ValueError(f"torch_module must be 'RNN', 'LSTM' or 'GRU', got {torch_module!r}")


def gate_rows(kind: str, gate: str, hidden_size: int) -> slice:
    """The rows of W_xh, W_hh (and the biases) that belong to ``gate``: ``gate_rows("lstm", "g", H)`` is 2H..3H."""
    k = spec(kind).gates.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


def numpy_param_shapes(kind: str, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every NumPy parameter of one layer: W_xh (G H, D), W_hh (G H, H), biases (G H,)."""
    s = spec(kind)
    rows = s.num_gates * hidden_size
    shapes: dict[str, tuple[int, ...]] = {"W_xh": (rows, input_size), "W_hh": (rows, hidden_size)}
    shapes.update({name: (rows,) for name in s.numpy_biases})
    return shapes


def numpy_name(kind: str, torch_param: str) -> str:
    """The NumPy parameter a torch parameter (``weight_ih``, ..., ``bias_hh``, no suffix) maps to.

    For the RNN and the LSTM both torch biases map to the one merged NumPy bias.
    """
    biases = spec(kind).numpy_biases
    names = {"weight_ih": "W_xh", "weight_hh": "W_hh", "bias_ih": biases[0], "bias_hh": biases[-1]}
    return names[torch_param]


def torch_param_name(torch_param: str, layer: int = 0, reverse: bool = False) -> str:
    """torch.nn's name of a sequence layer's parameter: ``torch_param_name("bias_hh", 1, True)`` is ``bias_hh_l1_reverse``."""
    if torch_param not in TORCH_PARAMS:
        raise ValueError(f"torch_param must be one of {TORCH_PARAMS}, got {torch_param!r}")
    return f"{torch_param}_l{layer}" + ("_reverse" if reverse else "")


def init_bound(hidden_size: int) -> float:
    """torch's initialisation bound 1/sqrt(H): every parameter ~ U(-bound, bound)."""
    return 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
