"""Figures of chapter 2, backpropagation through time.

=============================  =====================================================
function                       what it draws
=============================  =====================================================
``draw_bptt_graph``            the unrolled graph with a loss at every step, forward
                               arrows (solid) and the adjoint's backward arrows (red,
                               dashed): delta_t collects dL_t/dh_t and J_{t+1}^T delta_{t+1}
``draw_shared_weights``        one W_hh node used at every step of the unrolled graph,
                               and the one contribution per use that its gradient sums
``draw_clipping``              a 2-D gradient clipped by global norm (onto the circle)
                               and element by element (into the square)
``plot_truncation``            accuracy of recalling the bit seen d steps ago against
                               the chunk length k, one line per d, with k = d marked
``plot_cost``                  CPU time and autograd memory of full and truncated BPTT
                               against the sequence length
``plot_char_lm``               the character model's training and validation loss
=============================  =====================================================

Diagram patches carry a ``gid`` (``"state"``, ``"input"``, ``"loss"``,
``"forward"``, ``"backward"``, ``"shared"``, ``"use"``, ``"contribution"``); plotted
lines keep their labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rnncourse.figures import _draw as draw


def draw_bptt_graph(steps: int = 4) -> Figure:
    """The unrolled RNN with a loss L_t at every step; forward arrows and BPTT's backward arrows.

    Returns:
        One axes: ``steps + 1`` state boxes (``gid`` "state", h_0 first), ``steps``
        inputs ("input") and losses ("loss"); arrows tagged "forward" (x_t -> h_t,
        h_{t-1} -> h_t, h_t -> L_t) and "backward" (L_t -> h_t, h_{t+1} -> h_t).
    """
    fig = draw.new_figure(1.0, 0.47)
    ax = fig.add_subplot()
    gap, w, h = 2.4, 1.0, 0.7
    draw.diagram_axes(ax, (-0.8, gap * steps + 0.8), (-2.9, 2.3))
    draw.box(ax, (0, 0), w, h, "$h_0$", role="state", gid="state", fontsize=draw.MIN_FONT_PT + 1)
    for t in range(1, steps + 1):
        x = gap * t
        draw.box(ax, (x, 0), w, h, f"$h_{{{t}}}$", role="cell", gid="state", fontsize=draw.MIN_FONT_PT + 1)
        draw.box(ax, (x, -1.7), 0.8, 0.55, f"$x_{{{t}}}$", role="input", gid="input")
        draw.box(ax, (x, 1.7), 0.9, 0.55, f"$L_{{{t}}}$", role="output", gid="loss")
        draw.arrow(
            ax,
            (x, -1.42),
            (x, -h / 2),
            gid="forward",
            label="$W_{xh}$",
            label_at=(x + 0.5, -1.0),
        )
        draw.arrow(ax, (x - 0.12, h / 2), (x - 0.12, 1.42), gid="forward")
        draw.arrow(
            ax,
            (x + 0.12, 1.42),
            (x + 0.12, h / 2),
            gid="backward",
            color=draw.PALETTE["feedback"],
            linestyle="--",
        )
        draw.arrow(
            ax,
            (x - gap + w / 2, 0.12),
            (x - w / 2, 0.12),
            gid="forward",
            label="$W_{hh}$",
            label_at=(x - gap / 2, 0.45),
            color=draw.PALETTE["weight"],
        )
        draw.arrow(
            ax,
            (x - w / 2, -0.15),
            (x - gap + w / 2, -0.15),
            gid="backward",
            color=draw.PALETTE["feedback"],
            linestyle="--",
        )
    ax.text(
        gap * steps / 2,
        -2.5,
        "red, dashed (the backward pass):\n"
        r"$\delta_t = \partial L_t/\partial h_t + J_{t+1}^\top \delta_{t+1}$,"
        r"  $J_{t+1} = \mathrm{diag}(f'(a_{t+1}))\,W_{hh}$",
        ha="center",
        va="center",
        fontsize=draw.MIN_FONT_PT,
        color=draw.PALETTE["feedback"],
    )
    return fig


def draw_shared_weights(steps: int = 3) -> Figure:
    """The unrolled RNN with its one recurrent matrix drawn once, below, used at every step.

    Returns:
        One axes: ``steps + 1`` state boxes (``gid`` "state"), ``steps`` losses ("loss"), a
        single box for W_hh ("shared"); per step t an arrow from W_hh into the transition
        h_{t-1} -> h_t ("use") and a red dashed arrow back ("contribution") labelled with
        that use's term of the gradient, (delta_t * f'_t)^T h_{t-1}.
    """
    fig = draw.new_figure(1.0, 0.55)
    ax = fig.add_subplot()
    gap, w, h = 2.6, 0.9, 0.7
    draw.diagram_axes(ax, (-0.8, gap * steps + 0.8), (-3.3, 2.2))
    draw.box(ax, (0, 0), w, h, "$h_0$", role="state", gid="state", fontsize=draw.MIN_FONT_PT + 1)
    shared_at = (gap * steps / 2, -2.2)
    draw.box(
        ax,
        shared_at,
        2.6,
        0.7,
        "$W_{hh}$ (one matrix)",
        role="state",
        gid="shared",
        fontsize=draw.MIN_FONT_PT,
    )
    for t in range(1, steps + 1):
        x = gap * t
        draw.box(ax, (x, 0), w, h, f"$h_{{{t}}}$", role="cell", gid="state", fontsize=draw.MIN_FONT_PT + 1)
        draw.box(
            ax, (x, 1.6), 0.9, 0.55, f"$L_{{{t}}}$", role="output", gid="loss", fontsize=draw.MIN_FONT_PT
        )
        draw.arrow(ax, (x, h / 2), (x, 1.32), gid="forward")
        draw.arrow(ax, (x - gap + w / 2, 0), (x - w / 2, 0), gid="forward")
        middle = x - gap / 2
        top = (shared_at[0] + (middle - shared_at[0]) * 0.35, shared_at[1] + 0.35)
        draw.arrow(ax, top, (middle - 0.1, -0.06), gid="use", color=draw.PALETTE["weight"])
        draw.arrow(
            ax,
            (middle + 0.1, -0.06),
            (top[0] + 0.25, top[1]),
            gid="contribution",
            color=draw.PALETTE["feedback"],
            linestyle="--",
        )
        ax.text(
            middle,
            0.45,
            rf"$(\delta_{{{t}}} \odot f'_{{{t}}})^\top h_{{{t - 1}}}$",
            ha="center",
            va="center",
            fontsize=draw.MIN_FONT_PT,
            color=draw.PALETTE["feedback"],
        )
    ax.text(
        shared_at[0],
        -3.05,
        r"$\partial L/\partial W_{hh}$ = the sum of the red terms, one per use",
        ha="center",
        va="center",
        fontsize=draw.MIN_FONT_PT,
        color=draw.PALETTE["feedback"],
    )
    return fig


def draw_clipping(gradient: Sequence[float] = (3.0, 0.8), threshold: float = 1.0) -> Figure:
    """A 2-D gradient, clipped by global norm (onto the circle) and element by element (into the square).

    Returns:
        One axes with three labelled lines from the origin: "gradient",
        "clipped by global norm" (its end on the circle of radius ``threshold``,
        same direction) and "clipped element by element" (the end clipped into
        the square).
    """
    g = np.asarray(gradient, dtype=float)
    by_norm = g * min(1.0, threshold / np.linalg.norm(g))
    by_entry = np.clip(g, -threshold, threshold)
    fig = draw.new_figure(1.0, 0.42)
    ax = fig.add_subplot()
    angle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(
        threshold * np.cos(angle),
        threshold * np.sin(angle),
        ":",
        color=draw.PALETTE["muted"],
        label="norm = threshold",
    )
    square = threshold * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]])
    ax.plot(
        square[:, 0],
        square[:, 1],
        "--",
        color=draw.PALETTE["muted"],
        linewidth=1,
        label="each entry = threshold",
    )
    for vector, label, color in (
        (g, "gradient", draw.PALETTE["edge"]),
        (by_norm, "clipped by global norm", draw.SERIES_COLORS[0]),
        (by_entry, "clipped element by element", draw.SERIES_COLORS[1]),
    ):
        ax.plot([0, vector[0]], [0, vector[1]], "-o", color=color, linewidth=2, markevery=[1], label=label)
    ax.set_aspect("equal")
    ax.set_xlim(-1.3, max(1.3, g[0] + 0.3))
    ax.set_ylim(-1.3, 1.3)
    ax.axhline(0, color="#dddddd", linewidth=0.8, zorder=0)
    ax.axvline(0, color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_xticks(np.arange(-1, ax.get_xlim()[1] + 1e-9))
    ax.set_yticks([-1, 0, 1])
    ax.set_xlabel("$g_1$", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel("$g_2$", fontsize=draw.MIN_FONT_PT)
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.legend(fontsize=draw.MIN_FONT_PT, loc="center left", bbox_to_anchor=(1.03, 0.5), frameon=False)
    return fig


def plot_truncation(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Mean accuracy over seeds against the chunk length k, one line per delay d, k = d dashed.

    Args:
        rows: dicts with "d", "k", "accuracy" (several seeds may share d and k).

    Returns:
        One axes (log2 x) with a line labelled "d = <d>" per delay, a vertical
        line per d at k = d, and chance (0.5) dotted.
    """
    fig = draw.new_figure(0.8, 0.5)
    ax = fig.add_subplot()
    delays = sorted({int(r["d"]) for r in rows})
    for i, d in enumerate(delays):
        ks = sorted({int(r["k"]) for r in rows if r["d"] == d})
        mean = [float(np.mean([r["accuracy"] for r in rows if r["d"] == d and r["k"] == k])) for k in ks]
        color = draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)]
        ax.plot(ks, mean, "-o", color=color, linewidth=2, label=f"d = {d}")
        ax.axvline(d, color=color, linestyle="--", linewidth=1)
    ax.axhline(0.5, color=draw.PALETTE["muted"], linestyle=":", label="chance")
    ax.set_xscale("log", base=2)
    all_ks = sorted({int(r["k"]) for r in rows})
    ax.set_xticks(all_ks, [str(k) for k in all_ks])
    ax.minorticks_off()
    ax.set_ylim(0.4, 1.03)
    draw.finish_axes(
        ax,
        xlabel="chunk length k (truncation)",
        ylabel="accuracy of the bit\nseen d steps ago",
        legend_loc="lower right",
    )
    return fig


def plot_cost(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """CPU seconds and autograd memory (MB) of one pass against T, full versus truncated BPTT.

    Args:
        rows: dicts with "T", "k" (None for full BPTT), "cpu_seconds", "saved_bytes".

    Returns:
        Two axes (time, memory), each with the lines "full BPTT" and "truncated, k = <k>".
    """
    fig = draw.new_figure(1.0, 0.45)
    ax_time, ax_memory = fig.subplots(1, 2)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        label = "full BPTT" if row["k"] is None else f"truncated, k = {row['k']}"
        groups.setdefault(label, []).append(row)
    for i, (label, group) in enumerate(groups.items()):
        group = sorted(group, key=lambda r: r["T"])
        Ts = [r["T"] for r in group]
        color = draw.SERIES_COLORS[i]
        ax_time.plot(Ts, [r["cpu_seconds"] for r in group], "-o", color=color, label=label)
        ax_memory.plot(Ts, [r["saved_bytes"] / 1e6 for r in group], "-o", color=color, label=label)
    longest = max(r["T"] for r in rows)
    for ax, ylabel in ((ax_time, "CPU seconds per pass"), (ax_memory, "MB kept for the backward")):
        ax.set_xticks([0, longest / 2, longest])
        ax.yaxis.set_major_locator(MaxNLocator(4))
        draw.finish_axes(ax, xlabel="sequence length T", ylabel=ylabel, legend_loc="upper left")
    return fig


def plot_char_lm(
    losses: Sequence[float], valid: Sequence[Sequence[float]], uniform: float, window: int = 50
) -> Figure:
    """Training loss (moving average of ``window`` chunks) and validation loss in nats per character.

    Returns:
        One axes with lines "training (moving average)", "validation (held-out play)"
        and "uniform guess, ln V".
    """
    fig = draw.new_figure(0.9, 0.5)
    ax = fig.add_subplot()
    values = np.asarray(losses, dtype=float)
    smooth = np.convolve(values, np.ones(window) / window, mode="valid")
    steps = np.arange(window, len(values) + 1)
    draw.plot_curves(
        ax,
        {"training (moving average)": smooth.tolist()},
        x=steps.tolist(),
        xlabel="chunk (update)",
        ylabel="nats per character",
    )
    ax.plot(
        [v[0] for v in valid],
        [v[1] for v in valid],
        "o--",
        color=draw.SERIES_COLORS[1],
        label="validation (held-out play)",
    )
    ax.axhline(uniform, color=draw.PALETTE["muted"], linestyle=":", label="uniform guess, ln V")
    ax.set_ylim(0, uniform + 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.legend(fontsize=draw.MIN_FONT_PT, loc="lower left")
    return fig
