"""Chapter 5's figures: the two GRU variants, and the comparison of RNN, LSTM and GRU.

Each function takes plain data (the stored comparison, ``rnncourse.results.load
("ch05_gru_comparison")``, or arrays) and returns a ``Figure``; nothing is
trained here. Lines carry their kind (``"rnn"``, ``"lstm"``, ``"gru"``) in
their label, bars their value in their height, so tests read the data back
from the axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from rnncourse.figures._draw import PALETTE, SERIES_COLORS, new_figure, plot_curves

KIND_LABELS = {"rnn": "vanilla RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
KIND_COLORS = {"rnn": SERIES_COLORS[1], "lstm": SERIES_COLORS[0], "gru": SERIES_COLORS[2]}
TASK_TITLES = {
    "adding": "(a) adding problem, T = 100 (MSE)",
    "counting": "(b) $a^n b^n$, determined steps (cross-entropy)",
    "charlm": "(c) character LM, Hamlet (nats/char)",
}


def plot_learning_curves(result: Mapping[str, Any]) -> Figure:
    """Evaluation loss against training step, one panel per task, one colour per kind.

    Thin lines: each seed; thick line: the median over seeds (label ``"<kind> median"``);
    the dotted grey line is the task's target. Log scale on the loss.
    """
    tasks = list(result["runs"])
    fig = new_figure(1.0, 0.36)
    axes = fig.subplots(1, len(tasks))
    for ax, task in zip(np.atleast_1d(axes), tasks):
        for kind, runs in result["runs"][task].items():
            steps = np.asarray(runs[0]["steps"])
            losses = np.array([run["losses"] for run in runs])
            for row in losses:
                ax.plot(steps, row, color=KIND_COLORS[kind], linewidth=0.6, alpha=0.45)
            ax.plot(
                steps, np.median(losses, axis=0), color=KIND_COLORS[kind], linewidth=2, label=f"{kind} median"
            )
        ax.axhline(
            result["targets"][task], color=PALETTE["muted"], linestyle=":", linewidth=1.5, label="target"
        )
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(TASK_TITLES.get(task, task), fontsize=10)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("evaluation loss")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    return fig


def plot_costs(result: Mapping[str, Any]) -> Figure:
    """Seconds per epoch, torch.nn (left) and the course's NumPy layers (right), grouped by task.

    One bar per (task, kind); bars are labelled ``"<kind>"`` through their
    container, and their heights are the stored seconds.
    """
    tasks = list(result["epoch_seconds"])
    kinds = list(next(iter(result["epoch_seconds"].values())))
    fig = new_figure(1.0, 0.34)
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.8 / len(kinds)
    for ax, backend in zip(axes, ("torch", "numpy")):
        for k, kind in enumerate(kinds):
            heights = [result["epoch_seconds"][task][kind][backend] for task in tasks]
            ax.bar(
                np.arange(len(tasks)) + (k - 1) * width, heights, width, color=KIND_COLORS[kind], label=kind
            )
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_title(
            "torch.nn, one thread" if backend == "torch" else "course NumPy layer (forward + backward)"
        )
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("CPU seconds per epoch of 1024 sequences")
    axes[0].legend(fontsize=9)
    return fig


def plot_summary(result: Mapping[str, Any]) -> Figure:
    """Three panels of bars, one group per task and one bar per kind: parameters, median steps to
    the target, and median final loss (relative to the best kind of the task).

    A kind whose median run never reached the target gets a hatched bar at the run's full length,
    labelled "never". Bar containers are labelled with the kind; heights are the data.
    """
    tasks = list(result["summary"])
    kinds = list(next(iter(result["summary"].values())))
    fig = new_figure(1.0, 0.32)
    axes = fig.subplots(1, 3)
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
                axes[1].text(bar.get_x() + bar.get_width() / 2, bar.get_height(), "never", ha="center",
                             va="bottom", fontsize=7, rotation=90)  # fmt: skip
        best = [min(result["summary"][task][other]["final_loss_median"] for other in kinds) for task in tasks]
        axes[2].bar(offset, [row["final_loss_median"] / b for row, b in zip(rows, best)], width,
                    color=KIND_COLORS[kind], label=kind)  # fmt: skip
    titles = ("parameters", "median steps to the target", "final loss / best kind's")
    for ax, title in zip(axes, titles):
        ax.set_xticks(positions, tasks)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=8, loc="lower right")
    return fig


def plot_counting(result: Mapping[str, Any], train_max: int = 10) -> Figure:
    """How far each model counts: the largest n with every a^k b^k, k <= n, accepted, per seed.

    One row of dots per kind (their x data are the counts), and a shaded band
    over the training range 1..train_max.
    """
    summary = result["summary"]["counting"]
    kinds = list(summary)
    fig = new_figure(0.8, 0.24)
    ax = fig.subplots()
    ax.axvspan(0.5, train_max + 0.5, color=PALETTE["state"], label=f"trained on n ≤ {train_max}")
    for row, kind in enumerate(kinds):
        counts = summary[kind]["counts_to"]
        ax.plot(
            counts, [row] * len(counts), "o", color=KIND_COLORS[kind], markersize=8, alpha=0.7, label=kind
        )
    ax.set_yticks(range(len(kinds)), [KIND_LABELS[k] for k in kinds])
    ax.set_xlabel("counts correctly up to n (every a^k b^k, k ≤ n, accepted)")
    ax.set_xlim(0, max(train_max * 2, max(max(summary[k]["counts_to"]) for k in kinds) + 2))
    ax.set_ylim(-0.6, len(kinds) - 0.4)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
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
    fig = new_figure(1.0, 0.3)
    left, right = fig.subplots(1, 2)
    # x is the step t = 1..T, plot_curves' default
    plot_curves(
        left,
        {"reset after (torch)": h_after[:, 0].tolist(), "reset before (Cho et al.)": h_before[:, 0].tolist()},
        styles={"reset before (Cho et al.)": "--"},
        xlabel="step t",
        ylabel="$h_t$, first unit",
    )
    plot_curves(
        right,
        {"max gap": np.abs(h_after - h_before).max(axis=1).tolist(), "mean r_t": np.asarray(r).tolist()},
        styles={"mean r_t": ":"},
        colors={"max gap": SERIES_COLORS[2], "mean r_t": PALETTE["muted"]},
        xlabel="step t",
        ylabel="largest |difference| / gate value",
    )
    return fig


def table_rows(
    result: Mapping[str, Any], kinds: Sequence[str] = ("rnn", "lstm", "gru")
) -> list[dict[str, object]]:
    """The comparison as table rows: task, kind, H, parameters, reached, median steps, final loss, seconds."""
    rows: list[dict[str, object]] = []
    for task, by_kind in result["summary"].items():
        for kind in kinds:
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
