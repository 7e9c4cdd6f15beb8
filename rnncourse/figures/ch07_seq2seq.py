"""Figures of chapter 7, sequence to sequence.

=============================  ===================================================
function                       what it draws
=============================  ===================================================
``plot_training``              smoothed training losses of several models
``plot_accuracy_by_length``    exact-match accuracy (or BLEU) against source length
``plot_attention``             attention weights: target steps x source tokens
``plot_length_penalty``        GNMT's lp and the normalised score of two outputs
``plot_beam_widths``           BLEU and output length against the beam's width
=============================  ===================================================

Every plot keeps its data in the axes (line data, image arrays, tick labels),
which is what the tests read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from rnncourse.figures import _draw as draw
from rnncourse.scratch.decoding import length_penalty


def smooth(values: Sequence[float], window: int) -> list[float]:
    """The running mean of ``values`` over ``window`` steps (shorter at the start)."""
    array = np.asarray(values, dtype=float)
    cumulative = np.cumsum(np.insert(array, 0, 0.0))
    counts = np.minimum(np.arange(1, len(array) + 1), window)
    return ((cumulative[1:] - cumulative[np.arange(1, len(array) + 1) - counts]) / counts).tolist()


def plot_training(losses: Mapping[str, Sequence[float]], window: int = 20, title: str = "") -> Figure:
    """Training loss (mean over real tokens) per step, smoothed over ``window`` steps, log scale."""
    fig = draw.new_figure(0.8, 0.38)
    ax = fig.subplots()
    draw.plot_curves(
        ax,
        {name: smooth(values, window) for name, values in losses.items()},
        xlabel="training step",
        ylabel="cross-entropy per real token (nats)",
        title=title,
    )
    ax.set_yscale("log")
    # a curve within one decade gets labelled minor ticks (2x10^-1, ...): as large as the rest
    ax.tick_params(axis="y", which="minor", labelsize=draw.MIN_FONT_PT)
    return fig


def plot_accuracy_by_length(
    accuracy: Mapping[str, Sequence[float]],
    edges: Sequence[int],
    title: str = "",
    ylabel: str = "exact-match accuracy",
) -> Figure:
    """A score in [0, 1] (exact-match accuracy, BLEU) of each model in source-length bins [edges[i], edges[i+1])."""
    centres = [(lo + hi - 1) / 2 for lo, hi in zip(edges[:-1], edges[1:])]
    fig = draw.new_figure(0.7, 0.38)
    ax = fig.subplots()
    for i, (name, values) in enumerate(accuracy.items()):
        ax.plot(
            centres,
            values,
            "o-",
            color=draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)],
            linewidth=2,
            label=name,
        )
    ax.set_xticks(centres, [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])])
    ax.set_ylim(-0.03, 1.03)
    draw.finish_axes(ax, xlabel="source length (tokens)", ylabel=ylabel, title=title)
    return fig


def plot_attention(
    weights: np.ndarray, source: Sequence[str], target: Sequence[str], title: str = ""
) -> Figure:
    """Attention weights (T, S) as an image: row t is what the decoder read while writing target[t]."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(target), len(source)):
        raise ValueError(
            f"weights has shape {weights.shape}; expected (T, S) = ({len(target)}, {len(source)})"
        )
    # Columns wide enough for a character at MIN_FONT_PT; the source's tick labels stand
    # upright, so that a long one (``<eos>``) never runs into its neighbours.
    width = min(1.0, (2.4 + 0.24 * len(source)) / draw.PAGE_WIDTH)
    fig = draw.new_figure(width, (1.6 + 0.26 * len(target)) / draw.PAGE_WIDTH)
    ax = fig.subplots()
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), [repr(s)[1:-1] if s == " " else s for s in source], rotation=90)
    ax.set_yticks(range(len(target)), list(target))
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.set_xlabel("source token (read by the encoder)", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel("target token written", fontsize=draw.MIN_FONT_PT)
    if title:
        ax.set_title(title, fontsize=draw.TITLE_FONT_PT)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label("attention weight", fontsize=draw.MIN_FONT_PT)
    colorbar.ax.tick_params(labelsize=draw.MIN_FONT_PT)
    return fig


def plot_length_penalty(
    alphas: Sequence[float], lengths: Sequence[int], short: tuple[int, float], long: tuple[int, float]
) -> Figure:
    """Left: lp(|y|) for each alpha. Right: score = log p / lp of a short and a long output against alpha."""
    fig = draw.new_figure(1.0, 0.36)
    left, right = fig.subplots(1, 2)
    draw.plot_curves(
        left,
        {f"alpha = {a:g}": [length_penalty(n, a) for n in lengths] for a in alphas},
        x=list(lengths),
        xlabel="output length |y| (tokens, <eos> included)",
        ylabel="lp = ((5 + |y|) / 6) ** alpha",
        title="the length penalty grows with |y|",
    )
    grid = np.linspace(0.0, max(alphas), 41)
    draw.plot_curves(
        right,
        {f"|y| = {n}, log p = {lp:g}": [lp / length_penalty(n, a) for a in grid] for n, lp in (short, long)},
        x=list(grid),
        xlabel="alpha",
        ylabel="score = log p / lp",
        title="dividing by lp lifts the longer output",
    )
    return fig


def plot_beam_widths(rows: Sequence[Mapping[str, float]], greedy: Mapping[str, float]) -> Figure:
    """Left: corpus BLEU against the beam's width k; right: the outputs' length over the references'.

    Args:
        rows: one per decoding, with ``k``, ``alpha``, ``bleu`` (0..1) and ``length_ratio``;
            one line per alpha.
        greedy: ``bleu`` and ``length_ratio`` of greedy decoding, drawn as a dotted line.
    """
    alphas = sorted({float(r["alpha"]) for r in rows})
    widths = sorted({int(r["k"]) for r in rows})
    fig = draw.new_figure(1.0, 0.38)
    left, right = fig.subplots(1, 2)
    for ax, key, ylabel, scale in (
        (left, "bleu", "corpus BLEU (points)", 100.0),
        (right, "length_ratio", "output length / reference length", 1.0),
    ):
        ax.axhline(scale * greedy[key], color=draw.SERIES_COLORS[2], ls=":", lw=1.5, label="greedy")
        draw.plot_curves(
            ax,
            {
                f"beam, alpha = {a:g}": [
                    scale * next(r[key] for r in rows if int(r["k"]) == k and float(r["alpha"]) == a)
                    for k in widths
                ]
                for a in alphas
            },
            x=widths,
            xlabel="beam width k",
            ylabel=ylabel,
        )
        ax.set_xscale("log")
        ax.set_xticks(widths, [str(k) for k in widths])
        ax.xaxis.set_minor_formatter(NullFormatter())  # only the widths tried are labelled
    return fig
