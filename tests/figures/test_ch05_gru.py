"""Chapter 5's figures draw the data they are given: lines, bars and dots read back from the axes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.data.adding import adding_problem
from rnncourse.experiments import ch05_gru as experiment
from rnncourse.figures import ch05_gru as figs
from rnncourse.figures.ch05_gru import (
    KIND_COLORS,
    draw_gru_cell,
    plot_costs,
    plot_counting,
    plot_gru_gates,
    plot_learning_curves,
    plot_summary,
    plot_variants,
    table_rows,
)
from rnncourse.porting import gate_activations
from rnncourse.results import load
from rnncourse.scratch.gru import gru_reset_before_step_forward, gru_step_forward
from tests.figures.page_rules import rule_breaks, unchecked_figures

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch05_gru.ipynb"

KINDS = ("rnn", "lstm", "lstm_fb1", "gru")


def fake_result() -> dict:
    """A comparison of the stored file's form with numbers chosen here, distinct per series."""
    runs, summary, seconds = {}, {}, {}
    for t, task in enumerate(("adding", "counting")):
        runs[task], summary[task], seconds[task] = {}, {}, {}
        for k, kind in enumerate(KINDS):
            runs[task][kind] = [
                {
                    "steps": [0, 10, 20],
                    "losses": [1.0, 0.5 / (k + 1) / (s + 1), 0.1 / (k + 1) / (s + 1)],
                    "seed": s,
                }
                for s in range(3)
            ]
            summary[task][kind] = {
                "hidden": 10 + k,
                "params": 100 * (k + 1),
                "reached": f"{k}/3",
                "median_steps_to_target": None if k == 0 else 10 * k,
                "final_loss_median": 0.1 / (k + 1),
                **(
                    {"counts_to": [10 + k, 12 + 2 * k, 9], "counts_to_median": 10 + k}
                    if task == "counting"
                    else {}
                ),
            }
            seconds[task][kind] = {"torch": 0.1 * (k + 1) + t, "numpy": 0.05 * (k + 1) + t}
    return {
        "runs": runs,
        "summary": summary,
        "epoch_seconds": seconds,
        "targets": {"adding": 0.01, "counting": 0.02},
        "steps": {"adding": 20, "counting": 20},
    }


def render(fig: Figure) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_learning_curves_draw_each_median_and_the_target() -> None:
    result = fake_result()
    fig = plot_learning_curves(result)
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 2
    (legend,) = [ax.get_legend() for ax in fig.axes if not ax.axison and ax.get_legend()]
    assert [text.get_text() for text in legend.get_texts()] == [
        "vanilla RNN (tanh), median",
        "LSTM, median",
        "LSTM, forget bias 1, median",
        "GRU, median",
        "target",
    ]
    for ax, task in zip(panels, ("adding", "counting"), strict=True):
        lines = {line.get_label(): line for line in ax.get_lines()}
        for k, kind in enumerate(KINDS):
            median = lines[f"{kind} median"]
            expected = np.median([r["losses"] for r in result["runs"][task][kind]], axis=0)
            assert np.allclose(median.get_ydata(), expected) and np.allclose(median.get_xdata(), [0, 10, 20])
            assert median.get_color() == KIND_COLORS[kind]
            assert expected[-1] == pytest.approx(0.1 / (k + 1) / 2)  # the middle seed
        assert np.allclose(lines["target"].get_ydata(), result["targets"][task])
        assert ax.get_yscale() == "log"
        thin = [line for line in ax.get_lines() if line.get_label().startswith("_")]
        assert len(thin) == 3 * len(KINDS)  # one per seed and kind
    render(fig)


def test_costs_bars_have_the_stored_heights() -> None:
    result = fake_result()
    fig = plot_costs(result)
    for ax, backend in zip(fig.axes, ("torch", "numpy"), strict=True):
        for container in ax.containers:
            kind = container.get_label()
            heights = [bar.get_height() for bar in container]
            assert heights == pytest.approx(
                [result["epoch_seconds"][t][kind][backend] for t in ("adding", "counting")]
            )
        assert {c.get_label() for c in ax.containers} == set(KINDS)
        # each task's group of bars is centred on its tick and no two bars overlap
        centres = np.array([[bar.get_x() + bar.get_width() / 2 for bar in c] for c in ax.containers])
        assert centres.mean(axis=0) == pytest.approx([0, 1])
        assert np.all(np.diff(centres, axis=0) >= ax.containers[0][0].get_width() - 1e-12)
    render(fig)


def test_summary_bars_show_params_steps_and_relative_loss() -> None:
    result = fake_result()
    fig = plot_summary(result)
    params_ax, steps_ax, loss_ax, legend_ax = fig.axes
    assert not legend_ax.axison
    assert [text.get_text() for text in legend_ax.get_legend().get_texts()] == [
        "vanilla RNN (tanh)",
        "LSTM",
        "LSTM, forget bias 1",
        "GRU",
    ]
    for k, kind in enumerate(KINDS):
        (params,) = [c for c in params_ax.containers if c.get_label() == kind]
        assert [b.get_height() for b in params] == [100 * (k + 1)] * 2
        (steps,) = [c for c in steps_ax.containers if c.get_label() == kind]
        # the rnn never reached its target: a hatched bar at the run's length (20 steps)
        assert [b.get_height() for b in steps] == ([20, 20] if k == 0 else [10 * k] * 2)
        assert all(bool(b.get_hatch()) == (k == 0) for b in steps)
        (losses,) = [c for c in loss_ax.containers if c.get_label() == kind]
        # final losses 0.1 / (k + 1): the last kind's (k = 3) is the best, so the ratio is 4 / (k + 1)
        assert [b.get_height() for b in losses] == pytest.approx([len(KINDS) / (k + 1)] * 2)
    assert sum(text.get_text() == "never" for text in steps_ax.texts) == 2
    render(fig)


def test_counting_dots_and_training_band() -> None:
    result = fake_result()
    fig = plot_counting(result, train_max=10)
    ax = fig.axes[0]
    dots = {line.get_label(): line for line in ax.get_lines()}
    for row, kind in enumerate(KINDS):
        assert list(dots[kind].get_xdata()) == result["summary"]["counting"][kind]["counts_to"]
        assert set(dots[kind].get_ydata()) == {row}
    band = ax.patches[0]  # the shaded training range 1..10, from 0.5 to 10.5
    assert band.get_x() == pytest.approx(0.5) and band.get_x() + band.get_width() == pytest.approx(10.5)
    render(fig)


def test_variants_plot_shows_both_states_and_their_gap() -> None:
    rng = np.random.default_rng(0)
    after, before, r = rng.uniform(-1, 1, (6, 3)), rng.uniform(-1, 1, (6, 3)), rng.uniform(0, 1, 6)
    fig = plot_variants(after, before, r)
    left, right = fig.axes
    lines = {line.get_label(): line for line in left.get_lines()}
    assert np.allclose(lines["reset after (torch)"].get_ydata(), after[:, 0])
    assert np.allclose(lines["reset before (Cho et al.)"].get_ydata(), before[:, 0])
    gap = {line.get_label(): line for line in right.get_lines()}
    assert np.allclose(gap["max gap"].get_ydata(), np.abs(after - before).max(axis=1))
    assert np.allclose(gap["mean r_t"].get_ydata(), r)
    render(fig)


def test_table_rows_carry_the_summary() -> None:
    rows = table_rows(fake_result())
    assert len(rows) == 2 * len(KINDS)
    assert rows[1]["kind"] == "lstm" and rows[1]["params"] == 200 and rows[1]["median steps to target"] == 10
    assert rows[4]["counts to (median)"] == 10 and "counts to (median)" not in rows[0]
    assert [row["kind"] for row in table_rows(fake_result(), ("gru", "rnn"))] == ["gru", "rnn"] * 2


def test_the_stored_comparison_has_what_the_page_reads() -> None:
    result = load("ch05_gru_comparison")
    assert set(result["runs"]) == {"adding", "counting", "charlm"}
    for task, by_kind in result["summary"].items():
        params = [by_kind[kind]["params"] for kind in KINDS]
        assert max(params) / min(params) < 1.15, task  # equal budgets: small widths step coarsely
        for kind in KINDS:
            assert len(result["runs"][task][kind]) == len(result["seeds"][task])
            assert result["epoch_seconds"][task][kind]["torch"] > 0
    render(plot_learning_curves(result))


def test_gru_cell_diagram_has_two_gates_a_candidate_and_one_state_path() -> None:
    fig = draw_gru_cell()
    (ax,) = fig.axes
    gids = [patch.get_gid() for patch in ax.patches]
    assert gids.count("gate") == 3 and gids.count("product") == 2 and gids.count("sum") == 1
    assert gids.count("one minus") == 1 and gids.count("state path") == 3
    assert "cell path" not in gids  # no second state: that is the LSTM's
    texts = " ".join(text.get_text() for text in ax.texts)
    for name in ("r_t", "z_t", "n_t", "h_{t-1}", "h_t", "x_t"):
        assert name in texts, name
    render(fig)


def test_gru_gates_draws_both_gates_and_the_marked_steps() -> None:
    rng = np.random.default_rng(0)
    T, H = 12, 5
    x = np.stack([rng.uniform(size=T), np.zeros(T)], axis=1)
    x[[2, 8], 1] = 1.0
    z, r = rng.uniform(size=(T, H)), rng.uniform(size=(T, H))
    fig = plot_gru_gates(x, z, r)
    values, z_ax, r_ax = fig.axes[:3]
    assert np.array_equal(z_ax.images[0].get_array(), z.T) and np.array_equal(r_ax.images[0].get_array(), r.T)
    marked = [p for p in values.patches if p.get_gid() == "marked"]
    assert [p.get_height() for p in marked] == pytest.approx(x[[2, 8], 0])
    for ax in (values, z_ax, r_ax):
        lines = [line for line in ax.get_lines() if line.get_gid() == "marker line"]
        assert sorted(line.get_xdata()[0] for line in lines) == [2, 8]
    render(fig)


# -- the page's rules: a figure fits the column and its text reads like the body text ------


def _chapter_figures() -> dict[str, Callable[[], Figure]]:
    """Every figure of the page, by function, built with the page's call on the page's data.

    The stored runs, and the page's two cheap NumPy computations: the two GRU variants on
    the same random weights (section 5.2) and the stored GRU's gates on a new sequence.
    """

    def variants() -> Figure:
        rng = np.random.default_rng(11)
        T, H, D = 30, 4, 3
        weights = [
            rng.uniform(-1, 1, (3 * H, D)),
            rng.uniform(-1, 1, (3 * H, H)),
            rng.uniform(-1, 1, 3 * H),
            rng.uniform(-1, 1, 3 * H),
        ]
        xs = rng.normal(size=(T, 1, D))
        h_a = h_b = np.zeros((1, H))
        after, before, mean_r = [], [], []
        for t in range(T):
            h_a, cache = gru_step_forward(xs[t], h_a, *weights)
            h_b, _ = gru_reset_before_step_forward(xs[t], h_b, *weights)
            after.append(h_a[0])
            before.append(h_b[0])
            mean_r.append(cache.r.mean())
        return figs.plot_variants(np.array(after), np.array(before), np.array(mean_r))

    def gates() -> Figure:
        stored = load("ch05_gru_gates")
        state = {name.removeprefix("rnn."): np.array(v) for name, v in stored["state_dict"].items()}
        probe = adding_problem(200, experiment.ADDING_T, seed=7)
        activations = gate_activations("gru", state, probe.x)
        return figs.plot_gru_gates(probe.x[0], activations["z"][0], activations["r"][0])

    return {
        "draw_gru_cell": figs.draw_gru_cell,
        "plot_variants": variants,
        "plot_summary": lambda: figs.plot_summary(load("ch05_gru_comparison")),
        "plot_learning_curves": lambda: figs.plot_learning_curves(load("ch05_gru_comparison")),
        "plot_counting": lambda: figs.plot_counting(load("ch05_gru_comparison")),
        "plot_costs": lambda: figs.plot_costs(load("ch05_gru_comparison")),
        "plot_gru_gates": gates,
    }


def test_every_figure_of_the_module_is_in_the_list_and_on_the_page() -> None:
    assert unchecked_figures(figs, _chapter_figures(), PAGE) == {}


@pytest.mark.parametrize("name", list(_chapter_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_chapter_figures()[name]()) == []
