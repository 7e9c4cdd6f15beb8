"""The chatbot of the syllabus: parameter counts by hand against torch, shapes."""

from __future__ import annotations

import pytest
import torch

from rnncourse.models.chatbot import Chatbot, chatbot_param_count


def test_torch_count_matches_the_hand_derivation() -> None:
    model = Chatbot()
    by_layer = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
    counts = chatbot_param_count()
    assert by_layer == {
        "embedding": counts["embedding"],
        "lstm1": counts["lstm1"],
        "lstm2": counts["lstm2"],
        "out": counts["dense"],
    }
    # Worked out on paper in the module docstring, independently of the formula.
    assert counts["total"] == 54_495 == sum(p.numel() for p in model.parameters())


def test_keras_count_has_one_bias_per_lstm() -> None:
    keras = chatbot_param_count(biases=1)
    assert keras["total"] == 54_111
    assert chatbot_param_count()["total"] - keras["total"] == 4 * 32 + 4 * 64


def test_output_is_a_distribution_over_the_vocabulary() -> None:
    torch.manual_seed(0)
    probabilities = Chatbot().predict_proba(torch.randint(0, 317, (3, 7)))
    assert probabilities.shape == (3, 317)
    assert torch.allclose(probabilities.sum(-1), torch.ones(3, dtype=probabilities.dtype))


def test_wrong_input_shape_is_named() -> None:
    with pytest.raises(ValueError, match="expected \\(N, T\\)"):
        Chatbot()(torch.zeros(7, dtype=torch.long))
