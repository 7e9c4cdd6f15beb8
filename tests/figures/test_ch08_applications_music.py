"""The music page's figure draws the roll it is given and meets the page's rules."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.data.music import abc_to_notes
from rnncourse.experiments.ch08_applications_music import piano_roll
from rnncourse.figures import ch08_applications_music as music_figures
from rnncourse.figures.ch08_applications_music import plot_piano_roll
from rnncourse.results import load
from tests.figures.page_rules import rule_breaks, unchecked_figures

MUSIC_PAGE = Path(__file__).resolve().parents[2] / "book" / "ch08_applications_music.ipynb"


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()[:4] == b"\x89PNG"


def test_piano_roll_places_pitches_by_extent() -> None:
    roll = np.zeros((5, 8))
    roll[0, :4] = 1
    roll[4, 4:] = 1
    fig = plot_piano_roll(roll, lowest_pitch=60, steps_per_beat=4, title="t")
    (ax,) = fig.axes
    image = ax.get_images()[0]
    assert np.array_equal(image.get_array(), roll)
    assert tuple(image.get_extent()) == (0, 2.0, 59.5, 64.5)  # 8 steps of a quarter beat; pitches 60..64
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C4"]
    assert renders(fig)


# -- the page's rules: every figure of the music page fits the column, its text >= 12 pt ---------------


def _music_figures() -> dict[str, Callable[[], Figure]]:
    """Each figure of ``figures/ch08_applications_music.py`` as the music page builds it: the stored
    run's tune, read up to the end of its first tune, with the page's title."""
    sample = load("ch08_applications_music")["music"]["sample"]
    melody = sample["text"][len(sample["header"]) :].split("\n\n")[0]
    roll, lowest = piano_roll(abc_to_notes(melody, key="D", unit="1/8"))
    return {
        "plot_piano_roll": lambda: plot_piano_roll(
            roll, lowest, steps_per_beat=4, title="the stored model's tune, K:D, 6/8"
        ),
    }


def test_every_music_figure_is_checked_and_on_the_page() -> None:
    assert unchecked_figures(music_figures, _music_figures(), MUSIC_PAGE) == {}


@pytest.mark.parametrize("name", list(_music_figures()))
def test_every_music_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_music_figures()[name]()) == []
