"""Chapter 4's figures: the LSTM cell, gradients through time, the forget bias, padding, text.

Each function takes the data it draws (computed by ``rnncourse.experiments.ch04_lstm``
or loaded from ``rnncourse.results``) and returns a ``Figure``; lines carry
labels and patches ``gid``s, so tests can read back what was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator

from rnncourse.figures import _draw as draw

# -- the cell ------------------------------------------------------------------------------


def draw_lstm_cell() -> Figure:
    """One LSTM step: the cell path along the top, the gates and the candidate below it.

    Returns:
        A figure with one axes: four gate boxes (``gid`` "gate", labelled σ or tanh
        with their letter), three product nodes (``gid`` "product"), one sum node
        (``gid`` "sum"), the states c_{t-1}, h_{t-1}, c_t, h_t (``gid`` "state") and the
        input x_t (``gid`` "input"); the cell path is one thick arrow chain ``gid`` "cell path".
    """
    fig = draw.new_figure(1.0, 0.62)
    ax = fig.subplots()
    y_cell, y_gate, y_in = 2.6, 0.0, -1.6
    x_f, x_i, x_g, x_o = 1.5, 3.1, 4.5, 6.3
    node = 0.42

    draw.box(ax, (-0.4, y_cell), 1.0, 0.6, "$c_{t-1}$", role="state", gid="state")
    draw.box(ax, (-0.4, y_in + 0.6), 1.0, 0.6, "$h_{t-1}$", role="state", gid="state")
    draw.box(ax, (9.0, y_cell), 0.9, 0.6, "$c_t$", role="state", gid="state")
    draw.box(ax, (9.0, y_gate - 0.2), 0.9, 0.6, "$h_t$", role="output", gid="state")
    draw.box(ax, (1.2, y_in - 0.5), 0.8, 0.55, "$x_t$", role="input", gid="input")
    # The cell path: c_{t-1} -> (x f) -> (+ i g) -> c_t, nothing but an elementwise product and a sum.
    draw.box(ax, (x_f, y_cell), node, node, r"$\times$", role="cell", gid="product", fontsize=13)
    draw.box(ax, (x_g, y_cell), node, node, "$+$", role="cell", gid="sum", fontsize=13)
    for start, end in (
        ((0.1, y_cell), (x_f - node / 2, y_cell)),
        ((x_f + node / 2, y_cell), (x_g - node / 2, y_cell)),
    ):
        draw.arrow(ax, start, end, color=draw.PALETTE["feedback"], gid="cell path")
    draw.arrow(ax, (x_g + node / 2, y_cell), (8.55, y_cell), color=draw.PALETTE["feedback"], gid="cell path")
    ax.text(
        4.4,
        y_cell + 0.55,
        r"cell path: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$",
        ha="center",
        fontsize=draw.MIN_FONT_PT,
        color=draw.PALETTE["feedback"],
    )

    gates = {
        "f": (x_f, r"$\sigma$: $f_t$"),
        "i": (x_i, r"$\sigma$: $i_t$"),
        "g": (x_g, r"tanh: $g_t$"),
        "o": (x_o, r"$\sigma$: $o_t$"),
    }
    for x, label in gates.values():
        draw.box(ax, (x, y_gate), 1.15, 0.6, label, role="cell", gid="gate")
        # every gate reads [h_{t-1}, x_t] through its own block of W_xh, W_hh and b
        draw.path_arrow(
            ax, [(0.1, y_in + 0.6), (x, y_in + 0.6), (x, y_gate - 0.3)], color=draw.PALETTE["weight"]
        )
    draw.arrow(ax, (1.2, y_in - 0.22), (1.2, y_in + 0.6), color=draw.PALETTE["weight"])
    draw.arrow(ax, (x_f, y_gate + 0.3), (x_f, y_cell - node / 2))
    draw.box(ax, (3.8, 1.4), node, node, r"$\times$", role="cell", gid="product", fontsize=13)
    draw.arrow(ax, (x_i, y_gate + 0.3), (3.65, 1.4 - node / 2))
    draw.arrow(ax, (x_g, y_gate + 0.3), (3.95, 1.4 - node / 2))
    draw.arrow(ax, (3.8, 1.4 + node / 2), (x_g - 0.1, y_cell - node / 2))
    # Output: h_t = o_t * tanh(c_t).
    draw.box(ax, (7.6, 1.4), 0.8, 0.5, "tanh", role="cell", gid="squash")
    draw.box(ax, (7.6, y_gate - 0.2), node, node, r"$\times$", role="cell", gid="product", fontsize=13)
    draw.arrow(ax, (7.6, y_cell), (7.6, 1.65))
    draw.arrow(ax, (7.6, 1.15), (7.6, y_gate - 0.2 + node / 2))
    draw.arrow(ax, (x_o + 0.575, y_gate - 0.2), (7.6 - node / 2, y_gate - 0.2))
    draw.arrow(ax, (7.6 + node / 2, y_gate - 0.2), (8.55, y_gate - 0.2))
    ax.text(7.35, 0.55, r"$h_t = o_t \odot \tanh(c_t)$", fontsize=draw.MIN_FONT_PT, ha="right")
    ax.text(
        3.5,
        y_in + 0.35,
        r"$[h_{t-1}; x_t]$ through $W_{xh}, W_{hh}, b$ (rows i, f, g, o)",
        fontsize=draw.MIN_FONT_PT,
        color=draw.PALETTE["weight"],
    )
    draw.diagram_axes(ax, (-1.0, 9.6), (-2.5, 3.4))
    return fig


# -- gradients through time -------------------------------------------------------------------


def plot_gradient_through_time(
    curves: Mapping[str, np.ndarray], dashed: Sequence[str] = (), floor: float = 1e-30
) -> Figure:
    """Gradient norms against how many steps back they reach, on a log scale.

    Args:
        curves: label -> (T,) norms, index t the state after step t + 1 (the loss sits on
            the last state, so index T - 1 is 0 steps back).
        dashed: labels drawn dashed (e.g. the cell path alone).
        floor: values below it are drawn at it (a norm of exactly 0 has no logarithm).

    Returns:
        A figure with one axes, one line per curve; x is steps back (0..T-1). The legend
        sits below the axes, two columns, so that it hides no line.
    """
    fig = draw.new_figure(1.0, 0.66)
    ax = fig.subplots()
    for k, (label, norms) in enumerate(curves.items()):
        values = np.maximum(np.asarray(norms, dtype=float)[::-1], floor)
        style = "--" if label in dashed else "-"
        ax.semilogy(
            np.arange(len(values)),
            values,
            style,
            color=draw.SERIES_COLORS[k % len(draw.SERIES_COLORS)],
            linewidth=2,
            label=label,
        )
    ax.set_xlabel("steps back from the loss, T - t", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel("mean gradient norm", fontsize=draw.MIN_FONT_PT)
    ax.set_ylim(bottom=floor)
    # a tick every 10 decades: the slopes are the message, not the values
    ax.yaxis.set_major_locator(LogLocator(base=1e10))
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.grid(alpha=0.3, which="major")
    fig.legend(loc="outside lower center", ncols=2, fontsize=draw.MIN_FONT_PT, frameon=False)
    return fig


# -- the forget-gate bias ---------------------------------------------------------------------


def plot_forget_bias(runs: Mapping[str, Sequence[Mapping[str, Sequence[float]]]], baseline: float) -> Figure:
    """Test MSE on the adding problem against training steps: every seed, one colour per bias.

    Args:
        runs: label -> one dict per seed with ``steps`` and ``test_mse`` (as stored by
            ``run_forget_bias``).
        baseline: the MSE of the best constant prediction, drawn as a dotted line.

    Returns:
        A figure with one axes per label (shared y, log scale); each has one line per seed
        (``gid`` "seed") and the baseline (label "predict 1 (MSE 1/6)").
    """
    fig = draw.new_figure(1.0, 0.45)
    axes = fig.subplots(1, len(runs), sharey=True, squeeze=False)[0]
    for k, (ax, (label, seeds)) in enumerate(zip(axes, runs.items())):
        for run in seeds:
            (line,) = ax.semilogy(
                run["steps"], run["test_mse"], color=draw.SERIES_COLORS[k], alpha=0.7, linewidth=1.4
            )
            line.set_gid("seed")
        ax.axhline(
            baseline, color=draw.PALETTE["muted"], linestyle=":", linewidth=1.5, label="predict 1 (MSE 1/6)"
        )
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.set_title(label, fontsize=draw.TITLE_FONT_PT)
        ax.set_xlabel("training step", fontsize=draw.MIN_FONT_PT)
        ax.tick_params(labelsize=draw.MIN_FONT_PT)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=draw.MIN_FONT_PT, loc="upper right")
    axes[0].set_ylabel("test MSE", fontsize=draw.MIN_FONT_PT)
    return fig


def plot_forget_gates(runs: Sequence[Mapping[str, Sequence]], baseline: float) -> Figure:
    """Every unit's mean forget gate during training, above the test MSE, one column per seed.

    Args:
        runs: one dict per seed with ``steps`` (E,), ``test_mse`` (E,) and ``unit_forget``
            (E lists of H means of f_t), as ``forget_gate_trace`` stores them.
        baseline: the MSE of the best constant prediction, drawn as a dotted line.

    Returns:
        Two rows of axes: on top one line per unit (``gid`` "unit", the first labelled
        "one unit") and the median over units (label "median unit"); below the test MSE
        (label "test MSE", log scale) and the baseline. One legend below the panels.
    """
    fig = draw.new_figure(1.0, 0.72)
    axes = fig.subplots(2, len(runs), sharex=True, sharey="row", squeeze=False, height_ratios=(2, 1))
    for k, run in enumerate(runs):
        top, bottom = axes[0, k], axes[1, k]
        steps, forget = np.asarray(run["steps"]), np.asarray(run["unit_forget"])  # (E,), (E, H)
        for u, unit in enumerate(forget.T):
            (line,) = top.plot(
                steps,
                unit,
                color=draw.SERIES_COLORS[0],
                alpha=0.3,
                linewidth=0.8,
                label="one unit" if u == 0 else None,
            )
            line.set_gid("unit")
        top.plot(
            steps, np.median(forget, axis=1), color=draw.SERIES_COLORS[1], linewidth=2.2, label="median unit"
        )
        top.set_ylim(0, 1)
        top.yaxis.set_major_locator(MaxNLocator(2))
        top.grid(alpha=0.3)
        top.set_title(f"seed {k}", fontsize=draw.TITLE_FONT_PT)
        bottom.semilogy(steps, run["test_mse"], color=draw.SERIES_COLORS[2], linewidth=1.6, label="test MSE")
        bottom.axhline(
            baseline, color=draw.PALETTE["muted"], linestyle=":", linewidth=1.5, label="predict 1 (MSE 1/6)"
        )
        bottom.yaxis.set_major_locator(LogLocator(base=10.0, numticks=3))
        bottom.xaxis.set_major_locator(MaxNLocator(4, steps=[5, 10]))
        bottom.set_xlabel("training step", fontsize=draw.MIN_FONT_PT)
        bottom.grid(alpha=0.3)
        for ax in (top, bottom):
            ax.tick_params(labelsize=draw.MIN_FONT_PT)
    axes[0, 0].set_ylabel("mean $f_t$ per unit", fontsize=draw.MIN_FONT_PT)
    axes[1, 0].set_ylabel("test MSE", fontsize=draw.MIN_FONT_PT)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    more_handles, more_labels = axes[1, 0].get_legend_handles_labels()
    fig.legend(
        handles + more_handles,
        labels + more_labels,
        loc="outside lower center",
        ncols=2,
        fontsize=draw.MIN_FONT_PT,
        frameon=False,
    )
    return fig


# -- learning real text ----------------------------------------------------------------------


def plot_text_learning(
    curves: Mapping[str, Mapping[str, Sequence[float]]], baselines: Mapping[str, float]
) -> Figure:
    """Held-out nats per character against training steps, each model beside count baselines.

    Args:
        curves: label -> ``steps`` (E,) and ``held_out_nats`` (E,), as ``train_text`` stores them.
        baselines: label -> nats per character of a model that does not train (a flat line).

    Returns:
        A figure with one axes: one solid line per curve (labelled), one dashed
        horizontal line per baseline (labelled, ``gid`` "baseline").
    """
    if not curves:
        raise ValueError("plot_text_learning needs at least one curve")
    fig = draw.new_figure(0.8, 0.42)
    ax = fig.subplots()
    for k, (label, value) in enumerate(baselines.items()):
        line = ax.axhline(
            value, color=draw.SERIES_COLORS[len(curves) + k], linestyle="--", linewidth=1.5, label=label
        )
        line.set_gid("baseline")
    for k, (label, curve) in enumerate(curves.items()):
        ax.plot(curve["steps"], curve["held_out_nats"], color=draw.SERIES_COLORS[k], linewidth=2, label=label)
    draw.finish_axes(
        ax, xlabel="training step", ylabel="nats per character\n(held-out play)", legend_loc="upper right"
    )
    return fig


# -- bidirectional padding ----------------------------------------------------------------------


def plot_bidirectional_padding(alone: np.ndarray, per_length: np.ndarray, whole_array: np.ndarray) -> Figure:
    """How far the reverse direction's states are from the unpadded run, at every real step.

    Args:
        alone: (L, H) reverse states of the real sequence run alone.
        per_length: (T, H) on the padded batch, reversed within each length (right).
        whole_array: (T, H) with the whole padded array reversed (wrong).

    Returns:
        A figure with one axes and two bar series (``gid`` "per length" and "whole array"),
        the largest |difference| from ``alone`` at each real step 1..L.
    """
    L = alone.shape[0]
    steps = np.arange(1, L + 1)
    errors = {
        "whole array": np.abs(whole_array[:L] - alone).max(axis=1),
        "per length": np.abs(per_length[:L] - alone).max(axis=1),
    }
    fig = draw.new_figure(0.8, 0.45)
    ax = fig.subplots()
    for k, (label, values) in enumerate(errors.items()):
        bars = ax.bar(
            steps + (k - 0.5) * 0.35,
            values,
            width=0.35,
            color=draw.SERIES_COLORS[k + 1],
            label=f"reversed {label}",
        )
        for bar in bars:
            bar.set_gid(label)
    ax.set_xticks(steps)
    ax.yaxis.set_major_locator(MaxNLocator(3, steps=[1, 2, 5, 10]))
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.set_xlabel("real step t of the padded sequence", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel(r"max $|h^{\leftarrow}_t - h^{\leftarrow}_t\,$(alone)$|$", fontsize=draw.MIN_FONT_PT)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=draw.MIN_FONT_PT, loc="upper left")
    return fig
