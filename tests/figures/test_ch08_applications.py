"""Chapter 8's application figures draw the data they are given (checked in the axes, not in pixels)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.figures import ch08_applications as figs
from tests.figures.page_rules import figure_functions, rule_breaks


def lines_by_label(fig: Figure, axis: int = 0) -> dict[str, np.ndarray]:
    return {
        line.get_label(): np.asarray(line.get_ydata(), dtype=float) for line in fig.axes[axis].get_lines()
    }


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_forecasts_draw_the_actual_series_and_each_method() -> None:
    x = np.arange(5.0)
    actual = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    forecasts = {"persistence": np.array([0.0, 1.0, 2.0, 3.0, 2.0]), "model": actual + 0.1}
    fig = figs.plot_forecasts(x, actual, forecasts, "ppm", "title")
    lines = lines_by_label(fig)
    assert set(lines) == {"actual", "persistence", "model"}
    assert np.array_equal(lines["actual"], actual) and np.array_equal(
        lines["persistence"], forecasts["persistence"]
    )
    assert renders(fig)


def test_horizon_errors_are_one_line_per_method_over_the_horizons() -> None:
    errors = {"persistence": np.array([1.0, 2.0, 3.0]), "GRU": np.array([0.5, 0.7, 0.9])}
    fig = figs.plot_horizon_errors(errors, "ppm")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.array_equal(lines["GRU"].get_ydata(), [0.5, 0.7, 0.9])
    assert np.array_equal(lines["GRU"].get_xdata(), [1, 2, 3])  # horizons from 1
    assert lines["persistence"].get_linestyle() == "--" and lines["GRU"].get_linestyle() == "-"
    assert "horizon" in ax.get_xlabel() and "ppm" in ax.get_ylabel()


def test_anomaly_shades_exactly_the_labelled_segments_and_draws_the_threshold() -> None:
    values = np.sin(np.arange(100) / 3)
    labels = np.zeros(100, dtype=int)
    labels[40:45] = 1
    labels[70:72] = 1
    errors = np.abs(np.cos(np.arange(80)))  # errors start at index 20 of the series
    fig = figs.plot_anomaly(values, labels, errors, 0.9, (30, 90), offset=20)
    top = fig.axes[0]
    spans = [p for p in top.patches if p.get_gid() == "labelled"]
    extents = sorted((round(p.get_x()), round(p.get_x() + p.get_width())) for p in spans)
    assert extents == [(40, 45), (70, 72)]
    lines = lines_by_label(fig, 1)
    assert np.allclose(lines["threshold"], 0.9)
    assert np.array_equal(lines["|prediction error|"], errors[10:70])
    assert np.array_equal(lines_by_label(fig, 0)["series"], values[30:90])


def test_learning_curves_mark_the_lowest_validation_epoch() -> None:
    fig = figs.plot_learning_curves([3.0, 2.0, 1.5, 1.2], [2.5, 2.0, 2.2, 2.4], "t")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert np.array_equal(lines["validation"].get_ydata(), [2.5, 2.0, 2.2, 2.4])
    assert np.allclose(lines["best epoch"].get_xdata(), 2)  # epochs counted from 1


def test_token_heatmap_holds_one_row_per_quantity_and_prints_the_tokens() -> None:
    rows = {"P(fresh)": np.array([0.2, 0.5, 0.9]), "unit 7": np.array([-1.0, 0.0, 1.0])}
    fig = figs.plot_token_heatmap(["not", "bad", "\n"], rows, -1.0, 1.0, "RdBu", "t")
    ax = fig.axes[0]
    shown = ax.get_images()[0].get_array()
    assert np.array_equal(np.asarray(shown), np.stack(list(rows.values())))
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("bad") == 2 and "\\n" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == list(rows)
    assert renders(fig)


def test_sampling_distributions_draw_one_bar_per_symbol_and_setting() -> None:
    dists = {"T=0.5": np.array([0.7, 0.2, 0.1]), "T=2": np.array([0.4, 0.3, 0.3])}
    fig = figs.plot_sampling_distributions(["a", " ", "b"], dists, "t")
    heights = [round(p.get_height(), 6) for p in fig.axes[0].patches]
    assert heights == [0.7, 0.2, 0.1, 0.4, 0.3, 0.3]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "\u2423", "b"]


@pytest.mark.parametrize("bad", [{"a": [1.0, 2.0], "b": [1.0]}])
def test_horizon_errors_reject_curves_of_different_lengths(bad: dict[str, list[float]]) -> None:
    with pytest.raises(ValueError, match="same length"):
        figs.plot_horizon_errors({k: np.array(v) for k, v in bad.items()}, "ppm")


def test_token_heatmap_wraps_long_text_and_prints_it_as_large_as_the_text() -> None:
    """Chapter 8's unit heatmap once printed 56 characters at 8 pt: it wraps instead."""
    from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes

    snippet = list("def f(x):\n    return [x * 2 for x in range(10)]  # ok!!")
    rows = {"unit 1": np.linspace(-1, 1, len(snippet)), "unit 2": np.linspace(1, -1, len(snippet))}
    fig = figs.plot_token_heatmap(snippet, rows, -1.0, 1.0, "RdBu_r", "units")
    assert fig.get_size_inches()[0] <= PAGE_WIDTH + 1e-9
    assert [(t, s) for t, s in text_sizes(fig) if s < MIN_FONT_PT] == []
    lines = fig.axes[:-1]  # the last axes is the colour bar
    assert len(lines) > 1
    printed = [t.get_text() for ax in lines for t in ax.texts]
    assert printed.count("d") == 2 and len(printed) == 2 * len(snippet)  # every token, in every row
    shown = np.concatenate([np.asarray(ax.get_images()[0].get_array()) for ax in lines], axis=1)
    assert np.array_equal(shown, np.stack(list(rows.values())))


def test_token_heatmap_with_long_row_names_keeps_every_token_inside_its_cell() -> None:
    """The neuron figure names each row by its unit and properties: the names take width, the tokens
    keep 12 pt and never overlap their neighbours."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes

    snippet = list("text.quantize(Decimal('+35236450.6'), Decimal('1e-2'))\n")
    rows = {
        "unit 75: string, brackets": np.linspace(-1, 1, len(snippet)),
        "unit 17: line position": np.linspace(1, -1, len(snippet)),
    }
    fig = figs.plot_token_heatmap(snippet, rows, -1.0, 1.0, "RdBu_r", "units")
    assert fig.get_size_inches()[0] <= PAGE_WIDTH + 1e-9
    assert [(t, s) for t, s in text_sizes(fig) if s < MIN_FONT_PT] == []
    renderer = FigureCanvasAgg(fig).get_renderer()
    figure_box = fig.bbox
    for ax in fig.axes[:-1]:
        names = [label.get_window_extent(renderer) for label in ax.get_yticklabels()]
        assert all(box.x0 >= figure_box.x0 - 1 for box in names)  # the names are not cut off
        for row in range(len(rows)):
            boxes = sorted(
                (t.get_window_extent(renderer) for t in ax.texts if round(t.get_position()[1]) == row),
                key=lambda box: box.x0,
            )
            assert all(left.x1 <= right.x0 for left, right in zip(boxes, boxes[1:]))
            assert boxes[0].x0 >= max(box.x1 for box in names)  # right of the row names


# -- the page's rules: the series page's figures fit the column, their text >= 12 pt ----------------------
# (built from arrays of the page's shapes and with its labels; the sizes of texts do not depend on the data)

_MONTHS = 1992 + np.arange(48) / 12
_ANOMALY = np.zeros(7500, dtype=bool)
_ANOMALY[4150:4230] = True

SERIES_FIGURES: dict[str, Callable[[], Figure]] = {
    "plot_forecasts": lambda: figs.plot_forecasts(
        _MONTHS,
        356 + np.sin(_MONTHS * 2 * np.pi),
        {name: 356 + np.cos(_MONTHS * 2 * np.pi) for name in ("persistence", "seasonal naive", "GRU(16)")},
        "CO2 (ppm)",
        "one-step forecasts, 1992-1995",
    ),
    "plot_learning_curves": lambda: figs.plot_learning_curves(
        list(1 / np.arange(1, 40)), list(0.1 + 1 / np.arange(1, 40)), "GRU(16) on CO2 differences"
    ),
    "plot_horizon_errors": lambda: figs.plot_horizon_errors(
        {name: np.linspace(0.3, 3, 24) * k for k, name in enumerate(("persistence", "GRU(16)"), 1)}, "ppm"
    ),
    "plot_anomaly": lambda: figs.plot_anomaly(
        np.sin(np.arange(7500) / 20), _ANOMALY, np.abs(np.cos(np.arange(6300) / 7)), 0.9, (3900, 4500), 1200
    ),
}


_TEXT_TOKENS = list("def f(x):\n    return [x * 2 for x in range(10)]  # ok!!")

#: The text page's figures (the token heatmap as its neuron section draws it: three named units).
TEXT_FIGURES: dict[str, Callable[[], Figure]] = {
    "plot_perplexity_curves": lambda: figs.plot_perplexity_curves(
        {
            f"LSTM on {kind}": (list(range(100, 3001, 100)), list(scale + 8 / np.arange(1, 31)))
            for kind, scale in (("shakespeare", 4.6), ("python", 2.3))
        },
        {"5-gram, Shakespeare": 6.4, "5-gram, Python": 3.65},
        "held-out perplexity during training",
    ),
    "plot_sampling_distributions": lambda: figs.plot_sampling_distributions(
        [" ", "\n", "s", "n", "x", "a", "d", "p"],
        {name: np.linspace(0.3, 0.01, 8) for name in ("T=0.5", "T=1", "T=1.5", "top-k 5", "nucleus 0.9")},
        "next character after 'def __init__(self, '",
    ),
    "plot_token_heatmap": lambda: figs.plot_token_heatmap(
        _TEXT_TOKENS,
        {
            f"unit {unit}: {what}": np.linspace(-1, 1, len(_TEXT_TOKENS)) * sign
            for unit, what, sign in ((75, "string", 1), (17, "brackets", -1), (3, "line position", 1))
        },
        -1.0,
        1.0,
        "RdBu_r",
        "units over held-out Python they were not chosen on",
    ),
}


@pytest.mark.parametrize(
    ("page", "drawn"),
    [("ch08_applications_series", SERIES_FIGURES), ("ch08_applications_text", TEXT_FIGURES)],
)
def test_each_page_draws_exactly_its_figures(page: str, drawn: dict[str, Callable[[], Figure]]) -> None:
    source = (Path(__file__).resolve().parents[2] / "book" / f"{page}.ipynb").read_text(encoding="utf-8")
    assert {name for name in figure_functions(figs) if f"figs.{name}(" in source} == set(drawn)


def test_every_figure_of_the_module_is_checked_for_a_page() -> None:
    assert figure_functions(figs) == set(SERIES_FIGURES) | set(TEXT_FIGURES)


@pytest.mark.parametrize("name", [*SERIES_FIGURES, *TEXT_FIGURES])
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks((SERIES_FIGURES | TEXT_FIGURES)[name]()) == []
