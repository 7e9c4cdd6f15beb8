"""Figures of chapter 6, embeddings.

==========================  ==================================================
function                    what it draws
==========================  ==================================================
``plot_sparse_gradient``    dW of an embedding: non-zero only in looked-up rows
``draw_tree``               a hierarchical-softmax tree, P(w | h) at each leaf
``plot_softmax_costs``      dot products and CPU time per word against V, log-log
``plot_word2vec_runs``      word2vec runs: training loss against CPU time, held-out loss
``plot_pmi_alignment``      skip-gram's scores u . v against the shifted PMI of each pair
``plot_projection``         word vectors projected on two principal directions
``plot_gender_lean``        cos(w, he) - cos(w, she) for occupation words
==========================  ==================================================

Diagram patches carry a ``gid`` (``"node"``, ``"leaf"``, ``"edge"``) so tests
find them by role, as in chapter 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rnncourse.figures import _draw as draw
from rnncourse.scratch.hierarchical_softmax import Tree


def plot_sparse_gradient(dW: np.ndarray, words: Sequence[str], ids: Sequence[int]) -> Figure:
    """The gradient dW (V, E) of an embedding as a heatmap; rows are labelled with how often they were looked up."""
    counts = np.bincount(np.asarray(ids).reshape(-1), minlength=len(words))
    labels = [f"{w} (x{c})" for w, c in zip(words, counts)]
    span = float(np.abs(dW).max()) or 1.0
    return draw.heatmap(
        dW,
        labels,
        [f"e{j + 1}" for j in range(dW.shape[1])],
        cmap="RdBu_r",
        vmin=-span,
        vmax=span,
        fmt=".2f",
        xlabel="embedding dimension",
        ylabel="row of W (times looked up)",
        colorbar_label="dL/dW",
        title="Only the rows of tokens in the batch get a gradient",
    )


def _leaf_order(tree: Tree) -> list[int]:
    """Leaves left to right: sort the paths' turn sequences, left (+1) before right (-1)."""
    keys = [tuple(-s for s in tree.signs[w, : tree.depths[w]]) for w in range(tree.vocabulary_size)]
    return sorted(range(tree.vocabulary_size), key=lambda w: keys[w])


def draw_tree(tree: Tree, words: Sequence[str], probabilities: np.ndarray | None = None) -> Figure:
    """A hierarchical-softmax tree: internal nodes n_j, leaves with their word (and P(w | h)).

    Args:
        tree: from ``balanced_tree`` or ``huffman_tree`` (small: up to ~16 words).
        words: the V words.
        probabilities: (V,) P(w | h) printed under each leaf, if given.

    Returns:
        A figure with one axes; nodes tagged ``"node"``, leaves ``"leaf"``, edges ``"edge"``.
    """
    V = tree.vocabulary_size
    order = _leaf_order(tree)
    x_leaf = {w: 1.2 * i for i, w in enumerate(order)}
    depth_max = int(tree.depths.max(initial=0))
    node_leaves: dict[int, list[int]] = {}
    node_depth: dict[int, int] = {}
    for w in range(V):
        for j in range(int(tree.depths[w])):
            node = int(tree.nodes[w, j])
            node_leaves.setdefault(node, []).append(w)
            node_depth[node] = j
    x_node = {n: float(np.mean([x_leaf[w] for w in leaves])) for n, leaves in node_leaves.items()}
    fig = draw.new_figure(1.0, 0.32 + 0.06 * depth_max)
    ax = fig.subplots()
    y_leaf = -depth_max - 0.2
    for w in range(V):
        parents = [int(n) for n in tree.nodes[w, : tree.depths[w]]]
        points = [(x_node[n], -node_depth[n]) for n in parents] + [(x_leaf[w], y_leaf)]
        for (x0, y0), (x1, y1), sign in zip(points, points[1:], tree.signs[w, : tree.depths[w]]):
            (line,) = ax.plot(
                [x0, x1], [y0, y1], color=draw.PALETTE["weight" if sign > 0 else "feedback"], lw=1.3
            )
            line.set_gid("edge")
    for n, x in x_node.items():
        draw.box(ax, (x, -node_depth[n]), 0.55, 0.42, f"$n_{{{n}}}$", role="cell", gid="node")
    for w in range(V):
        label = words[w] if probabilities is None else f"{words[w]}\n{probabilities[w]:.2f}"
        draw.box(ax, (x_leaf[w], y_leaf - 0.25), 1.05, 0.7, label, role="output", gid="leaf")
    ax.text(
        -0.6,
        0.45,
        "blue: left, $\\sigma(u_n \\cdot h)$;  red: right, $\\sigma(-u_n \\cdot h)$",
        fontsize=draw.MIN_FONT_PT,
    )
    draw.diagram_axes(ax, (-0.8, 1.2 * (V - 1) + 0.8), (y_leaf - 0.75, 0.7))
    return fig


def plot_softmax_costs(rows: Sequence[Mapping[str, float]]) -> Figure:
    """Left: dot products per word against V; right: CPU microseconds per word. Both log-log."""
    V = [r["V"] for r in rows]
    fig = draw.new_figure(1.0, 0.42)
    left, right = fig.subplots(1, 2)
    draw.plot_curves(
        left,
        {
            "full softmax: V": [r["full_dots"] for r in rows],
            "balanced tree: log2 V": [r["balanced_depth"] for r in rows],
            "Huffman tree (Zipf)": [r["huffman_expected_depth"] for r in rows],
            "entropy H (bits)": [r["entropy_bits"] for r in rows],
        },
        x=V,
        styles={"entropy H (bits)": ":"},
        xlabel="vocabulary size V",
        ylabel="dot products per word",
        title="Work per word",
    )
    draw.plot_curves(
        right,
        {
            "full softmax": [r["full_us"] for r in rows],
            "balanced tree": [r["balanced_us"] for r in rows],
            "Huffman tree": [r["huffman_us"] for r in rows],
        },
        x=V,
        xlabel="vocabulary size V",
        ylabel="CPU time per word (µs)",
        title="Time per word, NumPy, one thread",
    )
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
    return fig


def plot_word2vec_runs(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    heldout: Mapping[str, float],
    untrained: float,
) -> Figure:
    """Left: each run's mean training loss against CPU seconds. Right: each run's held-out loss, as bars.

    Args:
        curves: label -> (CPU seconds, mean training loss), of equal lengths.
        heldout: label -> the held-out skip-gram loss of that run.
        untrained: the loss with every score 0, (K + 1) log 2, drawn dashed in both panels.
    """
    fig = draw.new_figure(1.0, 0.4 + 0.045 * (len(curves) + 1))
    left, right = fig.subplots(1, 2, width_ratios=(1.4, 1.0))
    left.axhline(untrained, color=draw.PALETTE["muted"], ls="--", lw=1, label="untrained, (K+1) log 2")
    for i, (label, (seconds, loss)) in enumerate(curves.items()):
        left.plot(seconds, loss, color=draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)], lw=2, label=label)
    draw.finish_axes(left, xlabel="CPU seconds (one thread)", ylabel="training loss per example")
    legend = left.get_legend()
    if legend is not None:  # under both panels, where the long labels cover no curve
        legend.remove()
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", fontsize=draw.MIN_FONT_PT)
    labels = list(heldout)
    right.axvline(untrained, color=draw.PALETTE["muted"], ls="--", lw=1)
    right.barh(
        range(len(labels)),
        [heldout[k] for k in labels],
        color=[draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)] for i in range(len(labels))],
    )
    right.set_yticks(range(len(labels)), [f"({i + 1})" for i in range(len(labels))])
    right.invert_yaxis()
    right.set_xlim(min(heldout.values()) - 0.3, untrained + 0.1)
    right.set_xlabel("held-out skip-gram loss", fontsize=draw.MIN_FONT_PT)
    right.tick_params(labelsize=draw.MIN_FONT_PT)
    right.grid(alpha=0.3, axis="x")
    return fig


def plot_pmi_alignment(shifted_pmi: np.ndarray, scores: np.ndarray) -> Figure:
    """Each pair as a point: PMI - log K (x) against the learned score u . v (y), with y = x and the fitted line."""
    fig = draw.new_figure(0.7, 0.5)
    ax = fig.subplots()
    ax.scatter(
        shifted_pmi, scores, s=5, alpha=0.35, color=draw.SERIES_COLORS[0], gid="pair", label="a pair of words"
    )
    span = np.array([min(shifted_pmi.min(), scores.min()), max(shifted_pmi.max(), scores.max())])
    ax.plot(span, span, color=draw.PALETTE["edge"], lw=1, ls="--", label="u . v = PMI - log K (the optimum)")
    slope, intercept = np.polyfit(shifted_pmi, scores, 1)
    ax.plot(
        span,
        slope * span + intercept,
        color=draw.SERIES_COLORS[1],
        lw=2,
        label=f"least squares, slope {slope:.2f}",
    )
    draw.finish_axes(
        ax, xlabel="PMI(w, c) - log K", ylabel="learned score u_c . v_w", legend_loc="upper left"
    )
    return fig


def plot_projection(
    points: np.ndarray, words: Sequence[str], pairs: Sequence[tuple[str, str]] = ()
) -> Figure:
    """Words at their 2-D coordinates (P, 2), with an arrow from the first to the second word of each pair."""
    fig = draw.new_figure(0.7, 0.5)
    ax = fig.subplots()
    ax.scatter(points[:, 0], points[:, 1], color=draw.SERIES_COLORS[0], s=18, gid="word")
    index = {w: i for i, w in enumerate(words)}
    for w, (x, y) in zip(words, points):
        ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=draw.MIN_FONT_PT)
    for first, second in pairs:
        (x0, y0), (x1, y1) = points[index[first]], points[index[second]]
        ax.annotate(
            "",
            (x1, y1),
            (x0, y0),
            arrowprops={"arrowstyle": "-|>", "color": draw.SERIES_COLORS[1], "lw": 1.2},
        )
    ax.set_xlabel("first principal direction", fontsize=draw.MIN_FONT_PT)
    ax.set_ylabel("second principal direction", fontsize=draw.MIN_FONT_PT)
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.grid(alpha=0.3)
    return fig


def plot_gender_lean(lean: Mapping[str, float]) -> Figure:
    """One horizontal bar per word, cos(w, he) - cos(w, she), sorted; right leans to "he"."""
    items = sorted(lean.items(), key=lambda item: item[1])
    fig = draw.new_figure(0.7, 0.05 * len(items) + 0.12)
    ax = fig.subplots()
    values = [v for _, v in items]
    colors = [draw.SERIES_COLORS[0] if v > 0 else draw.SERIES_COLORS[1] for v in values]
    ax.barh([w for w, _ in items], values, color=colors)
    ax.axvline(0, color=draw.PALETTE["edge"], lw=1)
    ax.set_xlabel('cos(w, "he") - cos(w, "she")', fontsize=draw.MIN_FONT_PT)
    ax.xaxis.set_major_locator(MaxNLocator(6))  # labels at 12 pt need room
    ax.tick_params(labelsize=draw.MIN_FONT_PT)
    ax.grid(alpha=0.3, axis="x")
    return fig
