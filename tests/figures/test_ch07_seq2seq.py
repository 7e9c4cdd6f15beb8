"""Chapter 7's figures draw the data they claim: read back from the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rnncourse.figures import ch07_seq2seq as figs
from rnncourse.scratch.decoding import length_penalty


def test_smooth_is_a_running_mean() -> None:
    assert figs.smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]


def test_training_plots_each_smoothed_curve_on_a_log_axis() -> None:
    fig = figs.plot_training({"a": [4.0, 2.0, 1.0], "b": [1.0, 1.0, 1.0]}, window=1)
    ax = fig.axes[0]
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert list(lines["a"]) == [4.0, 2.0, 1.0] and list(lines["b"]) == [1.0, 1.0, 1.0]
    assert ax.get_yscale() == "log"


def test_accuracy_by_length_puts_each_value_at_its_bin() -> None:
    fig = figs.plot_accuracy_by_length(
        {"fixed": [1.0, 0.5, 0.0], "attention": [1.0, 1.0, 0.9]}, (2, 6, 10, 14)
    )
    ax = fig.axes[0]
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}
    assert lines["fixed"] == ([3.5, 7.5, 11.5], [1.0, 0.5, 0.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2-5", "6-9", "10-13"]


def test_attention_shows_the_weights_with_source_and_target_labels() -> None:
    weights = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5]])
    fig = figs.plot_attention(weights, ["a", " ", "<eos>"], ["x", "<eos>"])
    ax = fig.axes[0]
    assert np.array_equal(ax.get_images()[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", " ", "<eos>"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "<eos>"]
    with pytest.raises(ValueError, match="expected"):
        figs.plot_attention(weights, ["a"], ["x", "<eos>"])


def test_length_penalty_panels_show_the_long_output_overtaking() -> None:
    fig = figs.plot_length_penalty([0.0, 1.0], [1, 2, 3], (2, -1.0), (12, -1.6))
    left, right = fig.axes[:2]
    penalties = {line.get_label(): list(line.get_ydata()) for line in left.get_lines()}
    assert penalties["alpha = 0"] == [1.0, 1.0, 1.0]
    assert penalties["alpha = 1"] == [length_penalty(n, 1.0) for n in (1, 2, 3)]
    scores = {line.get_label(): np.asarray(line.get_ydata()) for line in right.get_lines()}
    short, long = scores["|y| = 2, log p = -1"], scores["|y| = 12, log p = -1.6"]
    assert short[0] > long[0] and long[-1] > short[-1]  # the crossing the caption describes


def test_beam_widths_draw_one_line_per_alpha_in_points_and_ratios() -> None:
    rows = [
        {"k": k, "alpha": a, "bleu": 0.1 * k / (1 + a), "length_ratio": 1.0 - 0.01 * k + 0.1 * a}
        for k in (1, 5, 10)
        for a in (0.0, 1.0)
    ]
    fig = figs.plot_beam_widths(rows, {"bleu": 0.12, "length_ratio": 0.95})
    left, right = fig.axes[:2]
    bleu = {line.get_label(): list(line.get_ydata()) for line in left.get_lines()}
    assert np.allclose(bleu["beam, alpha = 0"], [10.0, 50.0, 100.0])  # in points
    assert np.allclose(bleu["greedy"], [12.0, 12.0])
    ratio = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in right.get_lines()}
    assert ratio["beam, alpha = 1"] == ([1, 5, 10], pytest.approx([1.09, 1.05, 1.0]))


def test_attention_labels_are_as_large_as_the_text_and_never_overlap() -> None:
    """Chapter 7's heatmap once printed a tick over <eos>: upright labels at least MIN_FONT_PT apart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes

    source = [*"21 nov 2026", "<eos>"]
    target = [*"2026-11-21", "<eos>"]
    weights = np.full((len(target), len(source)), 1 / len(source))
    fig = figs.plot_attention(weights, source, target, title="attention")
    assert fig.get_size_inches()[0] <= PAGE_WIDTH + 1e-9
    assert [(t, s) for t, s in text_sizes(fig) if s < MIN_FONT_PT] == []
    renderer = FigureCanvasAgg(fig).get_renderer()
    for labels in (fig.axes[0].get_xticklabels(), fig.axes[0].get_yticklabels()):
        boxes = [label.get_window_extent(renderer) for label in labels if label.get_text().strip()]
        overlaps = [(a, b) for a, b in zip(boxes, boxes[1:]) if a.overlaps(b)]
        assert overlaps == []


@pytest.mark.parametrize("name", ["beam widths", "score by length", "training within a decade"])
def test_the_verse_figures_fit_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes

    rows = [{"k": k, "alpha": a, "bleu": 0.2, "length_ratio": 0.9} for k in (1, 5, 20) for a in (0.0, 1.0)]
    fig = {
        "beam widths": lambda: figs.plot_beam_widths(rows, {"bleu": 0.2, "length_ratio": 0.95}),
        "score by length": lambda: figs.plot_accuracy_by_length(
            {"a": [0.3, 0.2], "b": [0.2, 0.1]}, [1, 11, 13], title="verses", ylabel="BLEU"
        ),
        # a loss from 4 to 0.2: matplotlib labels the log axis's minor ticks
        "training within a decade": lambda: figs.plot_training(
            {"a": [4.0, 2.0, 1.0], "b": [0.5, 0.3, 0.2]}, window=1
        ),
    }[name]()
    assert fig.get_size_inches()[0] <= PAGE_WIDTH + 1e-9
    assert [(t, s) for t, s in text_sizes(fig) if s < MIN_FONT_PT] == []
