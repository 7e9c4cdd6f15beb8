"""The figures of chapter 2 draw what their captions say: checked through the data in their axes."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse import results
from rnncourse.figures import ch02_bptt as figs
from tests.figures.page_rules import figure_functions, not_on_the_page, rule_breaks

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch02_bptt.ipynb"


def _by_gid(ax, gid: str) -> list:  # type: ignore[no-untyped-def]
    return [patch for patch in ax.patches if patch.get_gid() == gid]


@pytest.mark.parametrize("steps", [3, 4])
def test_graph_has_a_loss_per_step_and_two_backward_arrows_into_each_state(steps: int) -> None:
    (ax,) = figs.draw_bptt_graph(steps).axes
    assert len(_by_gid(ax, "state")) == steps + 1  # h_0 .. h_T
    assert len(_by_gid(ax, "input")) == len(_by_gid(ax, "loss")) == steps
    forward, backward = _by_gid(ax, "forward"), _by_gid(ax, "backward")
    assert len(forward) == 3 * steps and len(backward) == 2 * steps
    labels = {text.get_text() for text in ax.texts}
    assert {f"$L_{{{t}}}$" for t in range(1, steps + 1)} <= labels
    assert any("delta_t" in label and "J_{t+1}" in label for label in labels)
    # Backward arrows point right-to-left (state to state) or top-down (loss to state).
    for patch in backward:
        (x0, y0), (x1, y1) = patch._posA_posB  # type: ignore[attr-defined]
        assert x1 < x0 or y1 < y0


def test_clipping_keeps_the_direction_by_norm_and_not_by_element() -> None:
    (ax,) = figs.draw_clipping((3.0, 0.8), 1.0).axes
    lines = {line.get_label(): np.asarray(line.get_xydata()) for line in ax.lines}
    end = {label: xy[-1] for label, xy in lines.items() if xy.shape[0] == 2}
    g, by_norm, by_entry = end["gradient"], end["clipped by global norm"], end["clipped element by element"]
    assert np.allclose(g, [3.0, 0.8])
    assert math.isclose(np.linalg.norm(by_norm), 1.0, rel_tol=1e-12)
    assert math.isclose(by_norm[1] / by_norm[0], 0.8 / 3.0, rel_tol=1e-12)  # same direction
    assert np.allclose(by_entry, [1.0, 0.8])  # each entry cut, a new direction
    circle = lines["norm = threshold"]
    assert np.allclose(np.hypot(circle[:, 0], circle[:, 1]), 1.0)


def test_truncation_plot_shows_the_mean_over_seeds_and_marks_k_equal_d() -> None:
    rows = [
        {"d": 5, "k": k, "accuracy": a, "seed": s}
        for k, a0 in [(2, 0.6), (8, 1.0)]
        for s, a in enumerate([a0, a0 - 0.1])
    ]
    (ax,) = figs.plot_truncation(rows).axes
    line = next(line for line in ax.lines if line.get_label() == "d = 5")
    assert list(line.get_xdata()) == [2, 8]
    assert np.allclose(line.get_ydata(), [0.55, 0.95])
    verticals = [line for line in ax.lines if list(line.get_xdata()) == [5, 5]]
    assert len(verticals) == 1
    assert ax.get_xscale() == "log"


def test_cost_plot_has_time_and_memory_for_both_methods() -> None:
    rows = [
        {"T": T, "k": k, "cpu_seconds": T * 1e-3, "saved_bytes": (T if k is None else 50) * 1e5}
        for T in (100, 500, 1000)
        for k in (None, 50)
    ]
    ax_time, ax_memory = figs.plot_cost(rows).axes
    memory = {line.get_label(): line for line in ax_memory.lines}
    assert set(memory) == {"full BPTT", "truncated, k = 50"}
    assert np.allclose(memory["full BPTT"].get_ydata(), [10.0, 50.0, 100.0])  # MB
    assert np.allclose(memory["truncated, k = 50"].get_ydata(), [5.0, 5.0, 5.0])
    assert np.allclose(next(iter(ax_time.lines)).get_xdata(), [100, 500, 1000])


def test_char_lm_plot_smooths_the_training_loss_and_draws_the_uniform_line() -> None:
    losses = list(np.linspace(4.0, 2.0, 200))
    valid = [(100, 3.1), (200, 2.2)]
    (ax,) = figs.plot_char_lm(losses, valid, uniform=4.1, window=50).axes
    lines = {line.get_label(): line for line in ax.lines}
    train = lines["training (moving average)"]
    assert len(train.get_xdata()) == 151 and train.get_xdata()[0] == 50
    assert math.isclose(train.get_ydata()[0], float(np.mean(losses[:50])), rel_tol=1e-12)
    assert list(lines["validation (held-out play)"].get_ydata()) == [3.1, 2.2]
    assert list(lines["uniform guess, ln V"].get_ydata()) == [4.1, 4.1]


@pytest.mark.parametrize("steps", [2, 3, 5])
def test_shared_weights_has_one_matrix_used_and_credited_at_every_step(steps: int) -> None:
    (ax,) = figs.draw_shared_weights(steps).axes
    assert len(_by_gid(ax, "shared")) == 1  # W_hh is drawn once, however many steps
    assert len(_by_gid(ax, "state")) == steps + 1 and len(_by_gid(ax, "loss")) == steps
    assert len(_by_gid(ax, "use")) == len(_by_gid(ax, "contribution")) == steps
    labels = {text.get_text() for text in ax.texts}
    for t in range(1, steps + 1):  # the term of each use multiplies the state before the step
        assert any(f"delta_{{{t}}}" in label and f"h_{{{t - 1}}}" in label for label in labels)
    # Contributions point down, from the transition to the shared matrix.
    for patch in _by_gid(ax, "contribution"):
        (_, y0), (_, y1) = patch._posA_posB  # type: ignore[attr-defined]
        assert y1 < y0


# -- the page's rules: a figure fits the column and its text reads like the body text ------


def _chapter_figures() -> dict[str, Callable[[], Figure]]:
    """Every figure of the page, by function, built with the page's call on the stored runs it reads."""
    shakespeare = results.load("ch02_bptt_shakespeare")
    return {
        "plot_char_lm": lambda: figs.plot_char_lm(
            shakespeare["losses"], shakespeare["valid"], shakespeare["uniform_nats"]
        ),
        "draw_bptt_graph": lambda: figs.draw_bptt_graph(steps=4),
        "draw_shared_weights": lambda: figs.draw_shared_weights(steps=3),
        "plot_truncation": lambda: figs.plot_truncation(results.load("ch02_bptt_delay")["rows"]),
        "plot_cost": lambda: figs.plot_cost(results.load("ch02_bptt_cost")["rows"]),
        "draw_clipping": lambda: figs.draw_clipping(gradient=(3.0, 0.8), threshold=1.0),
    }


def test_every_figure_of_the_module_is_in_the_list_and_on_the_page() -> None:
    assert figure_functions(figs) == set(_chapter_figures()), "a new figure needs a line in _chapter_figures"
    assert not_on_the_page(figure_functions(figs), PAGE) == set()


@pytest.mark.parametrize("name", list(_chapter_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_chapter_figures()[name]()) == []
