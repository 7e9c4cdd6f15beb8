"""Chapter 4's figures draw what they claim: the data in the axes, the parts of the diagram."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.data.adding import BASELINE_MSE
from rnncourse.experiments import ch04_lstm as exp
from rnncourse.figures import ch04_lstm as figs
from rnncourse.figures.ch04_lstm import (
    draw_lstm_cell,
    plot_bidirectional_padding,
    plot_forget_bias,
    plot_forget_gates,
    plot_gradient_through_time,
    plot_text_learning,
)
from rnncourse.results import load
from tests.figures.page_rules import rule_breaks, unchecked_figures

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch04_lstm.ipynb"


def renders(fig: Figure) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"


def gids(fig: Figure) -> list[str]:
    return [patch.get_gid() for ax in fig.axes for patch in ax.patches]


def test_cell_diagram_has_four_gates_and_the_cell_path() -> None:
    fig = draw_lstm_cell()
    parts = gids(fig)
    assert parts.count("gate") == 4 and parts.count("sum") == 1 and parts.count("product") == 3
    assert parts.count("cell path") == 3 and parts.count("state") == 4 and parts.count("input") == 1
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for symbol in ("$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_{t-1}$", "$h_t$"):
        assert symbol in texts
    renders(fig)


def test_gradient_plot_draws_the_norms_reversed_and_floored() -> None:
    norms = np.array([0.0, 1e-8, 1e-4, 1.0])  # index t: the state after step t + 1
    fig = plot_gradient_through_time({"model": norms, "path": norms / 2}, dashed=["path"], floor=1e-30)
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    x, y = lines["model"].get_data()
    assert list(x) == [0, 1, 2, 3]
    assert list(y) == [1.0, 1e-4, 1e-8, 1e-30]  # steps back: the last state first; 0 drawn at the floor
    assert lines["path"].get_linestyle() == "--" and lines["model"].get_linestyle() == "-"
    assert ax.get_yscale() == "log"
    renders(fig)


def test_forget_bias_plot_has_one_line_per_seed_and_the_baseline() -> None:
    runs = {
        "a": [
            {"steps": [0, 10, 20], "test_mse": [1.0, 0.2, 0.01]},
            {"steps": [0, 10, 20], "test_mse": [1.0, 0.3, 0.2]},
        ],
        "b": [{"steps": [0, 10, 20], "test_mse": [0.9, 0.1, 0.005]}],
    }
    fig = plot_forget_bias(runs, baseline=1 / 6)
    assert len(fig.axes) == 2
    for ax, (label, seeds) in zip(fig.axes, runs.items()):
        seed_lines = [line for line in ax.get_lines() if line.get_gid() == "seed"]
        assert [list(line.get_ydata()) for line in seed_lines] == [run["test_mse"] for run in seeds]
        (baseline,) = [line for line in ax.get_lines() if line.get_label().startswith("predict 1")]
        assert baseline.get_ydata()[0] == pytest.approx(1 / 6)
        assert ax.get_title() == label
    renders(fig)


def test_padding_plot_shows_the_error_of_each_reversal() -> None:
    alone = np.zeros((3, 2))
    per_length = np.zeros((6, 2))
    whole = np.zeros((6, 2))
    whole[:3] = [[0.5, -0.1], [0.0, 0.2], [-0.3, 0.0]]
    fig = plot_bidirectional_padding(alone, per_length, whole)
    (ax,) = fig.axes
    heights: dict[str, list[float]] = {}
    for bar in ax.patches:
        heights.setdefault(bar.get_gid(), []).append(bar.get_height())
    assert heights["whole array"] == pytest.approx([0.5, 0.2, 0.3])
    assert heights["per length"] == [0.0, 0.0, 0.0]
    renders(fig)


def test_forget_gate_plot_draws_every_unit_and_the_curve_of_each_seed() -> None:
    rng = np.random.default_rng(0)
    runs = [
        {"steps": [0, 10, 20], "test_mse": [0.2, 0.1, 0.01], "unit_forget": rng.uniform(size=(3, 4)).tolist()}
        for _ in range(2)
    ]
    fig = plot_forget_gates(runs, 1 / 6)
    assert len(fig.axes) == 4
    for k, run in enumerate(runs):
        top, bottom = fig.axes[k], fig.axes[2 + k]
        units = [line for line in top.get_lines() if line.get_gid() == "unit"]
        assert len(units) == 4 and np.allclose(units[2].get_ydata(), np.asarray(run["unit_forget"])[:, 2])
        (median,) = [line for line in top.get_lines() if line.get_label() == "median unit"]
        assert np.allclose(median.get_ydata(), np.median(run["unit_forget"], axis=1))
        (mse,) = [line for line in bottom.get_lines() if line.get_label() == "test MSE"]
        assert np.allclose(mse.get_ydata(), run["test_mse"]) and bottom.get_yscale() == "log"
    renders(fig)


def test_text_plot_draws_each_curve_and_each_baseline_flat() -> None:
    curves = {
        "LSTM": {"steps": [0, 250, 500], "held_out_nats": [4.1, 2.3, 1.9]},
        "RNN": {"steps": [0, 250, 500], "held_out_nats": [4.1, 2.5, 2.2]},
    }
    fig = plot_text_learning(curves, {"unigram": 3.3, "5-gram": 1.8})
    (ax,) = fig.axes
    drawn = {line.get_label(): line for line in ax.get_lines()}
    for label, curve in curves.items():
        assert list(drawn[label].get_xdata()) == curve["steps"]
        assert list(drawn[label].get_ydata()) == curve["held_out_nats"]
    flat = [line for line in ax.get_lines() if line.get_gid() == "baseline"]
    assert {line.get_label(): line.get_ydata()[0] for line in flat} == {"unigram": 3.3, "5-gram": 1.8}
    assert {text.get_text() for text in ax.get_legend().get_texts()} == {"LSTM", "RNN", "unigram", "5-gram"}
    renders(fig)
    with pytest.raises(ValueError, match="at least one curve"):
        plot_text_learning({}, {"unigram": 3.3})


# -- the page's rules: a figure fits the column and its text reads like the body text ------


def _chapter_figures() -> dict[str, Callable[[], Figure]]:
    """Every figure of the page, by name, built with the page's call on the page's data.

    The data costs nothing here: the stored runs, and the page's own NumPy measurements
    (gradients through time at initialisation, the padded bidirectional layer), which
    take milliseconds.
    """

    def gradients() -> Figure:
        runs = {"tanh RNN": exp.gradient_through_time("rnn_tanh", T=100)}
        for label, bias in [
            ("LSTM, torch init (b_f near 0)", None),
            ("LSTM, b_f = 1 (Keras)", 1.0),
            ("LSTM, b_f = 3", 3.0),
            ("LSTM, b_f = -2", -2.0),
        ]:
            runs[label] = exp.gradient_through_time("lstm", T=100, forget_bias=bias)
        path = "LSTM, b_f = 3: cell path alone"
        curves = {label: r["state"] for label, r in runs.items()}
        return figs.plot_gradient_through_time(
            curves | {path: runs["LSTM, b_f = 3"]["cell_path"]}, dashed=[path]
        )

    def text() -> Figure:
        stored = load("ch04_lstm_text")
        return figs.plot_text_learning(
            {"LSTM, 128 units": stored["runs"]["lstm"], "tanh RNN, 256 units": stored["runs"]["rnn"]},
            {"character frequencies (unigram)": stored["unigram_nats"]}
            | {f"Kneser-Ney {n}-gram": nats for n, nats in stored["kneser_ney_nats"].items()},
        )

    def padding() -> Figure:
        pad = exp.bidirectional_padding(seed=0, T=8, length=3)
        return figs.plot_bidirectional_padding(pad["alone"], pad["per_length"], pad["whole_array"])

    return {
        "draw_lstm_cell": figs.draw_lstm_cell,
        "plot_gradient_through_time": gradients,
        "plot_forget_bias": lambda: figs.plot_forget_bias(
            load("ch04_lstm_forget_bias")["runs"], BASELINE_MSE
        ),
        "plot_forget_bias (T = 200)": lambda: figs.plot_forget_bias(
            load("ch04_lstm_forget_bias_long")["runs"], BASELINE_MSE
        ),
        "plot_forget_gates": lambda: figs.plot_forget_gates(
            load("ch04_lstm_forget_gates")["runs"], BASELINE_MSE
        ),
        "plot_text_learning": text,
        "plot_bidirectional_padding": padding,
    }


def test_every_figure_of_the_module_is_in_the_list_and_on_the_page() -> None:
    # "plot_forget_bias (T = 200)" is a second call of plot_forget_bias
    assert unchecked_figures(figs, {name.split(" ")[0] for name in _chapter_figures()}, PAGE) == {}


@pytest.mark.parametrize("name", list(_chapter_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_chapter_figures()[name]()) == []
