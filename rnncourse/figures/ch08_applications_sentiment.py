"""Figures of chapter 8's sentiment page.

=================================  ==========================================================
function                           what it draws
=================================  ==========================================================
``plot_accuracies``                test accuracy of each model on each data set, as bars, with
                                   the majority class's as a dotted line
``plot_confidence``                P(positive) after every token of a few sentences, one row
                                   each, the token written in its cell
=================================  ==========================================================

Bars carry a ``gid`` ``"<data set>|<model>"`` and the chance line the gid ``"chance"``, so tests
find what was drawn without relying on draw order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from rnncourse.figures import _draw as draw


def plot_accuracies(accuracy: Mapping[str, Mapping[str, float]], chance: Mapping[str, float]) -> Figure:
    """Horizontal bars: for each data set (a panel) the test accuracy of each model.

    Args:
        accuracy: data set -> model -> accuracy in [0, 1]; every data set names the same models.
        chance: data set -> the majority class's accuracy, drawn as a dotted line.
    """
    sets = list(accuracy)
    models = list(accuracy[sets[0]])
    if any(list(accuracy[s]) != models for s in sets):
        raise ValueError("every data set must name the same models, in the same order")
    fig = draw.new_figure(1.0, 0.12 + 0.07 * len(models))
    axes = fig.subplots(1, len(sets), sharey=True, squeeze=False)[0]
    y = np.arange(len(models))[::-1]
    for ax, name in zip(axes, sets):
        for row, model in zip(y, models):
            value = accuracy[name][model]
            colour = draw.SERIES_COLORS[0] if "GRU" in model or "LSTM" in model else draw.PALETTE["muted"]
            (bar,) = ax.barh(row, value, color=colour).patches
            bar.set_gid(f"{name}|{model}")
            ax.text(
                value - 0.01,
                row,
                f"{value:.0%}",
                ha="right",
                va="center",
                color="white",
                fontsize=draw.MIN_FONT_PT,
            )
        ax.axvline(chance[name], color="black", linestyle=":", gid="chance")
        ax.set_xlim(0.0, 1.0)
        ax.set_title(name, fontsize=draw.TITLE_FONT_PT)
        ax.set_xlabel("test accuracy", fontsize=draw.MIN_FONT_PT)
        ax.tick_params(labelsize=draw.MIN_FONT_PT)
    axes[0].set_yticks(y, models, fontsize=draw.MIN_FONT_PT)
    return fig


def plot_confidence(sentences: Sequence[tuple[Sequence[str], Sequence[float]]], title: str) -> Figure:
    """One row per sentence: a cell per token, coloured by P(positive) after it, the token written upright.

    Args:
        sentences: (tokens, P(positive) after each token) per sentence, of equal lengths each.
        title: the figure's title.

    ``fig.axes[0]`` holds the cells (an image, NaN past a sentence's end), the last axes the colour bar.
    """
    if any(len(tokens) != len(p) for tokens, p in sentences):
        raise ValueError("each sentence needs one probability per token")
    longest = max(len(tokens) for tokens, _ in sentences)
    grid = np.full((len(sentences), longest), np.nan)
    for r, (_, p) in enumerate(sentences):
        grid[r, : len(p)] = p
    # a column of 0.3 in holds a 12 pt token written upright; the tallest token sets the row height
    tallest = max(len(t) for tokens, _ in sentences for t in tokens)
    row_height = 0.12 * tallest + 0.25
    width = min(1.0, (1.2 + 0.3 * longest) / draw.PAGE_WIDTH)
    fig = draw.new_figure(width, (0.5 + row_height * len(sentences)) / draw.PAGE_WIDTH)
    ax = fig.subplots()
    image = ax.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=0.0, vmax=1.0)
    colours = matplotlib.colormaps["RdYlGn"]
    for r, (tokens, p) in enumerate(sentences):
        for c, token in enumerate(tokens):
            red, green, blue, _ = colours(float(p[c]))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(
                c, r, token, ha="center", va="center", rotation=90, fontsize=draw.MIN_FONT_PT,
                color="white" if dark else "black",
            )  # fmt: skip
    ax.set_yticks(
        range(len(sentences)), [str(r + 1) for r in range(len(sentences))], fontsize=draw.MIN_FONT_PT
    )
    ax.set_xticks([])
    ax.set_title(title, fontsize=draw.TITLE_FONT_PT)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.04)
    colorbar.ax.tick_params(labelsize=draw.MIN_FONT_PT)
    return fig
