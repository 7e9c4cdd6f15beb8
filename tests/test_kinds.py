"""The table of cell kinds agrees with torch.nn: parameter names and shapes, gate order, initialisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse import kinds
from rnncourse.kinds import KINDS


def torch_layer(kind: str, D: int, H: int, **kwargs) -> torch.nn.Module:
    row = kinds.spec(kind)
    extra = {"nonlinearity": row.nonlinearity} if row.nonlinearity else {}
    return getattr(torch.nn, row.torch_module)(D, H, **extra, **kwargs)


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_names_and_shapes_are_torch_nn_s(kind: str) -> None:
    D, H, layers = 3, 5, 2
    module = torch_layer(kind, D, H, num_layers=layers, bidirectional=True)
    theirs = {name: tuple(p.shape) for name, p in module.named_parameters()}
    G = kinds.spec(kind).num_gates
    ours = {}
    for layer in range(layers):
        for reverse in (False, True):
            inputs = D if layer == 0 else 2 * H
            shapes = {
                "weight_ih": (G * H, inputs),
                "weight_hh": (G * H, H),
                "bias_ih": (G * H,),
                "bias_hh": (G * H,),
            }
            for base in kinds.TORCH_PARAMS:
                ours[kinds.torch_param_name(base, layer, reverse)] = shapes[base]
    assert ours == theirs


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_parameters_have_the_shapes_of_the_torch_ones_they_stand_for(kind: str) -> None:
    D, H = 3, 5
    module = torch_layer(kind, D, H)
    numpy_shapes = kinds.numpy_param_shapes(kind, D, H)
    covered = set()
    for base in kinds.TORCH_PARAMS:
        name = kinds.numpy_name(kind, base)
        covered.add(name)
        assert numpy_shapes[name] == tuple(getattr(module, base + "_l0").shape), base
    assert covered == set(numpy_shapes)  # every NumPy parameter stands for a torch one


def test_gate_counts() -> None:
    assert {k: kinds.spec(k).num_gates for k in KINDS} == {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def test_lstm_gate_order_is_torch_s() -> None:
    """Zero weights and saturating biases: i = 0, f = 1, o = 1 leave c = c_prev and h = tanh(c_prev)."""
    H = 4
    cell = torch.nn.LSTMCell(2, H).double()
    bias = torch.zeros(4 * H, dtype=torch.float64)
    bias[kinds.gate_rows("lstm", "i", H)] = -50
    bias[kinds.gate_rows("lstm", "f", H)] = 50
    bias[kinds.gate_rows("lstm", "g", H)] = 0.7
    bias[kinds.gate_rows("lstm", "o", H)] = 50
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.bias_ih.copy_(bias)
    x = torch.randn(3, 2, dtype=torch.float64)
    h_prev, c_prev = torch.randn(3, H, dtype=torch.float64), torch.randn(3, H, dtype=torch.float64)
    h, c = cell(x, (h_prev, c_prev))
    torch.testing.assert_close(c, c_prev)
    torch.testing.assert_close(h, torch.tanh(c_prev))


def test_gru_gate_order_is_torch_s() -> None:
    """With r = 0 and z = 0 the new state is n = tanh(b_xn); with z = 1 it is h_prev."""
    H = 4
    cell = torch.nn.GRUCell(2, H).double()
    x = torch.randn(3, 2, dtype=torch.float64)
    h_prev = torch.randn(3, H, dtype=torch.float64)
    for z_bias, expected in ((-50.0, torch.full((3, H), np.tanh(0.3), dtype=torch.float64)), (50.0, h_prev)):
        bias = torch.zeros(3 * H, dtype=torch.float64)
        bias[kinds.gate_rows("gru", "r", H)] = -50
        bias[kinds.gate_rows("gru", "z", H)] = z_bias
        bias[kinds.gate_rows("gru", "n", H)] = 0.3
        with torch.no_grad():
            for p in cell.parameters():
                p.zero_()
            cell.bias_ih.copy_(bias)
            cell.bias_hh[kinds.gate_rows("gru", "n", H)] = 5.0  # multiplied by r = 0: no effect
        torch.testing.assert_close(cell(x, h_prev), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_init_bound_is_torch_s(kind: str) -> None:
    H = 64
    torch.manual_seed(0)
    module = torch_layer(kind, 8, H)
    largest = max(p.abs().max().item() for p in module.parameters())
    bound = kinds.init_bound(H)
    assert largest <= bound
    assert largest > 0.99 * bound  # thousands of draws come close to it: the bound is not looser


def test_kind_of_inverts_the_table_and_unknown_kinds_are_named() -> None:
    for kind in KINDS:
        row = kinds.spec(kind)
        assert kinds.kind_of(row.torch_module, row.nonlinearity or "tanh") == kind
    with pytest.raises(ValueError, match=r"rnn_tanh.*elman"):
        kinds.spec("elman")
    with pytest.raises(ValueError, match="Transformer"):
        kinds.kind_of("Transformer")
    with pytest.raises(ValueError, match="weight_xx"):
        kinds.torch_param_name("weight_xx")
