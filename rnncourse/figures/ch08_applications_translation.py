"""Figures of chapter 8's translation page.

=============================  ===================================================
function                       what it draws
=============================  ===================================================
``plot_validation_bleu``       validation BLEU per epoch, the kept epoch marked
``plot_alignment``             attention of one verse pair, each row's peak dotted
``plot_bleu_by_length``        test BLEU of each system in source-length buckets
=============================  ===================================================

Every plot keeps its data in the axes (line data, image arrays, bar heights,
tick labels), which is what the tests read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from rnncourse.figures import _draw as draw


def plot_validation_bleu(val_bleu: Mapping[str, Sequence[float]], best_epoch: Mapping[str, int]) -> Figure:
    """Validation BLEU (0..100) after each epoch, one line per split; a ring on each kept epoch.

    Args:
        val_bleu: split -> BLEU after epochs 1, 2, ...
        best_epoch: split -> the kept epoch, counted from 1.
    """
    fig = draw.new_figure(0.8, 0.38)
    ax = fig.subplots()
    for i, (name, values) in enumerate(val_bleu.items()):
        color = draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)]
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, "o-", color=color, linewidth=2, markersize=4, label=name)
        best = best_epoch[name]
        ax.plot([best], [values[best - 1]], "o", markersize=14, fillstyle="none", color=color, gid="best")
    draw.finish_axes(ax, xlabel="epoch", ylabel="validation BLEU (greedy)", legend_loc="center right")
    return fig


def plot_alignment(weights: np.ndarray, source: Sequence[str], target: Sequence[str]) -> Figure:
    """Attention weights (T, S) as a grey image, row t what the decoder read while writing target[t];
    a dot on the source token each row weighs most."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(target), len(source)):
        raise ValueError(
            f"weights has shape {weights.shape}; expected (T, S) = ({len(target)}, {len(source)})"
        )
    fig = draw.new_figure(
        min(1.0, (2.6 + 0.3 * len(source)) / draw.PAGE_WIDTH), (1.8 + 0.28 * len(target)) / draw.PAGE_WIDTH
    )
    ax = fig.subplots()
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    rows = np.arange(len(target))
    ax.plot(weights.argmax(axis=1), rows, "o", color=draw.SERIES_COLORS[1], markersize=4, gid="peak")
    ax.set_xticks(range(len(source)), list(source), rotation=90)
    ax.set_yticks(rows, list(target))
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.set_xlabel("English token read", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel("French token written", fontsize=draw.MIN_FONT_PT)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label("attention weight", fontsize=draw.MIN_FONT_PT)
    colorbar.ax.tick_params(labelsize=draw.MIN_FONT_PT)
    return fig


def plot_bleu_by_length(
    rows: Mapping[str, Sequence[Mapping[str, float]]], title: str = "", top: float | None = None
) -> Figure:
    """Grouped bars: each system's corpus BLEU in each source-length bucket.

    Args:
        rows: system -> one row per bucket, with ``lo``, ``hi`` (words, [lo, hi)),
            ``pairs`` (test verses in the bucket) and ``bleu`` (0..100); every
            system has the same buckets.
        top: the y axis' upper limit (None: matplotlib's).
    """
    names = list(rows)
    buckets = rows[names[0]]
    x = np.arange(len(buckets))
    width = 0.8 / len(names)
    fig = draw.new_figure(0.8, 0.42)
    ax = fig.subplots()
    for i, name in enumerate(names):
        heights = [row["bleu"] for row in rows[name]]
        ax.bar(
            x + (i - (len(names) - 1) / 2) * width, heights, width, color=draw.SERIES_COLORS[i], label=name
        )
    labels = [f"{row['lo']}-{row['hi'] - 1}\n({row['pairs']} verses)" for row in buckets]
    ax.set_xticks(x, labels)
    if top is not None:
        ax.set_ylim(0, top)
    draw.finish_axes(
        ax, xlabel="English source length (words)", ylabel="test BLEU", title=title, grid_axis="y"
    )
    return fig
