"""Figures of chapter 8's sentiment page draw the data they are given and meet the page's rules."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.figures import ch08_applications_sentiment as figs
from tests.figures.page_rules import rule_breaks, unchecked_figures

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch08_applications_sentiment.ipynb"

ACCURACY = {
    "reviews": {"bag of words": 0.71, "NBSVM": 0.77, "BiGRU(64) over fine-tuned GloVe": 0.76},
    "generated": {"bag of words": 0.49, "NBSVM": 0.74, "BiGRU(64) over fine-tuned GloVe": 0.99},
}
CHANCE = {"reviews": 0.58, "generated": 0.5}
SENTENCES = [
    (["the", "film", "is", "not", "entertaining", "."], [0.5, 0.52, 0.55, 0.4, 0.1, 0.08]),
    (
        ["the", "cast", "is", "dull", ",", "but", "the", "acting", "is", "never", "lifeless", "."],
        list(np.linspace(0.1, 0.9, 12)),
    ),
]


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()[:4] == b"\x89PNG"


def test_accuracies_draw_one_bar_per_model_and_set_at_its_value() -> None:
    fig = figs.plot_accuracies(ACCURACY, CHANCE)
    bars = {p.get_gid(): p for ax in fig.axes for p in ax.patches}
    assert set(bars) == {f"{s}|{m}" for s in ACCURACY for m in ACCURACY[s]}
    for gid, bar in bars.items():
        name, model = gid.split("|")
        assert bar.get_width() == pytest.approx(ACCURACY[name][model])
    for ax, name in zip(fig.axes, ACCURACY):
        (line,) = [line for line in ax.get_lines() if line.get_gid() == "chance"]
        assert line.get_xdata()[0] == CHANCE[name]
    assert renders(fig)


def test_accuracies_need_the_same_models_everywhere() -> None:
    with pytest.raises(ValueError, match="same models"):
        figs.plot_accuracies({"a": {"x": 0.5}, "b": {"y": 0.5}}, {"a": 0.5, "b": 0.5})


def test_confidence_colours_each_token_by_its_probability() -> None:
    fig = figs.plot_confidence(SENTENCES, "P(positive)")
    ax = fig.axes[0]
    grid = ax.get_images()[0].get_array()
    assert grid.shape == (2, 12)
    assert np.allclose(grid[0, :6], SENTENCES[0][1]) and np.all(grid.mask[0, 6:])
    assert np.allclose(grid[1], SENTENCES[1][1])
    written = [t.get_text() for t in ax.texts]
    assert written == SENTENCES[0][0] + SENTENCES[1][0]
    assert renders(fig)


def test_confidence_needs_a_probability_per_token() -> None:
    with pytest.raises(ValueError, match="one probability per token"):
        figs.plot_confidence([(["a", "b"], [0.5])], "t")


def _figures() -> dict[str, Callable[[], Figure]]:
    return {
        "plot_accuracies": lambda: figs.plot_accuracies(ACCURACY, CHANCE),
        "plot_confidence": lambda: figs.plot_confidence(SENTENCES, "P(positive) after each word"),
    }


def test_every_figure_of_the_module_is_in_the_list_and_on_the_page() -> None:
    assert unchecked_figures(figs, _figures(), PAGE) == {}


@pytest.mark.parametrize("name", list(_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_figures()[name]()) == []
