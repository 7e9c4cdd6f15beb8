"""Figures of chapter 8's captioning page draw what they are given, within the page's rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.figures import ch08_applications_captioning as figs
from tests.figures.page_rules import rule_breaks, unchecked_figures

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch08_applications_captioning.ipynb"


def _strip(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((8, 24))


def _strips() -> Figure:
    return figs.plot_strips(
        [_strip(0), _strip(1)],
        ["three one four", "one five nine"],
        [
            ["model: three one four", "nearest: three one seven"],
            ["model: one five nine", "nearest: seven five nine"],
        ],
    )


def _attention() -> Figure:
    weights = np.full((4, 12), 1 / 12)
    weights[0] = np.r_[np.full(4, 0.25), np.zeros(8)]
    return figs.plot_strip_attention(_strip(2), ["three", "one", "four", "<eos>"], weights)


def _chapter_figures() -> dict[str, Callable[[], Figure]]:
    return {"plot_strips": _strips, "plot_strip_attention": _attention}


def test_strips_carry_their_true_and_generated_captions() -> None:
    fig = _strips()
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title(loc="left") == "true: three one four"
    assert fig.axes[1].get_ylabel() == "model: one five nine\nnearest: seven five nine"
    assert np.array_equal(fig.axes[0].get_images()[0].get_array(), _strip(0))
    with pytest.raises(ValueError, match="same, non-zero number"):
        figs.plot_strips([_strip(0)], ["a", "b"], [["x"]])


def test_the_attention_heatmap_sits_under_the_strip_with_a_row_per_word() -> None:
    fig = _attention()
    strip, heat = fig.axes[0], fig.axes[1]
    assert np.array_equal(strip.get_images()[0].get_array(), _strip(2))
    shown = heat.get_images()[0]
    assert shown.get_array().shape == (4, 12) and shown.get_array()[0, 0] == 0.25
    # both span the strip's 24 pixel columns, so a cell sits under the pixels it weighs
    assert tuple(shown.get_extent()[:2]) == tuple(strip.get_images()[0].get_extent()[:2]) == (0, 24)
    assert [t.get_text() for t in heat.get_yticklabels()] == ["three", "one", "four", "<eos>"]
    with pytest.raises(ValueError, match="words for"):
        figs.plot_strip_attention(_strip(2), ["three"], np.ones((2, 12)) / 12)
    with pytest.raises(ValueError, match="column pairs"):
        figs.plot_strip_attention(np.ones((8, 16)), ["a", "b"], np.ones((2, 12)) / 12)


def test_every_figure_of_the_module_is_in_the_list_and_on_the_page() -> None:
    assert unchecked_figures(figs, set(_chapter_figures()), PAGE) == {}


@pytest.mark.parametrize("name", sorted(_chapter_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_chapter_figures()[name]()) == []
