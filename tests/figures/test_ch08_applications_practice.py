"""Figures of chapter 8's practice page draw the data they are given."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.figures import ch08_applications_practice as practice_figures
from rnncourse.figures.ch08_applications_practice import (
    plot_early_stopping,
    plot_gradient_reach,
    plot_regularisation,
    plot_schedules,
    plot_sweep,
    plot_timings,
)
from rnncourse.results import load
from tests.figures.page_rules import rule_breaks, unchecked_figures

PRACTICE_PAGE = Path(__file__).resolve().parents[2] / "book" / "ch08_applications.ipynb"


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()[:4] == b"\x89PNG"


def lines_by_label(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def by_gid(ax, gid: str) -> list:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def test_early_stopping_marks_the_best_and_the_last_epoch() -> None:
    train = [3.0, 2.5, 2.2, 2.0, 1.8, 1.6]
    val = [3.1, 2.7, 2.6, 2.65, 2.7, 2.8]
    fig = plot_early_stopping(train, val, patience=3, ylabel="bpc")
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    assert list(lines["validation"].get_ydata()) == val and list(lines["training"].get_ydata()) == train
    (best,) = by_gid(ax, "best")
    (last,) = by_gid(ax, "last")
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (3, 2.6)  # epochs counted from 1
    assert (last.get_xdata()[0], last.get_ydata()[0]) == (6, 2.8)
    assert renders(fig)


def test_regularisation_draws_every_run_and_its_best_epoch() -> None:
    runs = {
        "a": {"train": [2.0, 1.5, 1.0], "val": [2.1, 1.9, 2.0]},
        "b": {"train": [2.0, 1.8], "val": [2.2, 2.0]},
    }
    fig = plot_regularisation(runs, "bpc")
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    assert list(lines["a"].get_ydata()) == [2.1, 1.9, 2.0] and list(lines["b (train)"].get_ydata()) == [
        2.0,
        1.8,
    ]
    assert sorted((m.get_xdata()[0], m.get_ydata()[0]) for m in by_gid(ax, "best")) == [(2, 1.9), (2, 2.0)]
    assert renders(fig)


def test_gradient_reach_is_drawn_against_distance_back() -> None:
    reach = {"torch": [1e-6, 1e-3, 1.0], "keras": [1e-2, 1e-1, 1.0]}
    fig = plot_gradient_reach(reach)
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    assert list(lines["torch"].get_xdata()) == [0, 1, 2]
    assert list(lines["torch"].get_ydata()) == [1.0, 1e-3, 1e-6]  # distance 0 is the last step
    assert ax.get_yscale() == "log"
    assert renders(fig)


def test_schedules_have_two_panels() -> None:
    runs = {"constant": {"lr": [0.1, 0.1], "val": [2.0, 1.9]}, "step": {"lr": [0.1, 0.05], "val": [2.0, 1.8]}}
    fig = plot_schedules(runs, "bpc")
    ax_lr, ax_val = fig.axes
    assert list(lines_by_label(ax_lr)["step"].get_ydata()) == [0.1, 0.05]
    assert list(lines_by_label(ax_val)["step"].get_ydata()) == [2.0, 1.8]
    assert renders(fig)


def test_sweep_heatmap_prints_every_value() -> None:
    values = np.array([[2.5, 2.4], [2.3, 2.6], [2.45, 2.35]])
    fig = plot_sweep(values, [8, 32, 128], [16, 64], "bpc")
    ax = fig.axes[0]
    assert sorted(float(t.get_text()) for t in ax.texts) == sorted(values.ravel().tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["E = 8", "E = 32", "E = 128"]
    assert renders(fig)


def test_timings_pick_the_batch_and_convert_to_ms() -> None:
    records = [
        {"N": 64, "T": 10, "H": 32, "seconds": 0.002},
        {"N": 1, "T": 10, "H": 32, "seconds": 0.5},
        {"N": 64, "T": 10, "H": 128, "seconds": 0.004},
    ]
    fig = plot_timings({"cpu": records}, batch=64)
    (ax,) = fig.axes
    line = lines_by_label(ax)["cpu"]
    assert list(line.get_xdata()) == [32, 128]
    assert list(line.get_ydata()) == pytest.approx([2.0, 4.0])
    assert renders(fig)


# -- the page's rules: every figure of the practice page fits the column, its text >= 12 pt ------------


def _practice_figures() -> dict[str, Callable[[], Figure]]:
    """Each figure of ``figures/ch08_applications_practice.py`` as the practice page builds it: from the
    stored runs where the page reads them, from curves of the page's lengths where it trains first."""
    stored, hardware = load("ch08_applications_practice"), load("ch08_applications_gpu")
    regularisation, schedules, sweep = stored["regularisation"], stored["schedules"], stored["sweep"]
    embeds = sorted({run["embed"] for run in sweep["runs"]})
    seq_lens = sorted({run["seq_len"] for run in sweep["runs"]})
    grid = np.array(
        [
            [
                next(r["val_bpc"][-1] for r in sweep["runs"] if (r["embed"], r["seq_len"]) == (e, t))
                for t in seq_lens
            ]
            for e in embeds
        ]
    )
    epochs = np.arange(1, 13)
    reach = {  # 100 steps back, the page's two initialisations
        "torch default": list(np.logspace(-9, 0, 100)),
        "Keras default (forget bias 1, orthogonal)": list(np.logspace(-3, 0, 100)),
    }
    return {
        "plot_early_stopping": lambda: plot_early_stopping(
            list(3.0 / epochs), list(2.0 + (epochs - 8.0) ** 2 / 50), patience=3, ylabel="bits per character"
        ),
        "plot_regularisation": lambda: plot_regularisation(
            {n: {"train": r["train_bpc"], "val": r["val_bpc"]} for n, r in regularisation["runs"].items()},
            ylabel="bits per character",
        ),
        "plot_gradient_reach": lambda: plot_gradient_reach(reach),
        "plot_schedules": lambda: plot_schedules(
            {n: {"lr": r["lr"], "val": r["val_bpc"]} for n, r in schedules["runs"].items()},
            ylabel="validation bpc",
        ),
        "plot_sweep": lambda: plot_sweep(grid, embeds, seq_lens, "validation bits per character"),
        "plot_timings": lambda: plot_timings(hardware["runs"], batch=64),
    }


def test_every_practice_figure_is_checked_and_on_the_page() -> None:
    assert unchecked_figures(practice_figures, _practice_figures(), PRACTICE_PAGE) == {}


@pytest.mark.parametrize("name", list(_practice_figures()))
def test_every_practice_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    assert rule_breaks(_practice_figures()[name]()) == []


def test_timings_name_the_measured_hidden_sizes_on_the_x_axis() -> None:
    runs = {"cpu": [{"N": 64, "T": 50, "H": h, "seconds": h / 1e4} for h in (32, 128, 512)]}
    (ax,) = plot_timings(runs, batch=64).axes
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["32", "128", "512"]
    assert ax.xaxis.get_minorticklocs().size == 0
