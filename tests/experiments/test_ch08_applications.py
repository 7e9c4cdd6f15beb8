"""Chapter 8's measurement helpers: text features for the neuron search, n-gram baselines, tokens, windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnncourse.data.char_stream import CharVocab
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


def test_a_unit_chosen_for_two_properties_is_one_row_named_with_both() -> None:
    inside = {
        "properties": {
            "inside a string": {"unit": 5, "r selection": -0.4},
            "inside brackets": {"unit": 5, "r selection": -0.6},
            "position in the line": {"unit": 2, "r selection": 0.5},
        },
        "snippet": {"states": {"5": [0.5, -0.25], "2": [0.1, 0.4]}},
    }
    rows = text_ex.unit_rows(inside)
    assert list(rows) == ["unit 5: string, brackets", "unit 2: line position"]
    # scaled by the largest |state| and signed by r: red (positive) where the property holds
    assert rows["unit 5: string, brackets"].tolist() == [-1.0, 0.5]
    assert rows["unit 2: line position"].tolist() == [0.25, 1.0]


def test_look_inside_chooses_on_one_span_and_scores_on_the_other() -> None:
    """A small untrained network: the spans are the stated ones, and the snippet shows every chosen unit."""
    text = ("x = ('ab', c)\n" * 2200)[:30_000]
    vocab = CharVocab.build(text)
    model = text_ex.char_lstm(vocab.size, hidden=4, embedding=3)
    inside = text_ex.look_inside(model, model, vocab, text)
    assert inside["spans"] == {"selection": [0, 15_000], "fresh": [15_000, 30_000]}
    a, b = text_ex.NEURON_SNIPPET
    assert inside["snippet"]["text"] == text[a:b] and text_ex.NEURON_SPANS["fresh"][0] <= a
    for info in inside["properties"].values():
        assert 0 <= info["unit"] < 4 and info["unit"] in {int(u) for u in inside["snippet"]["states"]}
        assert info["probe"] == info["untrained: probe"]  # the same network twice
    with pytest.raises(ValueError, match="spans need 30000"):
        text_ex.look_inside(model, model, vocab, text[:100])


def test_window_gru_and_the_co2_setup() -> None:
    x = np.random.default_rng(0).normal(size=(40, 6))
    y = x[:, -1] * 0.5  # the next value: half the last one
    model, history = series_ex.train_window_gru((x[:30], y[:30]), (x[30:], y[30:]), hidden=4, epochs=5)
    forecasts = series_ex.predict_gru(model, x)
    assert forecasts.shape == (40,) and forecasts.dtype == np.float64
    assert len(history["val_loss"]) == 5 and history["best_epoch"][0] == int(np.argmin(history["val_loss"]))
    setup = series_ex.ForecastSetup()
    assert setup.window < setup.n_train < setup.n_fit < 526


# -- the chapter's table --------------------------------------------------------------------


def test_store_table_rewrites_the_table_whole_and_refuses_two_rows_with_one_key(
    tmp_path, monkeypatch
) -> None:
    import json

    import rnncourse.results as results

    monkeypatch.setattr(results, "FOLDER", tmp_path)
    results.store_table("t", [{"a": 1, "v": "old"}, {"a": 2, "v": "no longer produced"}], ("a",))
    path = results.store_table("t", [{"a": 3, "v": "added"}, {"a": 1, "v": "new"}], ("a",))
    assert json.loads(path.read_text()) == [{"a": 3, "v": "added"}, {"a": 1, "v": "new"}]
    with pytest.raises(ValueError, match="key fields"):
        results.store_table("t", [{"v": 1}], ("a",))
    with pytest.raises(ValueError, match="share their key"):
        results.store_table("t", [{"a": 1, "v": "x"}, {"a": 1, "v": "y"}], ("a",))


def test_the_stored_summary_is_the_stored_runs_table() -> None:
    from rnncourse.results import load

    rows = series_ex.chapter_rows()
    fields = {"application", "metric", "higher_is_better", "baseline", "model", "split", "data"}
    assert all(set(row) == fields for row in rows)
    assert all(set(row["baseline"]) == set(row["model"]) == {"name", "value"} for row in rows)
    stored = load(series_ex.SUMMARY_NAME)
    assert isinstance(stored, list)  # a list of rows, as issue 20 asks
    by_key = {(r["application"], r["split"]): r for r in stored}
    assert len(by_key) == len(stored)  # (application, split) names one row
    # current, and nothing else: rerun `python -m rnncourse.experiments.ch08_applications summary`
    assert stored == rows
    series_run = load(series_ex.RESULT_NAME)
    vowels = next(r for r in rows if r["application"].startswith("speaker"))
    assert vowels["model"]["value"] == pytest.approx(series_run["vowels"]["gru_accuracy"], abs=1e-4)


def test_model_wins_reads_the_metric_direction() -> None:
    row = series_ex.summary_row("a", "m", True, ("b", 1.0), ("m", 2.0), "s", "d")
    assert series_ex.model_wins(row)
    assert not series_ex.model_wins({**row, "higher_is_better": False})
    assert not series_ex.model_wins(series_ex.summary_row("a", "m", True, ("b", 1.0), ("m", 1.0), "s", "d"))


def test_the_untrained_network_is_where_training_starts_and_leaves_the_generator_alone() -> None:
    from rnncourse.training import set_seed

    set_seed(3)
    start = text_ex.char_lstm(11).state_dict()  # as train_char_lm makes its model after set_seed
    untrained = text_ex.initial_char_lstm(11, seed=3).state_dict()
    assert all(torch.equal(start[name], untrained[name]) for name in start)
    set_seed(3)
    expected = torch.rand(4)
    set_seed(3)
    text_ex.initial_char_lstm(11, seed=5)
    assert torch.equal(torch.rand(4), expected)  # the global generator is where it was
