"""Figures of chapter 8's music page.

==========================  ===============================================================
function                    what it draws
==========================  ===============================================================
``plot_piano_roll``         a melody as a (pitch, time) image
==========================  ===============================================================
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnncourse.figures import _draw as draw

__all__ = ["plot_piano_roll"]

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def plot_piano_roll(roll: np.ndarray, lowest_pitch: int, steps_per_beat: int, title: str) -> Figure:
    """A piano roll: rows are pitches from ``lowest_pitch`` up, columns time steps.

    Args:
        roll: (P, S) array, 1 where a note sounds; lowest_pitch: the MIDI pitch of row 0;
        steps_per_beat: columns per beat; title: the axes' title.

    Returns:
        A figure with one axes holding one image (``roll``, lowest pitch at the
        bottom); y ticks name the C and G of each octave that appears.
    """
    fig = draw.new_figure(1.0, 0.3)
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
    ax.set_xlabel("beats (quarter notes)", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel("pitch", fontsize=draw.MIN_FONT_PT)
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.set_title(title, fontsize=draw.TITLE_FONT_PT)
    return fig
