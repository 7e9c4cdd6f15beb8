"""The chatbot of the syllabus: parameter counts by hand against torch, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.models.chatbot import Chatbot, CountBaseline, chatbot_param_count, next_word_accuracy


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


def test_every_step_gives_the_last_step_of_each_prefix() -> None:
    torch.manual_seed(0)
    model = Chatbot(vocab=20, every_step=True)
    tokens = torch.randint(0, 20, (3, 6))
    every = model(tokens)
    assert every.shape == (3, 6, 20)
    last_only = Chatbot(vocab=20)
    last_only.load_state_dict(model.state_dict())
    for t in (1, 4, 6):  # the logits after step t are the prediction for the prefix of t words
        assert torch.allclose(every[:, t - 1], last_only(tokens[:, :t]), atol=1e-6)
    assert torch.allclose(model.predict_proba(tokens), torch.softmax(every[:, -1], dim=-1))


def test_count_baseline_predicts_the_most_frequent_follower() -> None:
    previous = np.array([1, 1, 1, 2, 2, 3, 3, 3, 3])
    following = np.array([4, 4, 5, 5, 5, 0, 0, 0, 0])
    baseline = CountBaseline(previous, following, vocab=6, never=(0,))
    assert baseline.unigram == 5  # 0 is the most frequent follower, but never predicted
    # 1 -> 4 (twice against once), 2 -> 5; 3 was followed only by 0, and 5 never came
    # before anything: both fall back on the unigram's word
    assert baseline.predict(np.array([[1, 2], [3, 5]])).tolist() == [[4, 5], [5, 5]]
    assert baseline.predict(np.array([1, 2]), bigram=False).tolist() == [5, 5]
    with pytest.raises(ValueError, match="two \\(M,\\) arrays"):
        CountBaseline(previous, following[:-1], vocab=6)


def test_next_word_accuracy_counts_only_where_asked() -> None:
    predicted = np.array([[1, 2, 3], [4, 5, 6]])
    target = np.array([[1, 0, 3], [0, 5, 0]])
    where = np.array([[True, True, False], [False, True, True]])
    assert next_word_accuracy(predicted, target, where) == pytest.approx(2 / 4)
