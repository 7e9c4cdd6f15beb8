"""Figures of chapter 8's translation page draw the data they are given, within the page's rules."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.figures import ch08_applications_translation as figs
from tests.figures.page_rules import rule_breaks, unchecked_figures

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch08_applications_translation.ipynb"
BUCKETS = [
    {"lo": 1, "hi": 11, "pairs": 55, "bleu": 38.5},
    {"lo": 11, "hi": 13, "pairs": 43, "bleu": 28.0},
    {"lo": 13, "hi": 17, "pairs": 102, "bleu": 12.5},
]


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()[:4] == b"\x89PNG"


def test_validation_bleu_rings_the_kept_epoch_of_each_split() -> None:
    fig = figs.plot_validation_bleu(
        {"random": [5.0, 20.0, 18.0], "ordered": [1.0, 2.0]}, {"random": 2, "ordered": 2}
    )
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines() if line.get_gid() != "best"}
    assert list(lines["random"].get_ydata()) == [5.0, 20.0, 18.0] and list(lines["ordered"].get_xdata()) == [
        1,
        2,
    ]
    rings = [
        (line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines() if line.get_gid() == "best"
    ]
    assert rings == [(2, 20.0), (2, 2.0)]
    assert renders(fig)


def test_alignment_shows_the_weights_and_dots_each_rows_peak() -> None:
    weights = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])
    fig = figs.plot_alignment(weights, ["a", "b", "<eos>"], ["x", "<eos>"])
    ax = fig.axes[0]
    assert np.array_equal(ax.get_images()[0].get_array(), weights)
    (peak,) = [line for line in ax.get_lines() if line.get_gid() == "peak"]
    assert list(peak.get_xdata()) == [1, 0] and list(peak.get_ydata()) == [0, 1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "<eos>"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "<eos>"]
    with pytest.raises(ValueError, match="expected"):
        figs.plot_alignment(weights, ["a"], ["x", "<eos>"])


def test_bleu_by_length_draws_one_bar_per_system_and_bucket_with_its_count() -> None:
    other = [dict(row, bleu=row["bleu"] / 2) for row in BUCKETS]
    fig = figs.plot_bleu_by_length({"seq2seq": BUCKETS, "retrieval": other}, top=50)
    (ax,) = fig.axes
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [38.5, 28.0, 12.5, 19.25, 14.0, 6.25]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1-10\n(55 verses)", "11-12\n(43 verses)", "13-16\n(102 verses)"]
    assert ax.get_ylim() == (0, 50)


def _every_figure() -> dict[str, Figure]:
    weights = np.full((14, 17), 1 / 17)
    return {
        "plot_validation_bleu": figs.plot_validation_bleu({"random": list(range(30))}, {"random": 25}),
        "plot_alignment": figs.plot_alignment(weights, ["word"] * 17, ["mot"] * 14),
        "plot_bleu_by_length": figs.plot_bleu_by_length({"a": BUCKETS, "b": BUCKETS}, title="test BLEU"),
    }


def test_every_figure_is_built_here_and_drawn_on_the_page() -> None:
    assert unchecked_figures(figs, _every_figure(), PAGE) == {}


@pytest.mark.parametrize("name", sorted(_every_figure()))
def test_the_figures_fit_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_every_figure()[name]) == []
