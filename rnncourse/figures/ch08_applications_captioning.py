"""Figures of chapter 8's captioning page: digit strips with their captions, and where each word looked.

==========================  ===============================================================
function                    what it draws
==========================  ===============================================================
``plot_strips``             strips in a column, each with its true and its generated captions
``plot_strip_attention``    one strip above its attention weights, a row per generated word
==========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from rnncourse.figures import _draw as draw

__all__ = ["plot_strip_attention", "plot_strips"]


def plot_strips(
    images: Sequence[np.ndarray], truths: Sequence[str], generated: Sequence[Sequence[str]]
) -> Figure:
    """A column of strips; each has its true caption as the title and the generated ones beside it.

    Args:
        images: K (H, W) arrays in [0, 1]; truths: K captions.
        generated: K rows of captions, each row one caption per system (e.g. captioner, nearest strip).

    Returns:
        A figure with K axes; axes k shows ``images[k]``, has the title ``truths[k]`` and the
        y label ``"\\n".join(generated[k])``.
    """
    if not len(images) == len(truths) == len(generated) or not images:
        raise ValueError("need the same, non-zero number of images, true captions and generated captions")
    fig = draw.new_figure(1.0, 0.2 * len(images))
    axes = np.atleast_1d(fig.subplots(len(images), 1))
    for ax, image, truth, guesses in zip(axes, images, truths, generated, strict=True):
        ax.imshow(image, cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"true: {truth}", fontsize=draw.MIN_FONT_PT, loc="left")
        ax.set_ylabel("\n".join(guesses), fontsize=draw.MIN_FONT_PT, rotation=0, ha="right", va="center")
    return fig


def plot_strip_attention(image: np.ndarray, words: Sequence[str], weights: np.ndarray) -> Figure:
    """A strip (H, W) above a heatmap of its attention weights (T, J): row t is word t, column j the strip's
    columns 2j and 2j+1, so that each cell sits under the pixels it weighs.

    Returns:
        A figure with three axes: the strip, the heatmap (y tick labels ``words``) and its colour bar.
    """
    weights = np.asarray(weights, dtype=float)
    T, J = weights.shape
    if len(words) != T:
        raise ValueError(f"got {len(words)} words for {T} rows of weights")
    if image.ndim != 2 or image.shape[1] // 2 != J:
        raise ValueError(f"the image (H, W) must have W // 2 = {J} column pairs, got shape {image.shape}")
    fig = draw.new_figure(1.0, 0.55)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, T / 2])
    W = image.shape[1]
    top.imshow(
        image,
        cmap="Greys",
        vmin=0,
        vmax=1,
        aspect="auto",
        extent=(0, W, image.shape[0], 0),
        interpolation="nearest",
    )
    top.set_yticks([])
    top.set_title("the test strip, and where each generated word looked", fontsize=draw.TITLE_FONT_PT)
    shown = bottom.imshow(
        weights, cmap="viridis", vmin=0, vmax=1, aspect="auto", extent=(0, W, T, 0), interpolation="nearest"
    )
    bottom.set_yticks(np.arange(T) + 0.5, list(words))
    bottom.set_xticks(np.arange(0, W + 1, 8))
    bottom.tick_params(labelsize=draw.MIN_FONT_PT)
    bottom.set_xlabel("image column (pixels)", fontsize=draw.MIN_FONT_PT)
    bottom.set_ylabel("word", fontsize=draw.MIN_FONT_PT)
    bar = fig.colorbar(shown, ax=[top, bottom], shrink=0.8)
    bar.set_label("attention weight", fontsize=draw.MIN_FONT_PT)
    bar.ax.tick_params(labelsize=draw.MIN_FONT_PT)
    for x in range(8, W, 8):  # the borders between 8-pixel digits, on both
        for ax in (top, bottom):
            ax.axvline(x, color=draw.SERIES_COLORS[1], linewidth=1.5, linestyle="--")
    return fig
