"""Figures of chapter 8's practice page: training practice, hardware, RNNs today.

==========================  ===============================================================
function                    what it draws
==========================  ===============================================================
``plot_early_stopping``     validation loss per epoch, the best epoch and the last one
``plot_regularisation``     validation curves of several regularisers, best epochs marked
``plot_gradient_reach``     gradient norm against distance back in time, per initialisation
``plot_schedules``          learning rate and validation loss per epoch, per schedule
``plot_sweep``              a heatmap of a score over embedding sizes x sequence lengths
``plot_timings``            milliseconds per training step against the hidden size
==========================  ===============================================================

Every function takes plain numbers (lists, dicts of lists), as the stored
results hold them, and returns a :class:`~matplotlib.figure.Figure`. Lines
keep their labels, markers carry a ``gid`` (``"best"``, ``"last"``), so tests
find what a figure shows without relying on draw order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from rnncourse.figures import _draw as draw

__all__ = [
    "plot_early_stopping",
    "plot_gradient_reach",
    "plot_regularisation",
    "plot_schedules",
    "plot_sweep",
    "plot_timings",
]


def plot_early_stopping(train: Sequence[float], val: Sequence[float], patience: int, ylabel: str) -> Figure:
    """One run's learning curves with the best epoch and the epoch training stopped at.

    Args:
        train, val: the losses per epoch (same length n).
        patience: the early-stopping patience the run used (for the label).
        ylabel: what the losses are (e.g. "bits per character").

    Returns:
        A figure with one axes: two labelled lines, a marker with gid ``"best"``
        at the lowest validation loss (what ``restore_best_weights=True`` keeps)
        and one with gid ``"last"`` at the final epoch (what Keras keeps by default).
    """
    fig = draw.new_figure(1.0, 0.6)
    ax = fig.subplots()
    draw.plot_curves(
        ax, {"training": list(train), "validation": list(val)}, styles={"training": "--"}, ylabel=ylabel
    )
    best = int(np.argmin(val))
    (marker,) = ax.plot([best + 1], [val[best]], "o", color=draw.SERIES_COLORS[2], markersize=10)
    marker.set_gid("best")
    marker.set_label(f"best epoch ({best + 1}), kept by restore_best_weights=True")
    (last,) = ax.plot([len(val)], [val[-1]], "s", color=draw.PALETTE["feedback"], markersize=9)
    last.set_gid("last")
    last.set_label(f"last epoch ({len(val)}), after {patience} without improvement: Keras' default")
    draw.legend_below(fig)  # the long labels would hide the curves
    return fig


def plot_regularisation(runs: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str) -> Figure:
    """Validation curves (solid) and training curves (dashed) of several runs, which may differ in length.

    Args:
        runs: name -> {"train": [...], "val": [...]}.
        ylabel: the loss's unit.

    Returns:
        A figure with one axes; the validation line of run ``name`` is labelled
        ``name``, the training line ``name + " (train)"``, and each run's best
        validation epoch has a marker with gid ``"best"``.
    """
    fig = draw.new_figure(1.0, 0.75)
    ax = fig.subplots()
    for i, (name, run) in enumerate(runs.items()):
        color = draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)]
        epochs = np.arange(1, len(run["val"]) + 1)
        ax.plot(epochs, run["val"], "-", color=color, linewidth=2, label=name)
        ax.plot(
            np.arange(1, len(run["train"]) + 1),
            run["train"],
            "--",
            color=color,
            linewidth=1,
            label=f"{name} (train)",
        )
        best = int(np.argmin(run["val"]))
        (marker,) = ax.plot([best + 1], [run["val"][best]], "o", color=color, markersize=8)
        marker.set_gid("best")
    draw.finish_axes(ax, xlabel="epoch", ylabel=ylabel)
    draw.legend_below(fig, ncol=2)  # ten lines: inside the axes they would hide the curves
    return fig


def plot_gradient_reach(reach: Mapping[str, Sequence[float]]) -> Figure:
    """Gradient norm of the last output with respect to each input, against how far back the input is.

    Args:
        reach: name -> T norms, the last step last (``gradient_reach``'s first result).

    Returns:
        A figure with one axes, log-scale y; x is the distance back (0 = the last step).
    """
    fig = draw.new_figure(1.0, 0.45)
    ax = fig.subplots()
    for i, (name, values) in enumerate(reach.items()):
        norms = np.asarray(values, dtype=float)
        ax.semilogy(np.arange(len(norms)), norms[::-1], color=draw.SERIES_COLORS[i], linewidth=2, label=name)
    draw.finish_axes(
        ax, xlabel="steps back from the last output, T - t", ylabel=r"$\| \partial y_T / \partial x_t \|$"
    )
    return fig


def plot_schedules(runs: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str) -> Figure:
    """Two panels: the learning rate per epoch (left) and the validation loss (right), one line per schedule.

    Args:
        runs: schedule name -> {"lr": [...], "val": [...]} of equal lengths.
        ylabel: the validation loss's unit.
    """
    fig = draw.new_figure(1.0, 0.38)
    ax_lr, ax_val = fig.subplots(1, 2)
    draw.plot_curves(ax_lr, {name: list(run["lr"]) for name, run in runs.items()}, ylabel="learning rate")
    draw.plot_curves(ax_val, {name: list(run["val"]) for name, run in runs.items()}, ylabel=ylabel)
    return fig


def plot_sweep(values: np.ndarray, embeds: Sequence[int], seq_lens: Sequence[int], label: str) -> Figure:
    """A heatmap of ``values`` (len(embeds), len(seq_lens)): rows embedding sizes, columns sequence lengths."""
    values = np.asarray(values, dtype=float)
    return draw.heatmap(
        values,
        [f"E = {e}" for e in embeds],
        [f"T = {t}" for t in seq_lens],
        cmap="viridis_r",
        vmin=float(values.min()),
        vmax=float(values.max()),
        fmt=".3f",
        xlabel="training sequence length (characters)",
        ylabel="embedding size",
        colorbar_label=label,
        title=label,
    )


def plot_timings(runs: Mapping[str, Sequence[Mapping[str, float | int | str]]], batch: int) -> Figure:
    """Milliseconds per training step against H, for the shapes with N = ``batch``, one line per device.

    Args:
        runs: device name -> records of ``time_recurrent`` (N, T, H, seconds).
        batch: which N to draw.
    """
    fig = draw.new_figure(1.0, 0.45)
    ax = fig.subplots()
    for i, (name, records) in enumerate(runs.items()):
        chosen = sorted((int(r["H"]), 1000 * float(r["seconds"])) for r in records if int(r["N"]) == batch)
        if chosen:
            hs, ms = zip(*chosen, strict=True)
            ax.loglog(hs, ms, "o-", color=draw.SERIES_COLORS[i], linewidth=2, label=name)
    draw.finish_axes(
        ax, xlabel="hidden size H", ylabel="ms per training step", title=f"LSTM, batch N = {batch}"
    )
    # The measured sizes name the x ticks: log-scale minor labels (3 x 10^1, ...) collide at 12 pt.
    sizes = sorted({int(r["H"]) for records in runs.values() for r in records if int(r["N"]) == batch})
    ax.set_xticks(sizes, [str(h) for h in sizes])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(which="both", labelsize=draw.MIN_FONT_PT)
    return fig
