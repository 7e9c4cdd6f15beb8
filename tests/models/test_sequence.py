"""The sequence model of the synthetic and series tasks: shapes, read-outs, parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnncourse.gradcheck import rel_error
from rnncourse.kinds import KINDS, Kind
from rnncourse.models.sequence import SequenceModel, recurrent_param_count


@pytest.mark.parametrize(("kind", "gates"), [("rnn_tanh", 1), ("rnn_relu", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_count_matches_torch(kind: Kind, gates: int) -> None:
    model = SequenceModel(kind, 5, 7, 3, per_step=True)
    assert sum(p.numel() for p in model.parameters()) == recurrent_param_count(kind, 5, 7, 3)
    # Spelled out: G blocks of (H D + H H + 2 H), plus the read-out H * 3 + 3.
    assert recurrent_param_count(kind, 5, 7, 3) == gates * (7 * 5 + 49 + 14) + 24


@pytest.mark.parametrize("kind", KINDS)
def test_the_layer_is_torchs_and_the_read_outs_agree(kind: Kind) -> None:
    torch.manual_seed(0)
    last = SequenceModel(kind, 3, 6, 2).double()
    every = SequenceModel(kind, 3, 6, 2, per_step=True).double()
    every.load_state_dict(last.state_dict())
    expected_class = {"rnn_tanh": nn.RNN, "rnn_relu": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    assert type(last.rnn) is expected_class and last.rnn.batch_first
    if kind.startswith("rnn"):
        assert last.rnn.nonlinearity == kind.removeprefix("rnn_")
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    out_last, out_every = last(x), every(x)
    assert out_last.shape == (4, 2) and out_every.shape == (4, 9, 2)
    assert rel_error(out_last.detach().numpy(), out_every[:, -1].detach().numpy()) < 1e-12
    # by hand: the read-out of torch's final state
    _, state = last.rnn(x)
    h_n = state[0] if isinstance(state, tuple) else state
    by_hand = h_n[-1] @ last.head.weight.T + last.head.bias
    assert rel_error(out_last.detach().numpy(), by_hand.detach().numpy()) < 1e-12


def test_a_window_of_a_series_is_one_feature_per_step() -> None:
    torch.manual_seed(1)
    model = SequenceModel("gru", 1, 4)
    window = torch.randn(5, 12)
    assert torch.equal(model(window), model(window.unsqueeze(-1)))
    assert model(window).shape == (5, 1)


def test_clear_errors() -> None:
    model = SequenceModel("lstm", 2, 3)
    with pytest.raises(ValueError, match="x has shape"):
        model(torch.zeros(4, 5, 3))  # three features, the model reads two
    with pytest.raises(ValueError, match="kind must be one of"):
        SequenceModel("rnn", 2, 3)  # type: ignore[arg-type]  # a label, not a kind
