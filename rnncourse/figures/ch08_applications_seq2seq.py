"""Figures of chapter 8's sequence-to-sequence page: captioned icons, a piano roll, scores against baselines.

==========================  ===============================================================
function                    what it draws
==========================  ===============================================================
``plot_captions``           icons in a row, each with its true and its generated caption
``plot_piano_roll``         a melody as a (pitch, time) image
``plot_scores``             grouped bars: each application's model against its baseline
==========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from rnncourse.figures._draw import SERIES_COLORS, new_figure

__all__ = ["plot_captions", "plot_piano_roll", "plot_scores"]


def plot_captions(images: Sequence[np.ndarray], truths: Sequence[str], generated: Sequence[str]) -> Figure:
    """One axes per icon: the image, its true caption as the title and the generated one below.

    Args:
        images: K (S, S, 3) arrays in [0, 1]; truths, generated: K captions each.

    Returns:
        A figure with K axes; axes k has the title ``truths[k]`` and the x label
        ``"model: " + generated[k]``.
    """
    if not len(images) == len(truths) == len(generated) or not images:
        raise ValueError("need the same, non-zero number of images, true captions and generated captions")
    fig = new_figure(1.0, 0.28)
    axes = np.atleast_1d(fig.subplots(1, len(images)))
    for ax, image, truth, guess in zip(axes, images, truths, generated, strict=True):
        ax.imshow(image, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(truth, fontsize=8, wrap=True)
        ax.set_xlabel(f"model: {guess}", fontsize=8, color=SERIES_COLORS[1], wrap=True)
    return fig


_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def plot_piano_roll(roll: np.ndarray, lowest_pitch: int, steps_per_beat: int, title: str) -> Figure:
    """A piano roll: rows are pitches from ``lowest_pitch`` up, columns time steps.

    Returns:
        A figure with one axes holding one image (``roll``, lowest pitch at the
        bottom); y ticks name the C and G of each octave that appears.
    """
    fig = new_figure(1.0, 0.3)
    ax = fig.subplots()
    P, S = roll.shape
    ax.imshow(
        roll,
        origin="lower",
        aspect="auto",
        cmap="Greys",
        vmin=0,
        vmax=1,
        extent=(0, S / steps_per_beat, lowest_pitch - 0.5, lowest_pitch + P - 0.5),
        interpolation="nearest",
    )
    ticks = [p for p in range(lowest_pitch, lowest_pitch + P) if p % 12 in (0, 7)]
    ax.set_yticks(ticks, [f"{_NAMES[p % 12]}{p // 12 - 1}" for p in ticks])
    ax.set_xlabel("beats (quarter notes)")
    ax.set_ylabel("pitch")
    ax.set_title(title, fontsize=11)
    return fig


def plot_scores(scores: Mapping[str, Mapping[str, float]], ylabel: str) -> Figure:
    """Grouped bars: one group per application, one bar per system (e.g. baseline, model).

    Args:
        scores: application -> {system: score}; every application must name the same systems.
        ylabel: the scores' unit.

    Returns:
        A figure with one axes; the bars of system s carry the label s.
    """
    systems = list(next(iter(scores.values())))
    if any(list(v) != systems for v in scores.values()):
        raise ValueError("every application must list the same systems in the same order")
    fig = new_figure(0.7, 0.35)
    ax = fig.subplots()
    width = 0.8 / len(systems)
    xs = np.arange(len(scores))
    for i, system in enumerate(systems):
        values = [scores[app][system] for app in scores]
        ax.bar(xs + (i - (len(systems) - 1) / 2) * width, values, width, label=system, color=SERIES_COLORS[i])
    ax.set_xticks(xs, list(scores))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=9)
    return fig
