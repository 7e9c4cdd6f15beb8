"""Porting LSTM weights: torch.nn.LSTM -> the course's NumPy LSTM, torch <-> Keras, gate orders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.gradcheck import rel_error
from rnncourse.porting import (
    course_params_from_torch,
    gate_activations,
    keras_to_torch,
    reorder_gates,
    stacked_from_torch,
    torch_lstm_layout,
    torch_to_keras,
)
from rnncourse.scratch.activations import sigmoid


def torch_lstm(seed: int, layers: int, bidirectional: bool) -> tuple[torch.nn.LSTM, dict[str, np.ndarray]]:
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(3, 4, num_layers=layers, bidirectional=bidirectional, batch_first=True).double()
    with torch.no_grad():  # make both biases matter: torch's init gives them the same scale as the weights
        for name, p in lstm.named_parameters():
            if name.startswith("bias_hh"):
                p.add_(0.5)
    return lstm, {k: v.detach().numpy().copy() for k, v in lstm.state_dict().items()}


@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, False), (2, True)])
def test_stack_from_torch_equals_torch_on_a_packed_batch(layers: int, bidirectional: bool) -> None:
    lstm, state = torch_lstm(layers, layers, bidirectional)
    x = np.random.default_rng(0).normal(size=(4, 6, 3))
    lengths = np.array([6, 2, 4, 1])
    packed = pack_padded_sequence(
        torch.tensor(x), torch.tensor(lengths), batch_first=True, enforce_sorted=False
    )
    out, (h_n, c_n) = lstm(packed)
    expected, _ = pad_packed_sequence(out, batch_first=True, total_length=6)
    h, finals, _ = stacked_from_torch(state).forward(x, None, lengths)
    assert rel_error(h, expected.detach().numpy()) < 1e-12
    ours_h = [s for f in finals for s in ((f.forward.h, f.reverse.h) if bidirectional else (f.h,))]
    ours_c = [s for f in finals for s in ((f.forward.c, f.reverse.c) if bidirectional else (f.c,))]
    assert rel_error(np.stack(ours_h), h_n.detach().numpy()) < 1e-12
    assert rel_error(np.stack(ours_c), c_n.detach().numpy()) < 1e-12
    assert torch_lstm_layout(state) == (layers, bidirectional)


def test_leaving_out_bias_hh_changes_the_output() -> None:
    _, state = torch_lstm(0, 1, False)
    good = course_params_from_torch(state)
    assert rel_error(good["b"], state["bias_ih_l0"]) > 0.1  # the sum, not bias_ih alone
    assert rel_error(good["b"], state["bias_ih_l0"] + state["bias_hh_l0"]) == 0


def keras_step(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, w: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Keras's LSTM step, written from its documentation: columns i, f, c, o of x K + h R + b."""
    z = x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"]
    i, f, cand, o = np.split(z, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(cand)
    return sigmoid(o) * np.tanh(c_new), c_new


def test_torch_to_keras_computes_the_same_step_and_round_trips() -> None:
    lstm, state = torch_lstm(3, 1, False)
    rng = np.random.default_rng(1)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    keras = torch_to_keras(state)
    h_k, c_k = keras_step(x, h, c, keras)
    _, (h_t, c_t) = lstm(torch.tensor(x[:, None]), (torch.tensor(h[None]), torch.tensor(c[None])))
    assert rel_error(h_k, h_t[0].detach().numpy()) < 1e-12 and rel_error(c_k, c_t[0].detach().numpy()) < 1e-12
    back = keras_to_torch(**keras)
    assert rel_error(back["weight_ih_l0"], state["weight_ih_l0"]) == 0
    assert (
        rel_error(back["bias_ih_l0"] + back["bias_hh_l0"], state["bias_ih_l0"] + state["bias_hh_l0"]) < 1e-15
    )


def test_keras_kernel_must_be_transposed_not_reshaped() -> None:
    kernel = np.arange(3 * 16, dtype=float).reshape(3, 16)
    ported = keras_to_torch(kernel, np.zeros((4, 16)), np.zeros(16))["weight_ih_l0"]
    assert ported.shape == kernel.reshape(16, 3).shape
    assert rel_error(ported, kernel.reshape(16, 3)) > 0.5


def test_reorder_gates_moves_whole_blocks_and_inverts() -> None:
    H = 2
    w = np.repeat(np.arange(4.0), H)[:, None] * np.ones((1, 3))  # block k holds k: i=0, f=1, g=2, o=3
    onnx = reorder_gates(w, "torch", "onnx")  # ONNX stacks i, o, f, c
    assert onnx[:, 0].tolist() == [0, 0, 3, 3, 1, 1, 2, 2]
    assert rel_error(reorder_gates(onnx, "onnx", "torch"), w) == 0
    assert rel_error(reorder_gates(w, "torch", "keras"), w) == 0  # same order: no reordering
    with pytest.raises(ValueError, match="permutation"):
        reorder_gates(w, "ifgx", "torch")
    with pytest.raises(ValueError, match="multiple of 4"):
        reorder_gates(np.zeros(6), "torch", "onnx")


def test_keras_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="kernel has shape"):
        keras_to_torch(np.zeros((16, 3)), np.zeros((4, 16)), np.zeros(16))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_activations_reproduce_torchs_states(kind: str) -> None:
    torch.manual_seed(7)
    layer = getattr(torch.nn, kind.upper())(3, 5, batch_first=True).double()
    x = np.random.default_rng(7).normal(size=(4, 6, 3))
    with torch.no_grad():
        out, final = layer(torch.from_numpy(x))
    state = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
    gates = gate_activations(kind, state, x)
    assert rel_error(gates["h"], out.numpy()) < 1e-12
    names = "ifgoch" if kind == "lstm" else "rznh"
    assert set(gates) == set(names) and all(gates[n].shape == (4, 6, 5) for n in names)
    if kind == "lstm":
        assert rel_error(gates["c"][:, -1], final[1][0].numpy()) < 1e-12
        # h_t = o_t tanh(c_t), computed from the gates the function returns
        assert rel_error(gates["o"] * np.tanh(gates["c"]), gates["h"]) < 1e-12
    else:  # h_t = (1 - z_t) n_t + z_t h_{t-1}
        previous = np.concatenate([np.zeros((4, 1, 5)), gates["h"][:, :-1]], axis=1)
        assert rel_error((1 - gates["z"]) * gates["n"] + gates["z"] * previous, gates["h"]) < 1e-12
    sigmoid_gates = "ifo" if kind == "lstm" else "rz"
    assert all(((gates[n] > 0) & (gates[n] < 1)).all() for n in sigmoid_gates)


def test_gate_activations_refuse_other_kinds() -> None:
    state = {name: np.zeros((2, 2)) for name in ("weight_ih_l0", "weight_hh_l0")}
    state |= {"bias_ih_l0": np.zeros(2), "bias_hh_l0": np.zeros(2)}
    with pytest.raises(ValueError, match="'lstm' or 'gru'"):
        gate_activations("rnn_tanh", state, np.zeros((1, 2, 2)))
