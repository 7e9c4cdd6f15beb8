"""Figures of chapter 8's chatbot page.

==========================  ===============================================================
function                    what it draws
==========================  ===============================================================
``plot_chat_scores``        held-out perplexity per model (top), recall@1 per scorer (bottom)
``plot_generic_replies``    the most frequent reply's share and distinct-2, per way of replying
==========================  ===============================================================

Every function takes plain numbers (dicts of floats), as the stored result
holds them, and returns a :class:`~matplotlib.figure.Figure` of horizontal
bars: each bar's ``gid`` is its name, so tests find what a figure shows
without relying on draw order.
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rnncourse.figures import _draw as draw

__all__ = ["plot_chat_scores", "plot_generic_replies"]


def _bars(ax: Axes, values: Mapping[str, float], title: str, xlabel: str, digits: int) -> None:
    """One horizontal bar per item, the first on top, its value written at its end."""
    names = list(values)
    for row, name in enumerate(names):
        (bar,) = ax.barh(
            row, values[name], color=draw.SERIES_COLORS[row % len(draw.SERIES_COLORS)], height=0.6
        )
        bar.set_gid(name)
        ax.text(values[name], row, f" {values[name]:.{digits}f}", va="center", fontsize=draw.MIN_FONT_PT)
    ax.set_yticks(range(len(names)), names, fontsize=draw.MIN_FONT_PT)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25 * max(values.values()))
    ax.set_xlabel(xlabel, fontsize=draw.MIN_FONT_PT)
    ax.set_title(title, fontsize=draw.TITLE_FONT_PT)
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.grid(alpha=0.3, axis="x")


def plot_chat_scores(perplexity: Mapping[str, float], recall: Mapping[str, float]) -> Figure:
    """Two panels, one above the other: held-out perplexity (lower is better) and recall@1.

    Args:
        perplexity: model name -> perplexity per token of the held-out reference replies.
        recall: scorer name -> recall@1 (share of prompts whose true reply scores highest).
    """
    if not perplexity or not recall:
        raise ValueError("both panels need at least one bar")
    fig = draw.new_figure(1.0, 0.18 + 0.075 * (len(perplexity) + len(recall)))
    top, bottom = fig.subplots(2, 1, height_ratios=[len(perplexity), len(recall)])
    _bars(
        top, perplexity, "Does the prompt help predict the reply?", "perplexity per word (lower is better)", 1
    )
    _bars(bottom, recall, "Which of 10 candidates is the reply?", "recall@1 (higher is better)", 2)
    return fig


def plot_generic_replies(diversity: Mapping[str, Mapping[str, float]]) -> Figure:
    """Two panels side by side: the most frequent reply's share and distinct-2, per way of replying.

    Args:
        diversity: name -> {"top reply share": ..., "distinct-2": ...} (``diversity``'s dicts).
    """
    if not diversity:
        raise ValueError("no way of replying to draw")
    fig = draw.new_figure(1.0, 0.1 + 0.07 * len(diversity))
    left, right = fig.subplots(1, 2)
    _bars(left, {k: v["top reply share"] for k, v in diversity.items()}, "same reply to many", "share", 2)
    _bars(right, {k: v["distinct-2"] for k, v in diversity.items()}, "variety", "distinct-2", 2)
    right.tick_params(labelleft=False)
    return fig
