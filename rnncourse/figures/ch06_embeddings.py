"""Figures of chapter 6, embeddings.

==========================  ==================================================
function                    what it draws
==========================  ==================================================
``plot_sparse_gradient``    dW of an embedding: non-zero only in looked-up rows
``draw_tree``               a hierarchical-softmax tree, P(w | h) at each leaf
``plot_softmax_costs``      dot products and CPU time per word against V, log-log
``plot_word2vec_losses``    skip-gram and CBOW training loss against pairs seen
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

from rnncourse.figures._draw import (
    PALETTE,
    SERIES_COLORS,
    box,
    diagram_axes,
    finish_axes,
    heatmap,
    new_figure,
    plot_curves,
)
from rnncourse.scratch.hierarchical_softmax import Tree


def plot_sparse_gradient(dW: np.ndarray, words: Sequence[str], ids: Sequence[int]) -> Figure:
    """The gradient dW (V, E) of an embedding as a heatmap; rows are labelled with how often they were looked up."""
    counts = np.bincount(np.asarray(ids).reshape(-1), minlength=len(words))
    labels = [f"{w} (x{c})" for w, c in zip(words, counts)]
    span = float(np.abs(dW).max()) or 1.0
    return heatmap(
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
    fig = new_figure(1.0, 0.32 + 0.06 * depth_max)
    ax = fig.subplots()
    y_leaf = -depth_max - 0.2
    for w in range(V):
        parents = [int(n) for n in tree.nodes[w, : tree.depths[w]]]
        points = [(x_node[n], -node_depth[n]) for n in parents] + [(x_leaf[w], y_leaf)]
        for (x0, y0), (x1, y1), sign in zip(points, points[1:], tree.signs[w, : tree.depths[w]]):
            (line,) = ax.plot([x0, x1], [y0, y1], color=PALETTE["weight" if sign > 0 else "feedback"], lw=1.3)
            line.set_gid("edge")
    for n, x in x_node.items():
        box(ax, (x, -node_depth[n]), 0.55, 0.42, f"$n_{{{n}}}$", role="cell", gid="node", fontsize=10)
    for w in range(V):
        label = words[w] if probabilities is None else f"{words[w]}\n{probabilities[w]:.2f}"
        box(ax, (x_leaf[w], y_leaf - 0.25), 1.05, 0.7, label, role="output", gid="leaf", fontsize=9)
    ax.text(
        -0.6, 0.45, "blue: left, $\\sigma(u_n \\cdot h)$;  red: right, $\\sigma(-u_n \\cdot h)$", fontsize=9
    )
    diagram_axes(ax, (-0.8, 1.2 * (V - 1) + 0.8), (y_leaf - 0.75, 0.7))
    return fig


def plot_softmax_costs(rows: Sequence[Mapping[str, float]]) -> Figure:
    """Left: dot products per word against V; right: CPU microseconds per word. Both log-log."""
    V = [r["V"] for r in rows]
    fig = new_figure(1.0, 0.42)
    left, right = fig.subplots(1, 2)
    plot_curves(
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
    plot_curves(
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


def plot_word2vec_losses(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], untrained: float
) -> Figure:
    """Mean negative-sampling loss per example against examples seen, one line per model.

    Args:
        curves: label -> (examples seen, mean loss) of equal lengths.
        untrained: the loss with every score 0, (K + 1) log 2, drawn as a dashed line.
    """
    fig = new_figure(0.8, 0.38)
    ax = fig.subplots()
    for i, (label, (seen, loss)) in enumerate(curves.items()):
        ax.plot(np.asarray(seen) / 1e6, loss, color=SERIES_COLORS[i], lw=2, label=label)
    ax.axhline(untrained, color=PALETTE["muted"], ls="--", lw=1, label="untrained, (K+1) log 2")
    finish_axes(ax, xlabel="training examples seen (millions)", ylabel="mean loss per example")
    return fig


def plot_projection(
    points: np.ndarray, words: Sequence[str], pairs: Sequence[tuple[str, str]] = ()
) -> Figure:
    """Words at their 2-D coordinates (P, 2), with an arrow from the first to the second word of each pair."""
    fig = new_figure(0.7, 0.5)
    ax = fig.subplots()
    ax.scatter(points[:, 0], points[:, 1], color=SERIES_COLORS[0], s=18, gid="word")
    index = {w: i for i, w in enumerate(words)}
    for w, (x, y) in zip(words, points):
        ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=10)
    for first, second in pairs:
        (x0, y0), (x1, y1) = points[index[first]], points[index[second]]
        ax.annotate(
            "", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "-|>", "color": SERIES_COLORS[1], "lw": 1.2}
        )
    ax.set_xlabel("first principal direction")
    ax.set_ylabel("second principal direction")
    ax.grid(alpha=0.3)
    return fig


def plot_gender_lean(lean: Mapping[str, float]) -> Figure:
    """One horizontal bar per word, cos(w, he) - cos(w, she), sorted; right leans to "he"."""
    items = sorted(lean.items(), key=lambda item: item[1])
    fig = new_figure(0.7, 0.05 * len(items) + 0.12)
    ax = fig.subplots()
    values = [v for _, v in items]
    colors = [SERIES_COLORS[0] if v > 0 else SERIES_COLORS[1] for v in values]
    ax.barh([w for w, _ in items], values, color=colors)
    ax.axvline(0, color=PALETTE["edge"], lw=1)
    ax.set_xlabel('cos(w, "he") - cos(w, "she")')
    ax.grid(alpha=0.3, axis="x")
    return fig
