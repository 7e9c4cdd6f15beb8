"""``recurrent_layer``: the one place where a kind becomes a torch layer; and the labels of kinds."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnncourse.kinds import KINDS, Kind, spec
from rnncourse.nn import recurrent
from rnncourse.nn.recurrent import KIND_LABELS, kind_of_label, recurrent_layer
from rnncourse.nn.regularised import LayerNormLSTM, VariationalLSTM


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_makes_its_torch_and_course_layer(kind: Kind) -> None:
    torch.manual_seed(0)
    theirs = recurrent_layer(kind, 3, 5, 2)
    ours = recurrent_layer(kind, 3, 5, 2, implementation="course")
    name = spec(kind).torch_module
    assert type(theirs) is getattr(nn, name) and type(ours) is getattr(recurrent, name)
    for layer in (theirs, ours):
        assert layer.batch_first and layer.num_layers == 2 and layer.hidden_size == 5
        if name == "RNN":
            assert layer.nonlinearity == spec(kind).nonlinearity
    # The same parameters, so one state dict serves both, and batch-first outputs agree.
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 6, 3)
    assert torch.allclose(ours(x)[0], theirs(x)[0], atol=1e-5)
    assert theirs(x)[0].shape == (4, 6, 5)


def test_options_reach_the_layer_and_regularised_lstms() -> None:
    layer = recurrent_layer("gru", 3, 4, 2, dropout=0.25, bidirectional=True)
    assert isinstance(layer, nn.GRU) and layer.dropout == 0.25 and layer.bidirectional
    variational = recurrent_layer("lstm", 3, 4, implementation="variational", recurrent_dropout=0.5)
    assert isinstance(variational, VariationalLSTM) and variational.recurrent_dropout == 0.5
    assert isinstance(recurrent_layer("lstm", 3, 4, implementation="layernorm"), LayerNormLSTM)


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        recurrent_layer("transformer", 3, 4)
    with pytest.raises(ValueError, match="is an LSTM layer"):
        recurrent_layer("gru", 3, 4, implementation="variational")
    with pytest.raises(ValueError, match="implementation must be"):
        recurrent_layer("lstm", 3, 4, implementation="cuda")  # type: ignore[arg-type]


def test_labels_name_kinds() -> None:
    assert kind_of_label("rnn") == "rnn_tanh"
    assert [kind_of_label(label) for label in KIND_LABELS] == ["rnn_tanh", "lstm", "gru"]
    assert all(kind_of_label(kind) == kind for kind in KINDS)  # a kind is its own label
    with pytest.raises(ValueError, match="kind must be one of"):
        kind_of_label("vanilla")
