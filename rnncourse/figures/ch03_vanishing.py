"""Figures of chapter 3, vanishing and exploding gradients.

==========================  ==================================================
function                    what it draws
==========================  ==================================================
``draw_backward_chain``     the gradient passing back through J_T^T, ..., J_1^T
``plot_gradient_decay``     ||dL/dh_{T-k}|| / ||dL/dh_T|| against k, log scale,
                            with the bound (gamma sigma_max)^k dashed
``plot_power_norms``        ||W^k|| of a non-normal matrix against rho^k and sigma_max^k
``plot_exploding``          loss and gradient norm of a run without and with clipping
``plot_input_gradients``    ||dL/dx_t|| at initialisation, per model, against t
``plot_adding_curves``      test MSE of the adding problem, one panel per length,
                            the baseline 1/6 drawn in
==========================  ==================================================

Every plotting function takes the measured numbers (it never trains or
measures anything itself), so tests can hand it known data and read it back
from the axes. Lines keep their labels; reference lines (bounds, the
baseline) carry a ``gid`` (``"bound"``, ``"baseline"``, ``"nonfinite"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator

from rnncourse.figures import _draw as draw


def draw_backward_chain(steps: int = 4) -> Figure:
    """States h_0..h_T in a row; the loss on h_T; one backward arrow per step, labelled J_t^T.

    Patches are tagged ``"state"`` (the states), ``"output"`` (the loss) and
    ``"arrow"`` (forward arrows) or ``"weight"`` (backward arrows).
    """
    fig = draw.new_figure(1.0, 0.3)
    ax = fig.add_subplot()
    spacing = 2.2
    draw.diagram_axes(ax, (-0.8, spacing * steps + 2.6), (-2.0, 0.9))
    for t in range(steps + 1):
        label = f"$h_{{{t}}}$" if t < steps else "$h_T$"
        draw.box(ax, (spacing * t, 0.0), 1.1, 0.7, label, role="cell" if t else "state", gid="state")
        if t:
            draw.arrow(ax, (spacing * (t - 1) + 0.6, 0.12), (spacing * t - 0.6, 0.12), gid="arrow")
            draw.arrow(
                ax,
                (spacing * t - 0.6, -0.25),
                (spacing * (t - 1) + 0.6, -0.25),
                label=f"$J_{{{t}}}^\\top$" if t < steps else "$J_T^\\top$",
                label_at=(spacing * (t - 0.5), -0.6),
                color=draw.PALETTE["feedback"],
                gid="weight",
            )
    draw.box(ax, (spacing * steps + 1.9, 0.0), 0.9, 0.7, "$L$", role="output", gid="output")
    draw.arrow(ax, (spacing * steps + 0.6, 0.0), (spacing * steps + 1.45, 0.0), gid="arrow")
    ax.text(
        spacing * steps / 2 + 0.9,
        -1.45,
        r"$\partial L/\partial h_{T-k} = (J_T\, J_{T-1} \cdots J_{T-k+1})^\top\, \partial L/\partial h_T$"
        "\n"
        r"$J_t = \mathrm{diag}(f'(a_t))\, W_{hh}$",
        ha="center",
        va="center",
        fontsize=draw.MIN_FONT_PT,
    )
    return fig


def plot_gradient_decay(
    ratios: Mapping[str, Sequence[float]],
    bounds: Mapping[str, Sequence[float]] | None = None,
    marks: Mapping[str, int] | None = None,
) -> Figure:
    """Measured ||dL/dh_{T-k}|| / ||dL/dh_T|| for k = 0..K, one line per W_hh, on a log scale.

    Args:
        ratios: label -> K + 1 ratios (distance 0 first), all of one length.
        bounds: label -> the bound (gamma sigma_max)^k for the same k, drawn dashed in the
            colour of that label's line (tagged ``"bound"``).
        marks: text -> distance k, drawn as vertical dotted lines (e.g. the umbrella sentence).
    """
    fig = draw.new_figure(1.0, 0.5)
    ax = fig.add_subplot()
    distances = np.arange(len(next(iter(ratios.values()))))
    draw.plot_curves(
        ax, ratios, x=distances.tolist(), xlabel="distance k = T - t (steps back from the loss)", ylabel=""
    )
    colors = {label: draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)] for i, label in enumerate(ratios)}
    for label, values in (bounds or {}).items():
        (line,) = ax.plot(
            distances, values, "--", color=colors.get(label, draw.PALETTE["muted"]), linewidth=1
        )
        line.set_gid("bound")
    for row, (text, k) in enumerate((marks or {}).items()):
        # one label per row, from the top down, starting at its mark and reading right
        ax.axvline(k, color=draw.PALETTE["muted"], linestyle=":", linewidth=1)
        ax.text(
            k,
            10.0 ** (4.5 - 1.7 * row),
            " " + text,
            va="center",
            fontsize=draw.MIN_FONT_PT,
            color=draw.PALETTE["muted"],
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
        )
    ax.set_yscale("log")
    ax.set_ylabel(
        r"$\|\partial L/\partial h_{T-k}\| \,/\, \|\partial L/\partial h_T\|$", fontsize=draw.MIN_FONT_PT
    )
    ax.set_ylim(1e-12, 1e6)
    ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=7))
    return fig


def plot_power_norms(norms: Sequence[float], sigma_max: float, spectral_radius: float) -> Figure:
    """||W^k||_2 of one matrix for k = 0..K, against sigma_max^k and rho^k, on a log scale."""
    fig = draw.new_figure(0.8, 0.45)
    ax = fig.add_subplot()
    k = np.arange(len(norms))
    draw.plot_curves(
        ax,
        {
            r"$\|W^k\|_2$, measured": list(norms),
            rf"$\rho^k$, $\rho = {spectral_radius:.2g}$": list(spectral_radius**k),
            rf"$\sigma_{{\max}}^k$, $\sigma_{{\max}} = {sigma_max:.3g}$": list(sigma_max ** k.astype(float)),
        },
        x=k.tolist(),
        styles={
            rf"$\rho^k$, $\rho = {spectral_radius:.2g}$": "--",
            rf"$\sigma_{{\max}}^k$, $\sigma_{{\max}} = {sigma_max:.3g}$": ":",
        },
        xlabel="power k",
    )
    ax.set_yscale("log")
    ax.set_ylim(max(1e-6, float(np.min(norms)) / 10), float(np.max(norms)) * 100)
    return fig


def plot_exploding(
    runs: Mapping[str, Mapping[str, Sequence[float]]],
    nonfinite: Mapping[str, int | None],
    baseline: float | None = None,
) -> Figure:
    """Two panels, the training loss and the gradient norm per step, one line per run (log scale).

    Args:
        runs: label -> {"loss": [...], "grad_norm": [...]}, one entry per step (runs may differ in length).
        nonfinite: label -> the step whose loss or gradient norm was inf/NaN, or None; marked
            with a cross (tagged ``"nonfinite"``) at the top of both panels.
        baseline: the loss of a model that learned nothing, dotted on the loss panel (``gid``
            ``"baseline"``), or None.
    """
    fig = draw.new_figure(1.0, 0.62)
    axes = fig.subplots(1, 2)
    for ax, key, ylabel in zip(
        axes, ("loss", "grad_norm"), ("training loss (MSE)", "gradient norm\nbefore clipping")
    ):
        for i, (label, run) in enumerate(runs.items()):
            values = np.asarray(run[key], dtype=float)
            finite = np.where(np.isfinite(values), values, np.nan)
            ax.plot(np.arange(len(values)), finite, color=draw.SERIES_COLORS[i], linewidth=1.5, label=label)
            step = nonfinite.get(label)
            if step is not None:
                top = np.nanmax(finite) if np.any(np.isfinite(finite)) else 1.0
                (cross,) = ax.plot([step], [top], "x", color=draw.SERIES_COLORS[i], markersize=12, mew=3)
                cross.set_gid("nonfinite")
                ax.annotate(
                    "inf / NaN",
                    (step, top),
                    textcoords="offset points",
                    xytext=(8, -4),
                    fontsize=draw.MIN_FONT_PT,
                )
        if key == "loss" and baseline is not None:
            (line,) = ax.plot(
                ax.get_xlim(), [baseline, baseline], ":", color=draw.PALETTE["muted"], label="predicts 1: 1/6"
            )
            line.set_gid("baseline")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=6))
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.set_xlabel("training step", fontsize=draw.MIN_FONT_PT)
        ax.set_ylabel(ylabel, fontsize=draw.MIN_FONT_PT)
        ax.tick_params(labelsize=draw.MIN_FONT_PT)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=draw.MIN_FONT_PT, frameon=False)
    return fig


def plot_input_gradients(norms: Mapping[str, Sequence[float]]) -> Figure:
    """||dL/dx_t|| for t = 1..T (one line per model, log scale): how much each input can be learned from."""
    fig = draw.new_figure(1.0, 0.45)
    ax = fig.add_subplot()
    length = len(next(iter(norms.values())))
    draw.plot_curves(ax, norms, x=list(range(1, length + 1)), xlabel="input step t (the loss is at step T)")
    ax.set_yscale("log")
    ax.set_ylabel(r"$\|\partial L/\partial x_t\|$ at initialisation")
    return fig


def plot_adding_curves(
    curves: Mapping[int, Mapping[str, tuple[Sequence[int], Sequence[float]]]], baseline: float
) -> Figure:
    """Test MSE against training steps, one panel per sequence length (two a row), the baseline dashed.

    Args:
        curves: T -> {label: (steps, test MSE)}: one line per label; the curves of a panel may
            have different lengths (a run stops early once solved).
        baseline: the MSE of always predicting 1 (1/6), a horizontal line tagged ``"baseline"``.
    """
    lengths = sorted(curves)
    columns = min(2, len(lengths))
    rows = -(-len(lengths) // columns)
    fig = draw.new_figure(1.0, 0.18 + 0.32 * rows)
    grid = np.atleast_1d(fig.subplots(rows, columns, sharey=True, sharex=False, squeeze=False)).ravel()
    for spare in grid[len(lengths) :]:
        spare.remove()
    axes = grid[: len(lengths)]
    labels = sorted({label for panel in curves.values() for label in panel})
    colors = {label: draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)] for i, label in enumerate(labels)}
    for ax, T in zip(axes, lengths):
        for label, (steps, mse) in curves[T].items():
            ax.plot(steps, mse, color=colors[label], linewidth=1.5, label=label)
        line = ax.axhline(
            baseline, color=draw.PALETTE["muted"], linestyle="--", linewidth=1, label="predict 1: 1/6"
        )
        line.set_gid("baseline")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_title(f"T = {T}", fontsize=draw.TITLE_FONT_PT)
        ax.set_xlabel("training step", fontsize=draw.MIN_FONT_PT)
        ax.tick_params(labelsize=draw.MIN_FONT_PT)
        ax.grid(alpha=0.3)
    for ax in axes[::columns]:
        ax.set_ylabel("test MSE", fontsize=draw.MIN_FONT_PT)
    handles, names = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:  # a model missing from the first panel still gets its entry
        for handle, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles, names = [*handles, handle], [*names, name]
    fig.legend(
        handles, names, loc="outside lower center", ncols=len(names), fontsize=draw.MIN_FONT_PT, frameon=False
    )
    return fig
