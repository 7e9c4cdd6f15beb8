"""Chapter 5's figures: the GRU cell, its two variants, and the comparison of RNN, LSTM and GRU.

Each function takes plain data (the stored comparison, ``rnncourse.results.load
("ch05_gru_comparison")``, or arrays) and returns a ``Figure``; nothing is
trained here. Lines carry their kind (``"rnn"``, ``"lstm"``, ``"lstm_fb1"``, ``"gru"``) in
their label, bars their value in their height, so tests read the data back
from the axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, LogLocator, MaxNLocator

from rnncourse.figures import _draw as draw

KIND_LABELS = {
    "rnn": "vanilla RNN (tanh)",
    "lstm": "LSTM",
    "lstm_fb1": "LSTM, forget bias 1",
    "gru": "GRU",
}
KIND_COLORS = {
    "rnn": draw.SERIES_COLORS[1],
    "lstm": draw.SERIES_COLORS[0],
    "lstm_fb1": draw.SERIES_COLORS[3],
    "gru": draw.SERIES_COLORS[2],
}
TASK_TITLES = {
    "adding": "(a) adding problem, T = 100\nMSE",
    "counting": "(b) $a^n b^n$, determined steps\ncross-entropy",
    "charlm": "(c) character LM, Hamlet\nnats per character",
}


def draw_gru_cell() -> Figure:
    """One GRU step (torch's variant): the state path along the top, the two gates and the candidate below.

    Returns:
        A figure with one axes: the gates r and z and the candidate n (``gid`` "gate",
        labelled σ or tanh with their letter), two product nodes (``gid`` "product"),
        the 1 - z node (``gid`` "one minus"), one sum node (``gid`` "sum"), the states
        h_{t-1} (drawn where it is kept and where the gates read it) and h_t (``gid``
        "state") and the input x_t (``gid`` "input"); the state path is an arrow chain
        ``gid`` "state path".
    """
    fig = draw.new_figure(1.0, 0.56)
    ax = fig.subplots()
    y_top, y_mid, y_gate, y_in = 2.6, 1.4, 0.0, -1.6
    x_z, x_minus, x_r, x_n, x_sum = 1.6, 3.0, 3.6, 5.4, 7.0
    node, gate_w, minus_w = 0.42, 1.2, 0.7

    draw.box(ax, (-0.4, y_top), 1.0, 0.6, "$h_{t-1}$", role="state", gid="state")
    draw.box(ax, (-0.4, y_in + 0.6), 1.0, 0.6, "$h_{t-1}$", role="state", gid="state")
    draw.box(ax, (9.0, y_top), 0.9, 0.6, "$h_t$", role="output", gid="state")
    draw.box(ax, (1.2, y_in - 0.5), 0.8, 0.55, "$x_t$", role="input", gid="input")
    # The state path: h_{t-1} -> (x z) -> (+ (1 - z) n) -> h_t, an elementwise product and a sum.
    draw.box(ax, (x_z, y_top), node, node, r"$\times$", role="cell", gid="product", fontsize=13)
    draw.box(ax, (x_sum, y_top), node, node, "$+$", role="cell", gid="sum", fontsize=13)
    draw.arrow(ax, (0.1, y_top), (x_z - node / 2, y_top), color=draw.PALETTE["feedback"], gid="state path")
    draw.arrow(
        ax,
        (x_z + node / 2, y_top),
        (x_sum - node / 2, y_top),
        color=draw.PALETTE["feedback"],
        gid="state path",
    )
    draw.arrow(ax, (x_sum + node / 2, y_top), (8.55, y_top), color=draw.PALETTE["feedback"], gid="state path")
    ax.text(
        4.3,
        y_top + 0.55,
        r"$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot n_t$",
        ha="center",
        fontsize=draw.MIN_FONT_PT,
        color=draw.PALETTE["feedback"],
    )

    gates = {"z": (x_z, r"$\sigma$: $z_t$"), "r": (x_r, r"$\sigma$: $r_t$"), "n": (x_n, r"tanh: $n_t$")}
    for x, label in gates.values():
        draw.box(ax, (x, y_gate), gate_w, 0.6, label, role="cell", gid="gate", fontsize=draw.MIN_FONT_PT)
        # every block reads [h_{t-1}, x_t] through its own rows of W_xh, W_hh and the biases
        draw.path_arrow(
            ax, [(0.1, y_in + 0.6), (x, y_in + 0.6), (x, y_gate - 0.3)], color=draw.PALETTE["weight"]
        )
    draw.arrow(ax, (1.2, y_in - 0.22), (1.2, y_in + 0.6), color=draw.PALETTE["weight"])
    # z keeps the old state; 1 - z lets the candidate in
    draw.arrow(ax, (x_z, y_gate + 0.3), (x_z, y_top - node / 2))
    draw.box(
        ax, (x_minus, y_mid), minus_w, node, "1 −", role="cell", gid="one minus", fontsize=draw.MIN_FONT_PT
    )
    draw.path_arrow(ax, [(x_z + 0.3, y_gate + 0.3), (x_z + 0.3, y_mid), (x_minus - minus_w / 2, y_mid)])
    draw.box(ax, (x_n, y_mid), node, node, r"$\times$", role="cell", gid="product", fontsize=13)
    draw.arrow(ax, (x_minus + minus_w / 2, y_mid), (x_n - node / 2, y_mid))
    draw.arrow(ax, (x_n, y_gate + 0.3), (x_n, y_mid - node / 2))
    draw.path_arrow(ax, [(x_n + node / 2, y_mid), (x_sum, y_mid), (x_sum, y_top - node / 2)])
    # r scales what the candidate reads of the old state (after W_hn in torch)
    draw.arrow(ax, (x_r + gate_w / 2, y_gate), (x_n - gate_w / 2, y_gate))
    ax.text(
        9.6,
        y_in - 0.55,
        r"$n_t = \tanh(W_{xn} x_t + b_{xn} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))$",
        fontsize=draw.MIN_FONT_PT,
        ha="right",
    )
    ax.text(
        2.2,
        y_in + 0.35,
        r"$[h_{t-1}; x_t]$ through $W_{xh}, W_{hh}$ (rows r, z, n)",
        fontsize=draw.MIN_FONT_PT,
        color=draw.PALETTE["weight"],
    )
    draw.diagram_axes(ax, (-1.0, 9.6), (-2.5, 3.4))
    return fig


def plot_learning_curves(result: Mapping[str, Any]) -> Figure:
    """Evaluation loss against training step, one panel per task, one colour per kind.

    Thin lines: each seed; thick line: the median over seeds (label ``"<kind> median"``);
    the dotted grey line is the task's target. Log scale on the loss. Two panels a row;
    the legend (the kinds by name) fills the cell after the last panel.
    """
    tasks = list(result["runs"])
    rows = (len(tasks) + 2) // 2  # room for the legend after the last panel
    fig = draw.new_figure(1.0, 0.42 * rows)
    grid = fig.subplots(rows, 2, squeeze=False).ravel()
    axes, spare = grid[: len(tasks)], grid[len(tasks) :]
    for ax, task in zip(axes, tasks):
        for kind, runs in result["runs"][task].items():
            steps = np.asarray(runs[0]["steps"])
            losses = np.array([run["losses"] for run in runs])
            for row in losses:
                ax.plot(steps, row, color=KIND_COLORS[kind], linewidth=0.6, alpha=0.45)
            ax.plot(
                steps, np.median(losses, axis=0), color=KIND_COLORS[kind], linewidth=2, label=f"{kind} median"
            )
        ax.axhline(
            result["targets"][task], color=draw.PALETTE["muted"], linestyle=":", linewidth=1.5, label="target"
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=4))
        # within one decade (the character LM) the minor ticks carry the labels: plain numbers
        ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
        ax.xaxis.set_major_locator(MaxNLocator(3, steps=[1, 2, 5, 10]))
        ax.tick_params(which="both", labelsize=draw.MIN_FONT_PT)
        ax.set_xlabel("training step", fontsize=draw.MIN_FONT_PT)
        ax.set_ylabel("evaluation loss", fontsize=draw.MIN_FONT_PT)
        ax.set_title(TASK_TITLES.get(task, task), fontsize=draw.TITLE_FONT_PT)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    names = [KIND_LABELS.get(label.removesuffix(" median"), label) for label in labels]
    for ax in spare:
        ax.axis("off")
    legend_ax = spare[0] if len(spare) else axes[-1]
    legend_ax.legend(
        handles, [f"{name}, median" if name != "target" else name for name in names], loc="center",
        fontsize=draw.MIN_FONT_PT, frameon=False, title="thin lines: single seeds", title_fontsize=draw.MIN_FONT_PT,
    )  # fmt: skip
    return fig


def plot_costs(result: Mapping[str, Any]) -> Figure:
    """Seconds per epoch, torch.nn (left) and the course's NumPy layers (right), grouped by task.

    One bar per (task, kind); bars are labelled ``"<kind>"`` through their
    container, and their heights are the stored seconds. One legend below both panels.
    """
    tasks = list(result["epoch_seconds"])
    kinds = list(next(iter(result["epoch_seconds"].values())))
    fig = draw.new_figure(1.0, 0.6)
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.8 / len(kinds)
    for ax, backend in zip(axes, ("torch", "numpy")):
        for k, kind in enumerate(kinds):
            heights = [result["epoch_seconds"][task][kind][backend] for task in tasks]
            ax.bar(
                np.arange(len(tasks)) + (k - (len(kinds) - 1) / 2) * width,
                heights,
                width,
                color=KIND_COLORS[kind],
                label=kind,
            )
        ax.set_xticks(range(len(tasks)), tasks)
        ax.yaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(labelsize=draw.MIN_FONT_PT)
        ax.set_title(
            "torch.nn, one thread" if backend == "torch" else "course NumPy layer\n(forward + backward)",
            fontsize=draw.TITLE_FONT_PT,
        )
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("CPU seconds per epoch\n(1,024 sequences)", fontsize=draw.MIN_FONT_PT)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        [KIND_LABELS.get(label, label) for label in labels],
        loc="outside lower center",
        ncols=2,
        fontsize=draw.MIN_FONT_PT,
        frameon=False,
    )
    return fig


def plot_summary(result: Mapping[str, Any]) -> Figure:
    """Three panels of bars, one group per task and one bar per kind: parameters, median steps to
    the target, and median final loss (relative to the best kind of the task).

    A kind whose median run never reached the target gets a hatched bar at the run's full length,
    labelled "never". Bar containers are labelled with the kind; heights are the data. Two
    panels a row; the legend (the kinds by name) fills the cell after the third.
    """
    tasks = list(result["summary"])
    kinds = list(next(iter(result["summary"].values())))
    fig = draw.new_figure(1.0, 0.8)
    grid = fig.subplots(2, 2).ravel()
    axes, legend_ax = grid[:3], grid[3]
    width = 0.8 / len(kinds)
    positions = np.arange(len(tasks))
    for k, kind in enumerate(kinds):
        offset = positions + (k - (len(kinds) - 1) / 2) * width
        rows = [result["summary"][task][kind] for task in tasks]
        axes[0].bar(offset, [row["params"] for row in rows], width, color=KIND_COLORS[kind], label=kind)
        reached = [row["median_steps_to_target"] for row in rows]
        heights = [r if r is not None else result["steps"][task] for r, task in zip(reached, tasks)]
        bars = axes[1].bar(offset, heights, width, color=KIND_COLORS[kind], label=kind)
        for bar, r in zip(bars, reached):
            if r is None:
                bar.set_hatch("//")
                bar.set_alpha(0.4)
                # inside the bar, from its top down: above it would run into the title
                axes[1].text(bar.get_x() + bar.get_width() / 2, 0.97 * bar.get_height(), "never",
                             ha="center", va="top", fontsize=draw.MIN_FONT_PT, rotation=90,
                             bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})  # fmt: skip
        best = [min(result["summary"][task][other]["final_loss_median"] for other in kinds) for task in tasks]
        axes[2].bar(offset, [row["final_loss_median"] / b for row, b in zip(rows, best)], width,
                    color=KIND_COLORS[kind], label=kind)  # fmt: skip
    titles = ("parameters", "median steps to the target", "final loss / best kind's")
    for ax, title in zip(axes, titles):
        ax.set_xticks(positions, tasks)
        ax.set_title(title, fontsize=draw.TITLE_FONT_PT)
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    axes[2].set_yscale("log")
    axes[2].yaxis.set_major_locator(LogLocator(base=10.0, numticks=4))
    for ax in axes:
        ax.tick_params(which="both", labelsize=draw.MIN_FONT_PT)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_ax.axis("off")
    legend_ax.legend(
        handles,
        [KIND_LABELS.get(label, label) for label in labels],
        loc="center",
        fontsize=draw.MIN_FONT_PT,
        frameon=False,
    )
    return fig


def plot_counting(result: Mapping[str, Any], train_max: int = 10) -> Figure:
    """How far each model counts: the largest n with every a^k b^k, k <= n, accepted, per seed.

    One row of dots per kind (their x data are the counts), and a shaded band
    over the training range 1..train_max, named in the one legend above the axes (the
    rows are named by their tick labels).
    """
    summary = result["summary"]["counting"]
    kinds = list(summary)
    fig = draw.new_figure(1.0, 0.4)
    ax = fig.subplots()
    band = ax.axvspan(0.5, train_max + 0.5, color=draw.PALETTE["state"], label=f"trained on n ≤ {train_max}")
    for row, kind in enumerate(kinds):
        counts = summary[kind]["counts_to"]
        ax.plot(
            counts, [row] * len(counts), "o", color=KIND_COLORS[kind], markersize=8, alpha=0.7, label=kind
        )
    ax.set_yticks(range(len(kinds)), [KIND_LABELS[k] for k in kinds])
    ax.set_xlabel(
        r"counts correctly up to n (accepts every $a^k b^k$, $k \leq n$)", fontsize=draw.MIN_FONT_PT
    )
    ax.set_xlim(0, max(train_max * 2, max(max(summary[k]["counts_to"]) for k in kinds) + 2))
    ax.set_ylim(-0.6, len(kinds) - 0.4)
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(handles=[band], loc="outside upper right", fontsize=draw.MIN_FONT_PT, frameon=False)
    return fig


def plot_variants(h_after: np.ndarray, h_before: np.ndarray, r: np.ndarray) -> Figure:
    """The two GRU variants on the same weights and inputs: h_t of each, against the reset gate's mean.

    Args:
        h_after: (T, H) states of torch's variant (reset after W_hn) over T steps.
        h_before: (T, H) states of the reset-before variant, same weights and inputs.
        r: (T,) the mean reset gate of the torch variant at each step.

    Returns:
        Two panels: the first hidden unit of both variants over time (lines
        ``"reset after (torch)"`` and ``"reset before (Cho et al.)"``), and
        the largest gap between them per step, with r's mean (line ``"mean r_t"``).
    """
    fig = draw.new_figure(1.0, 0.3)
    left, right = fig.subplots(1, 2)
    # x is the step t = 1..T, plot_curves' default
    draw.plot_curves(
        left,
        {"reset after (torch)": h_after[:, 0].tolist(), "reset before (Cho et al.)": h_before[:, 0].tolist()},
        styles={"reset before (Cho et al.)": "--"},
        xlabel="step t",
        ylabel="$h_t$, first unit",
    )
    draw.plot_curves(
        right,
        {"max gap": np.abs(h_after - h_before).max(axis=1).tolist(), "mean r_t": np.asarray(r).tolist()},
        styles={"mean r_t": ":"},
        colors={"max gap": draw.SERIES_COLORS[2], "mean r_t": draw.PALETTE["muted"]},
        xlabel="step t",
        ylabel="largest |difference| / gate value",
    )
    return fig


def table_rows(result: Mapping[str, Any], kinds: Sequence[str] | None = None) -> list[dict[str, object]]:
    """The comparison as table rows: task, kind, H, parameters, reached, median steps, final loss, seconds.

    ``kinds``: the kinds to list, in order; None: every kind the result holds.
    """
    rows: list[dict[str, object]] = []
    for task, by_kind in result["summary"].items():
        for kind in by_kind if kinds is None else kinds:
            s = by_kind[kind]
            times = result["epoch_seconds"][task][kind]
            rows.append(
                {
                    "task": task,
                    "kind": kind,
                    "H": s["hidden"],
                    "params": s["params"],
                    "reached target": s["reached"],
                    "median steps to target": s["median_steps_to_target"],
                    "final loss (median)": round(s["final_loss_median"], 4),
                    "torch s/epoch": round(times["torch"], 3),
                    "NumPy s/epoch": round(times["numpy"], 3),
                    **({"counts to (median)": s["counts_to_median"]} if "counts_to_median" in s else {}),
                }
            )
    return rows


def plot_gru_gates(x: np.ndarray, z: np.ndarray, r: np.ndarray) -> Figure:
    """The gates of a trained GRU over one adding-problem sequence.

    Args:
        x: (T, 2) the sequence: values in column 0, the two markers (1.0) in column 1.
        z: (T, H) the update gate at every step and unit (torch's convention: 1 keeps the state).
        r: (T, H) the reset gate.

    Returns:
        Three panels over the steps: the values, with the marked steps drawn as tall bars
        (``gid`` "marked"); z and r as images, units down and steps across (their arrays
        are the data, transposed to (H, T)), on the same colour scale from 0 to 1. The
        marked steps are drawn as dotted lines (``gid`` "marker line") on every panel.
    """
    T = x.shape[0]
    marked = np.flatnonzero(x[:, 1] > 0.5)
    fig = draw.new_figure(1.0, 0.78)
    axes = fig.subplots(3, 1, sharex=True, height_ratios=(1, 2, 2))
    steps = np.arange(T)
    axes[0].bar(steps, x[:, 0], width=0.8, color=draw.PALETTE["muted"], label="value")
    bars = axes[0].bar(marked, x[marked, 0], width=1.6, color=draw.SERIES_COLORS[1], label="marked value")
    for bar in bars:
        bar.set_gid("marked")
    axes[0].set_ylabel("input", fontsize=draw.MIN_FONT_PT)
    axes[0].yaxis.set_major_locator(MaxNLocator(1))
    fig.legend(loc="outside upper center", ncols=2, fontsize=draw.MIN_FONT_PT, frameon=False)
    image = None
    for ax, gate, name in ((axes[1], z, "update gate $z_t$"), (axes[2], r, "reset gate $r_t$")):
        image = ax.imshow(gate.T, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_ylabel(f"{name}\nunit", fontsize=draw.MIN_FONT_PT)
        ax.yaxis.set_major_locator(MaxNLocator(3, integer=True))
    for ax in axes:
        ax.tick_params(labelsize=draw.MIN_FONT_PT)
        for step in marked:
            ax.axvline(step, color=draw.SERIES_COLORS[1], linestyle=":", linewidth=1.2, gid="marker line")
    axes[2].set_xlabel("step t", fontsize=draw.MIN_FONT_PT)
    assert image is not None
    colorbar = fig.colorbar(image, ax=axes[1:], shrink=0.9, ticks=[0.0, 0.5, 1.0])
    colorbar.set_label("gate value", fontsize=draw.MIN_FONT_PT)
    colorbar.ax.tick_params(labelsize=draw.MIN_FONT_PT)
    return fig
