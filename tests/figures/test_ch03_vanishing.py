"""Chapter 3's figures draw the data they are given: lines, scales, reference lines and marks."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.data.adding import BASELINE_MSE
from rnncourse.figures import ch03_vanishing as figures
from rnncourse.figures.ch03_vanishing import (
    draw_backward_chain,
    plot_adding_curves,
    plot_exploding,
    plot_gradient_decay,
    plot_input_gradients,
    plot_power_norms,
)
from rnncourse.results import load
from rnncourse.scratch.gradient_flow import diagnose, non_normal_matrix, power_norms
from tests.figures.page_rules import figure_functions, not_on_the_page, rule_breaks

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch03_vanishing.ipynb"


def _renders(fig: Figure) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def _lines(ax, gid: str | None = None):
    return [line for line in ax.get_lines() if gid is None or line.get_gid() == gid]


@pytest.mark.parametrize("steps", [2, 4, 6])
def test_backward_chain_has_one_state_per_step_and_one_backward_arrow_per_jacobian(steps: int) -> None:
    fig = draw_backward_chain(steps)
    ax = fig.axes[0]
    states = [p for p in ax.patches if p.get_gid() == "state"]
    backward = [p for p in ax.patches if p.get_gid() == "weight"]
    assert len(states) == steps + 1 and len(backward) == steps
    labels = " ".join(text.get_text() for text in ax.texts)
    assert "J_T" in labels and "h_T" in labels and "$L$" in labels
    _renders(fig)


def test_gradient_decay_plots_the_ratios_and_dashed_bounds_on_a_log_scale() -> None:
    k = np.arange(21)
    ratios = {"radius 0.5": 0.5**k, "radius 1.5": 1.5**k}
    bounds = {"radius 0.5": 0.7**k}
    fig = plot_gradient_decay(ratios, bounds, marks={"not": 3})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    by_label = {line.get_label(): line for line in ax.get_lines()}
    assert np.allclose(by_label["radius 1.5"].get_ydata(), 1.5**k)
    assert np.allclose(by_label["radius 0.5"].get_xdata(), k)
    (bound,) = _lines(ax, "bound")
    assert np.allclose(bound.get_ydata(), 0.7**k) and bound.get_linestyle() == "--"
    assert bound.get_color() == by_label["radius 0.5"].get_color()  # a bound in its line's colour
    assert any("not" in text.get_text() for text in ax.texts)
    _renders(fig)


def test_power_norms_against_rho_and_sigma() -> None:
    norms = [1.0, 3.0, 5.0, 4.0, 2.0]
    fig = plot_power_norms(norms, sigma_max=3.0, spectral_radius=0.5)
    ax = fig.axes[0]
    ys = {line.get_label(): np.asarray(line.get_ydata()) for line in ax.get_lines()}
    measured = next(v for label, v in ys.items() if "measured" in label)
    rho = next(v for label, v in ys.items() if "rho" in label)
    sigma = next(v for label, v in ys.items() if "sigma" in label)
    assert (
        np.allclose(measured, norms)
        and np.allclose(rho, 0.5 ** np.arange(5))
        and np.allclose(sigma, 3.0 ** np.arange(5))
    )
    assert ax.get_yscale() == "log"


def test_exploding_marks_the_nonfinite_step_in_both_panels() -> None:
    runs = {
        "plain": {"loss": [1.0, 10.0, 1e6, float("inf")], "grad_norm": [5.0, 50.0, 1e8, float("nan")]},
        "clipped": {"loss": [1.0, 0.5, 0.4, 0.3, 0.2], "grad_norm": [5.0, 2.0, 1.0, 1.0, 0.5]},
    }
    fig = plot_exploding(runs, {"plain": 3, "clipped": None})
    assert len(fig.axes) == 2
    for ax, key in zip(fig.axes, ("loss", "grad_norm")):
        (cross,) = _lines(ax, "nonfinite")
        assert list(cross.get_xdata()) == [3]
        plain = next(line for line in ax.get_lines() if line.get_label() == "plain")
        values = np.asarray(plain.get_ydata(), dtype=float)
        assert np.isnan(values[3]) and values[2] == runs["plain"][key][2]  # inf drawn as a gap
        assert ax.get_yscale() == "log"
    assert _lines(fig.axes[0], "baseline") == []


def test_exploding_draws_the_baseline_on_the_loss_panel_only() -> None:
    runs = {"stuck": {"loss": [0.3, 0.17, 0.16], "grad_norm": [1.0, 0.5, 0.4]}}
    fig = plot_exploding(runs, {"stuck": None}, baseline=1 / 6)
    (line,) = _lines(fig.axes[0], "baseline")
    assert np.allclose(line.get_ydata(), 1 / 6)
    assert _lines(fig.axes[1], "baseline") == []
    _renders(fig)


def test_input_gradients_start_at_step_one() -> None:
    fig = plot_input_gradients({"IRNN": [1.0, 1.0, 1.0], "tanh": [1e-6, 1e-3, 1.0]})
    ax = fig.axes[0]
    tanh = next(line for line in ax.get_lines() if line.get_label() == "tanh")
    assert list(tanh.get_xdata()) == [1, 2, 3] and np.allclose(tanh.get_ydata(), [1e-6, 1e-3, 1.0])
    assert ax.get_yscale() == "log"


def test_adding_curves_one_panel_per_length_with_the_baseline() -> None:
    curves = {
        10: {"RNN": ([0, 50, 100], [1.0, 0.1, 0.005]), "GRU": ([0, 50], [1.0, 0.004])},
        50: {"RNN": ([0, 50, 100], [1.0, 0.17, 0.17])},
    }
    fig = plot_adding_curves(curves, baseline=1 / 6)
    assert [ax.get_title() for ax in fig.axes] == ["T = 10", "T = 50"]
    for ax in fig.axes:
        (baseline,) = _lines(ax, "baseline")
        assert np.allclose(baseline.get_ydata(), 1 / 6)
    gru = next(line for line in fig.axes[0].get_lines() if line.get_label() == "GRU")
    assert list(gru.get_xdata()) == [0, 50] and list(gru.get_ydata()) == [1.0, 0.004]
    rnn_colours = {
        line.get_color() for ax in fig.axes for line in ax.get_lines() if line.get_label() == "RNN"
    }
    assert len(rnn_colours) == 1  # one colour per model across the panels
    _renders(fig)


# -- the page's rules: a figure fits the column and its text reads like the body text ------


def _chapter_figures() -> dict[str, Callable[[], Figure]]:
    """Every figure of the page, by function, drawn with the page's labels and marks.

    The data is the page's where it costs nothing (the diagram, the non-normal powers, the
    stored adding runs); where the page trains or measures, curves of the same length and
    range stand in (the rule is about text, which the data does not change).
    """
    W = non_normal_matrix(10, 0.9, 2.0)
    sigma, rho, _ = diagnose(W, gamma=1.0)
    k = np.arange(101)
    names = ["spectral radius 0.5", "spectral radius 1.0", "spectral radius 1.5", "non-normal, radius 0.9"]
    ratios = {name: float(r) ** k for name, r in zip(names, (0.5, 1.0, 1.5, 0.9))}
    bounds = {name: 2.0**k for name in names}
    losses = np.full(300, 0.17)
    losses[1] = 5.7e6
    runs = {
        "SGD": {"loss": [*losses[:47], float("nan")], "grad_norm": [*np.full(47, 1e3), float("nan")]},
        "SGD, clipped at 1": {"loss": losses, "grad_norm": np.full(300, 3.0)},
        "IRNN, Adam 0.001, clipped": {"loss": np.geomspace(1.0, 1e-2, 300), "grad_norm": np.ones(300)},
        "GRU, Adam 0.01, clipped": {"loss": np.geomspace(1.0, 1e-3, 300), "grad_norm": np.ones(300)},
    }
    models = [
        "tanh RNN, torch default",
        "tanh RNN, orthogonal",
        "IRNN (ReLU, W_hh = I)",
        "LSTM, torch default",
        "GRU, torch default",
    ]
    curves: dict[int, dict[str, tuple]] = {}
    for run in load("ch03_vanishing_adding")["runs"]:
        if run["seed"] == 0 and run["row"] in ("tanh RNN", "LSTM", "GRU"):
            curves.setdefault(run["length"], {})[run["row"]] = (run["steps"], run["test_mse"])
    return {
        "draw_backward_chain": lambda: draw_backward_chain(steps=4),
        "plot_power_norms": lambda: plot_power_norms(power_norms(W, 400), sigma, rho),
        "plot_gradient_decay": lambda: plot_gradient_decay(
            ratios, bounds, marks={'"not" (k = 3)': 3, "umbrella (k = 9)": 9}
        ),
        "plot_exploding": lambda: plot_exploding(runs, {"SGD": 47}, baseline=BASELINE_MSE),
        "plot_input_gradients": lambda: plot_input_gradients(
            {name: np.geomspace(10.0 ** (-5 * i), 1.0, 100) for i, name in enumerate(models)}
        ),
        "plot_adding_curves": lambda: plot_adding_curves(curves, BASELINE_MSE),
    }


def test_every_figure_of_the_module_is_in_the_list_and_on_the_page() -> None:
    assert figure_functions(figures) == set(_chapter_figures()), (
        "a new figure needs a line in _chapter_figures"
    )
    assert not_on_the_page(figure_functions(figures), PAGE) == set()


@pytest.mark.parametrize("name", list(_chapter_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_chapter_figures()[name]()) == []
