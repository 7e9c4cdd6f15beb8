"""The regularised LSTM layers: variational dropout and layer normalisation, with torch.nn.LSTM's face."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnncourse.gradcheck import rel_error
from rnncourse.nn.regularised import LayerNormLSTM, VariationalLSTM


def _as_torch_lstm(ours: VariationalLSTM) -> nn.LSTM:
    """A torch.nn.LSTM with our weights: our one bias in bias_ih, zero in bias_hh."""
    theirs = nn.LSTM(ours.input_size, ours.hidden_size, ours.num_layers, batch_first=True).double()
    with torch.no_grad():
        for layer, weights in enumerate(ours.layers):
            getattr(theirs, f"weight_ih_l{layer}").copy_(weights.weight_ih)
            getattr(theirs, f"weight_hh_l{layer}").copy_(weights.weight_hh)
            getattr(theirs, f"bias_ih_l{layer}").copy_(weights.bias)
            getattr(theirs, f"bias_hh_l{layer}").zero_()
    return theirs


@pytest.mark.parametrize("num_layers", [1, 2])
def test_variational_lstm_without_dropout_is_torchs_lstm(num_layers: int) -> None:
    torch.manual_seed(0)
    ours = VariationalLSTM(5, 7, num_layers).double()
    theirs = _as_torch_lstm(ours)
    x = torch.randn(3, 6, 5, dtype=torch.float64)
    h0 = torch.randn(num_layers, 3, 7, dtype=torch.float64)
    c0 = torch.randn(num_layers, 3, 7, dtype=torch.float64)
    for hx in (None, (h0, c0)):
        out, (h_n, c_n) = ours(x, hx)
        expected, (h_t, c_t) = theirs(x, hx)
        assert out.shape == (3, 6, 7) and h_n.shape == c_n.shape == (num_layers, 3, 7)
        assert rel_error(out.detach().numpy(), expected.detach().numpy()) < 1e-12
        assert rel_error(h_n.detach().numpy(), h_t.detach().numpy()) < 1e-12
        assert rel_error(c_n.detach().numpy(), c_t.detach().numpy()) < 1e-12


def test_weights_are_drawn_like_torchs_layer_by_layer() -> None:
    torch.manual_seed(3)
    ours = VariationalLSTM(4, 6, 2)
    bound = 1 / 6**0.5
    shapes = [(24, 4), (24, 6), (24,), (24, 6), (24, 6), (24,)]
    assert [tuple(p.shape) for p in ours.parameters()] == shapes
    assert all(p.abs().max() <= bound for p in ours.parameters())
    torch.manual_seed(3)
    first = torch.empty(24, 4).uniform_(-bound, bound)
    assert torch.equal(ours.layers[0].weight_ih, first)  # drawn first, from the same stream


def test_variational_masks_are_the_same_at_every_step() -> None:
    # With W_hh = 0 and a forget gate shut (bias -1e4), h_t depends on x_t alone; a constant
    # input then gives the same h_t at every step exactly when the input mask does not change.
    torch.manual_seed(0)
    layer = VariationalLSTM(16, 4, dropout=0.5).double()
    weights = layer.layers[0]
    with torch.no_grad():
        weights.weight_hh.zero_()
        weights.bias.zero_()
        weights.bias[4:8] = -1e4
    x = torch.randn(8, 1, 16, dtype=torch.float64).expand(8, 10, 16)
    layer.train()
    out, _ = layer(x)
    assert torch.allclose(out, out[:, :1].expand_as(out), rtol=0, atol=1e-12)
    layer.eval()
    assert not torch.allclose(layer(x)[0], out)  # the masks changed something in training
    # per-step dropout, for contrast, would change h_t from step to step
    step_dropped = nn.functional.dropout(x, 0.5, training=True)
    assert not torch.allclose(step_dropped, step_dropped[:, :1].expand_as(step_dropped))


def test_recurrent_dropout_changes_training_and_nothing_in_eval() -> None:
    torch.manual_seed(1)
    layer = VariationalLSTM(3, 5, recurrent_dropout=0.5).double()
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    layer.eval()
    clean = layer(x)[0]
    assert torch.equal(clean, layer(x)[0])
    layer.train()
    assert (layer(x)[0] - clean).abs().max() > 1e-3


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="dropout rates"):
        VariationalLSTM(3, 3, dropout=1.0)
    with pytest.raises(ValueError, match="num_layers"):
        LayerNormLSTM(3, 3, num_layers=0)
    with pytest.raises(ValueError, match="batch first"):
        LayerNormLSTM(3, 3)(torch.zeros(4, 3))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_layernorm_lstm_ignores_the_batch_and_has_gradients(num_layers: int) -> None:
    torch.manual_seed(0)
    layer = LayerNormLSTM(3, 4, num_layers).double()
    x = torch.randn(5, 6, 3, dtype=torch.float64)
    alone, _ = layer(x[:1])
    together, (h_n, c_n) = layer(x)
    assert together.shape == (5, 6, 4) and h_n.shape == c_n.shape == (num_layers, 5, 4)
    assert rel_error(alone.detach().numpy(), together[:1].detach().numpy()) < 1e-12
    assert torch.equal(h_n[-1], together[:, -1])  # the last layer's last output is its final state
    small = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: layer(inp)[0].sum(), (small,))


def test_layernorm_lstm_carries_a_given_state() -> None:
    torch.manual_seed(2)
    layer = LayerNormLSTM(3, 4).double()
    x = torch.randn(2, 8, 3, dtype=torch.float64)
    whole, _ = layer(x)
    first, state = layer(x[:, :5])
    second, _ = layer(x[:, 5:], state)
    assert rel_error(torch.cat([first, second], 1).detach().numpy(), whole.detach().numpy()) < 1e-12
