"""Chapter 8's measurement helpers: text features for the neuron search, n-gram baselines, tokens, windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnncourse.experiments import ch08_applications as series_ex
from rnncourse.experiments import ch08_applications_text as text_ex


def test_text_features_follow_quotes_brackets_and_lines() -> None:
    f = text_ex.text_features('a("x(", b)\nc')
    #                          a ( " x ( " ,   b ) \n c
    assert f["inside a string"].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert f["inside brackets"].tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    assert f["position in the line"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1]


def test_ngram_perplexity_by_hand() -> None:
    # A unigram model with alpha = 0 on "aab": P(a) = 2/3, P(b) = 1/3; held-out "ab" -> exp(-(ln 2/3 + ln 1/3) / 2).
    train, held = np.array([0, 0, 1]), np.array([0, 1])
    expected = math.exp(-(math.log(2 / 3) + math.log(1 / 3)) / 2)
    assert text_ex.ngram_perplexity(train, held, V=2, order=1, alpha=0.0) == pytest.approx(expected)
    # A bigram model on an alternating text predicts the alternation perfectly (perplexity 1 without smoothing).
    alternating = np.array([0, 1] * 10)
    assert text_ex.ngram_perplexity(alternating, alternating, V=2, order=2, alpha=0.0) == pytest.approx(1.0)


def test_review_tokens_split_punctuation_and_negation_like_glove() -> None:
    assert text_ex.review_tokens("It isn't GOOD, really.") == ["it", "is", "n't", "good", ",", "really", "."]


def test_best_units_finds_a_planted_unit() -> None:
    rng = np.random.default_rng(0)
    feature = (rng.random(500) < 0.3).astype(float)
    states = rng.normal(size=(500, 6))
    states[:, 4] = -2.0 * feature + 0.1 * rng.normal(size=500)
    unit, r = text_ex.best_units(states, {"f": feature})["f"]
    assert unit == 4 and r < -0.95


def test_glove_lstm_reads_each_review_up_to_its_length() -> None:
    torch.manual_seed(0)
    vectors = torch.randn(10, 4)
    model = text_ex.GloveLSTM(vectors, hidden=3)
    ids = torch.tensor([[2, 3, 4, 0, 0], [5, 6, 7, 8, 9]])
    lengths = torch.tensor([3, 5])
    batch = model(ids, lengths)
    alone = model(ids[:1, :3], lengths[:1])
    assert torch.allclose(batch[0], alone[0], atol=1e-6)
    steps = model.per_step(ids, lengths)
    assert torch.allclose(steps[0, 2], batch[0], atol=1e-6) and torch.allclose(
        steps[1, 4], batch[1], atol=1e-6
    )
    assert not model.embed.weight.requires_grad  # frozen


def test_window_gru_and_the_co2_setup() -> None:
    model = series_ex.WindowGRU(hidden=4)
    assert series_ex.predict_gru(model, np.zeros((3, 7))).shape == (3,)
    setup = series_ex.ForecastSetup()
    assert setup.window < setup.n_train < setup.n_fit < 526
