"""Figures of chapter 8's application pages (series, and text).

=================================  ==========================================================
function                           what it draws
=================================  ==========================================================
``plot_forecasts``                 a test span and the one-step forecasts of several methods
``plot_horizon_errors``            RMSE against the forecast horizon, one line per method
``plot_anomaly``                   a scanned series with its labelled segment, and the errors
                                   with the threshold from clean data
``plot_learning_curves``           training and validation loss with the best epoch marked
``plot_token_heatmap``             a value per token (confidence, a neuron), as a coloured row
``plot_sampling_distributions``    next-character probabilities at several temperatures
``plot_perplexity_curves``         held-out perplexity against training steps, with baselines
=================================  ==========================================================

Lines keep their labels (``line.get_label()``) and shaded spans carry a
``gid``, so tests find what was drawn without relying on draw order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from rnncourse.figures import _draw as draw


def plot_forecasts(
    x: Sequence[float], actual: np.ndarray, forecasts: Mapping[str, np.ndarray], ylabel: str, title: str
) -> Figure:
    """The actual values (black) and each method's one-step forecasts, all (T,) against x (T,)."""
    fig = draw.new_figure(1.0, 0.55)
    ax = fig.add_subplot()
    ax.plot(x, actual, color="black", linewidth=2.5, label="actual")
    for i, (name, values) in enumerate(forecasts.items()):
        ax.plot(
            x, values, "--", color=draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)], linewidth=1.5, label=name
        )
    draw.finish_axes(ax, xlabel="year", ylabel=ylabel, title=title)
    draw.legend_below(fig, ncol=len(forecasts) + 1)  # inside the axes it would hide the forecasts
    return fig


def plot_horizon_errors(errors: Mapping[str, np.ndarray], unit: str) -> Figure:
    """RMSE (H,) per horizon h = 1..H for each method; recursive model forecasts drawn solid, baselines dashed."""
    fig = draw.new_figure(0.8, 0.42)
    ax = fig.add_subplot()
    styles = {name: "--" for name in errors if name in ("persistence", "seasonal naive")}
    draw.plot_curves(
        ax,
        {name: list(values) for name, values in errors.items()},
        styles=styles,
        xlabel="forecast horizon h (steps ahead)",
        ylabel=f"RMSE ({unit})",
        title="error against horizon",
    )
    return fig


def plot_anomaly(
    values: np.ndarray,
    labels: np.ndarray,
    errors: np.ndarray,
    threshold: float,
    window: tuple[int, int],
    offset: int,
) -> Figure:
    """Two panels over ``window`` (start, stop) indices of the series.

    Top: the values (T,) with the labelled anomalous points shaded (gid
    "labelled"). Bottom: the prediction errors (starting at index ``offset``
    of the series) and the threshold (a horizontal line, label "threshold").
    """
    start, stop = window
    index = np.arange(start, stop)
    fig = draw.new_figure(1.0, 0.6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(index, values[start:stop], color=draw.SERIES_COLORS[0], linewidth=1.2, label="series")
    for a, b in _runs(labels[start:stop]):
        top.axvspan(
            start + a,
            start + b,
            color=draw.PALETTE["output"],
            alpha=0.8,
            gid="labelled",
            label="labelled anomaly",
        )
    draw.finish_axes(top, ylabel="value", legend_loc="upper right")
    shown = errors[start - offset : stop - offset]
    bottom.plot(index, shown, color=draw.SERIES_COLORS[1], linewidth=1.2, label="|prediction error|")
    bottom.axhline(threshold, color="black", linestyle="--", linewidth=1.2, label="threshold")
    draw.finish_axes(bottom, xlabel="time step", ylabel="error (scaled)", legend_loc="upper right")
    return fig


def _runs(labels: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[0], (np.asarray(labels) > 0).astype(int), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2])]


def plot_learning_curves(train_loss: Sequence[float], val_loss: Sequence[float], title: str) -> Figure:
    """Training and validation loss per epoch; a vertical line (label "best epoch") where validation is lowest."""
    fig = draw.new_figure(0.9, 0.45)
    ax = fig.add_subplot()
    draw.plot_curves(
        ax,
        {"training": list(train_loss), "validation": list(val_loss)},
        styles={"validation": "--"},
        ylabel="loss",
        title=title,
    )
    best = int(np.argmin(val_loss)) + 1
    ax.axvline(best, color=draw.PALETTE["muted"], linestyle=":", label="best epoch")
    ax.legend(fontsize=draw.MIN_FONT_PT)
    return fig


def plot_token_heatmap(
    tokens: Sequence[str], rows: Mapping[str, np.ndarray], vmin: float, vmax: float, cmap: str, title: str
) -> Figure:
    """One coloured row per entry of ``rows`` (each (L,)), one column per token, the token printed in its cell.

    A long sequence wraps: each line of the figure (one axes) holds as many tokens as fit the
    page at ``MIN_FONT_PT``, and shows every row for those tokens; ``fig.axes[:-1]`` are the
    lines in order, the last axes the colour bar.
    """
    names = list(rows)
    data = np.stack([np.asarray(rows[name], dtype=float) for name in names])
    shown = [{"\n": "\\n", " ": "\u2423", "\t": "\\t"}.get(token, token) for token in tokens]
    # a cell holds its token at MIN_FONT_PT (about 0.1 in a character); the names and the bar take 2 in
    cell = max(0.25, 0.1 * max((len(t) for t in shown), default=1) + 0.12)
    per_line = max(1, int((draw.PAGE_WIDTH - 2.0) / cell))
    starts = list(range(0, max(len(tokens), 1), per_line))
    width = min(1.0, (2.0 + cell * min(per_line, len(tokens))) / draw.PAGE_WIDTH)
    fig = draw.new_figure(width, (0.35 + 0.3 * len(names)) * len(starts) / draw.PAGE_WIDTH + 0.06)
    axes = fig.subplots(len(starts), 1, squeeze=False)[:, 0]
    images = []
    colours = matplotlib.colormaps[cmap]
    for ax, start in zip(axes, starts):
        stop = min(start + per_line, len(tokens))
        images.append(ax.imshow(data[:, start:stop], aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax))
        for r in range(data.shape[0]):
            for c in range(stop - start):
                red, green, blue, _ = colours((data[r, start + c] - vmin) / (vmax - vmin))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # white text on dark cells
                colour = "white" if dark else "black"
                ax.text(
                    c, r, shown[start + c], ha="center", va="center", fontsize=draw.MIN_FONT_PT, color=colour
                )
        ax.set_yticks(range(len(names)), names, fontsize=draw.MIN_FONT_PT)
        ax.set_xticks([])
        ax.set_xlim(-0.5, per_line - 0.5 if len(starts) > 1 else stop - start - 0.5)
    axes[0].set_title(title, fontsize=draw.TITLE_FONT_PT)
    colorbar = fig.colorbar(images[0], ax=list(axes), fraction=0.03)
    colorbar.ax.tick_params(labelsize=draw.MIN_FONT_PT)
    return fig


def plot_sampling_distributions(
    symbols: Sequence[str], distributions: Mapping[str, np.ndarray], title: str
) -> Figure:
    """Grouped bars: for each setting (temperature, top-k, ...), the probability (V,) of each symbol."""
    fig = draw.new_figure(1.0, 0.5)
    ax = fig.add_subplot()
    count = len(distributions)
    width = 0.8 / count
    positions = np.arange(len(symbols))
    for i, (name, p) in enumerate(distributions.items()):
        ax.bar(
            positions + (i - (count - 1) / 2) * width, p, width, color=draw.SERIES_COLORS[i % 6], label=name
        )
    draw.finish_axes(ax, ylabel="probability", title=title, grid_axis="y")
    ax.set_xticks(positions, [{" ": "\u2423", "\n": "\\n"}.get(s, s) for s in symbols])
    draw.legend_below(fig, ncol=count)  # five settings: inside the axes they would hide the bars
    return fig


def plot_perplexity_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], baselines: Mapping[str, float], title: str
) -> Figure:
    """Held-out perplexity against training steps, one line per model (steps, values), and a dotted
    horizontal line (labelled with its name) per baseline."""
    fig = draw.new_figure(1.0, 0.6)
    ax = fig.add_subplot()
    for i, (name, (steps, values)) in enumerate(curves.items()):
        ax.plot(steps, values, color=draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)], linewidth=2, label=name)
    for j, (name, value) in enumerate(baselines.items()):
        ax.axhline(
            value,
            color=draw.SERIES_COLORS[(len(curves) + j) % len(draw.SERIES_COLORS)],
            linestyle=":",
            label=name,
        )
    ax.set_yscale("log")
    draw.finish_axes(
        ax,
        xlabel="training step (one chunk of B x k characters)",
        ylabel="held-out perplexity (log scale)",
        title=title,
    )
    # Plain numbers on the log axis (2, 3, 4, 6, 10), not matplotlib's 6 x 10^0 minor labels.
    values = [v for _, series in curves.values() for v in series] + list(baselines.values())
    ticks = [
        t for t in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 60, 80, 100) if min(values) <= t * 1.1
    ]
    ticks = [t for t in ticks if t <= max(values) * 1.1]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_locator(NullLocator())
    draw.legend_below(fig, ncol=2)
    return fig
