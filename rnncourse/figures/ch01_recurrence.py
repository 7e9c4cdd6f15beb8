"""Figures of chapter 1, recurrence.

========================  ==================================================
function                  what it draws
========================  ==================================================
``draw_unrolled``         the folded loop next to the unrolled network
``draw_step_shapes``      the array shapes inside one step, (N, D) -> (N, H)
``draw_padding_vs_steps`` a padded (N, max_len) batch vs one token at a time
``draw_io_patterns``      one-to-many, many-to-one, encoder-decoder, synced
``plot_activations``      tanh and ReLU with their derivatives
``plot_hidden_states``    heatmap of hidden states, steps x units
``plot_step_outputs``     heatmap of class probabilities, steps x classes
========================  ==================================================

The diagrams tag their patches with a ``gid`` (``"cell"``, ``"input"``,
``"output"``, ``"array"``, ``"token"``, ``"pad"``, ``"arrow"``), so that tests
and readers can find the parts of a drawing without relying on draw order.
Figures are built with :class:`matplotlib.figure.Figure` directly, not with
pyplot: no global state, no backend assumptions, nothing to close.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from rnncourse.data.text import Vocabulary, pad_batch, tokenize

CELL_COLOR = "#cfe0f3"
INPUT_COLOR = "#e2f0d0"
OUTPUT_COLOR = "#fbe0c4"
STATE_COLOR = "#ececec"
PAD_COLOR = "#f4f4f4"
ENCODER_COLOR = "#cfe0f3"
DECODER_COLOR = "#e6d6f2"
EDGE_COLOR = "#333333"
WEIGHT_COLOR = "#1f4e8c"


# -- drawing helpers -----------------------------------------------------------------


def _box(
    ax: Axes,
    center: tuple[float, float],
    width: float,
    height: float,
    text: str = "",
    *,
    color: str,
    gid: str,
    fontsize: float = 12,
    linestyle: str = "-",
) -> FancyBboxPatch:
    """A rounded box centred on ``center`` with ``text`` in the middle."""
    x, y = center
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0,rounding_size=0.08",
        facecolor=color,
        edgecolor=EDGE_COLOR,
        linewidth=1.2,
        linestyle=linestyle,
    )
    patch.set_gid(gid)
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return patch


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    label: str = "",
    label_at: tuple[float, float] | None = None,
    color: str = EDGE_COLOR,
    linestyle: str = "-",
    connectionstyle: str = "arc3",
    fontsize: float = 11,
    ha: str = "center",
) -> FancyArrowPatch:
    """An arrow from ``start`` to ``end``; ``label`` sits at ``label_at`` (default: midpoint)."""
    arrow = FancyArrowPatch(
        start,
        end,
        arrowstyle="-|>",
        mutation_scale=13,
        connectionstyle=connectionstyle,
        color=color,
        linewidth=1.4,
        linestyle=linestyle,
        shrinkA=0,
        shrinkB=0,
    )
    arrow.set_gid("arrow")
    ax.add_patch(arrow)
    if label:
        if label_at is None:
            label_at = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.text(*label_at, label, ha=ha, va="center", fontsize=fontsize, color=color)
    return arrow


def _path_arrow(
    ax: Axes,
    vertices: Sequence[tuple[float, float]],
    codes: Sequence[int],
    *,
    color: str,
    linestyle: str = "-",
) -> FancyArrowPatch:
    """An arrow along an arbitrary path (used for loops and detours)."""
    arrow = FancyArrowPatch(
        path=Path(vertices, codes),
        arrowstyle="-|>",
        mutation_scale=13,
        color=color,
        linewidth=1.4,
        linestyle=linestyle,
    )
    arrow.set_gid("arrow")
    ax.add_patch(arrow)
    return arrow


def _diagram_axes(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


# -- the loop and its unrolled picture -----------------------------------------------


def draw_unrolled(steps: int = 4) -> Figure:
    """The recurrent cell drawn twice: folded (a loop) and unrolled over ``steps`` steps.

    The unrolled panel has one cell per step, all labelled with the same
    weights ``W_xh``, ``W_hh`` and ``W_hy``: unrolling copies the drawing,
    not the parameters.

    Args:
        steps: how many time steps to unroll (at least 1).

    Returns:
        A figure with two axes: ``axes[0]`` the folded loop (one cell),
        ``axes[1]`` the unrolled network (``steps`` cells and a box for h_0).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    spacing = 2.0
    fig = Figure(figsize=(3.2 + 2.1 * (steps + 1), 4.6), layout="constrained")
    ax_fold, ax_unroll = fig.subplots(1, 2, width_ratios=[3.2, spacing * (steps + 1) + 0.6])
    w, h = 1.1, 0.8  # cell size
    io_w, io_h = 0.8, 0.55  # input/output box size
    y_in, y_out = -1.7, 1.7

    # Folded: one cell whose output comes back as its own input at the next step.
    _box(ax_fold, (0, 0), w, h, "$h_t$", color=CELL_COLOR, gid="cell", fontsize=14)
    _box(ax_fold, (0, y_in), io_w, io_h, "$x_t$", color=INPUT_COLOR, gid="input", fontsize=13)
    _box(ax_fold, (0, y_out), io_w, io_h, "$y_t$", color=OUTPUT_COLOR, gid="output", fontsize=13)
    _arrow(
        ax_fold,
        (0, y_in + io_h / 2),
        (0, -h / 2),
        label="$W_{xh}$",
        label_at=(0.12, -1.05),
        ha="left",
        color=WEIGHT_COLOR,
    )
    _arrow(
        ax_fold,
        (0, h / 2),
        (0, y_out - io_h / 2),
        label="$W_{hy}$",
        label_at=(0.12, 1.05),
        ha="left",
        color=WEIGHT_COLOR,
    )
    right = w / 2
    _path_arrow(
        ax_fold,
        [(right, 0.2), (right + 1.3, 0.9), (right + 1.3, -0.9), (right, -0.2)],
        [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4],
        color=WEIGHT_COLOR,
    )
    ax_fold.text(right + 1.05, 0, "$W_{hh}$", ha="left", va="center", fontsize=11, color=WEIGHT_COLOR)
    ax_fold.text(right + 0.55, -0.62, "$h_{t-1}$", ha="center", va="top", fontsize=10)
    ax_fold.set_title("folded: one cell and a loop", fontsize=12)
    _diagram_axes(ax_fold, (-0.9, 2.3), (-2.2, 2.2))

    # Unrolled: h_0, then one copy of the cell per step.
    _box(ax_unroll, (0, 0), w, h, "$h_0$", color=STATE_COLOR, gid="state", fontsize=14)
    ax_unroll.text(0, -h / 2 - 0.15, "(zeros)", ha="center", va="top", fontsize=10)
    for t in range(1, steps + 1):
        x = spacing * t
        _box(ax_unroll, (x, 0), w, h, f"$h_{{{t}}}$", color=CELL_COLOR, gid="cell", fontsize=14)
        _box(ax_unroll, (x, y_in), io_w, io_h, f"$x_{{{t}}}$", color=INPUT_COLOR, gid="input", fontsize=13)
        _box(ax_unroll, (x, y_out), io_w, io_h, f"$y_{{{t}}}$", color=OUTPUT_COLOR, gid="output", fontsize=13)
        _arrow(
            ax_unroll,
            (x, y_in + io_h / 2),
            (x, -h / 2),
            label="$W_{xh}$",
            label_at=(x + 0.1, -1.05),
            ha="left",
            color=WEIGHT_COLOR,
        )
        _arrow(
            ax_unroll,
            (x, h / 2),
            (x, y_out - io_h / 2),
            label="$W_{hy}$",
            label_at=(x + 0.1, 1.05),
            ha="left",
            color=WEIGHT_COLOR,
        )
        _arrow(
            ax_unroll,
            (x - spacing + w / 2, 0),
            (x - w / 2, 0),
            label="$W_{hh}$",
            label_at=(x - spacing / 2, 0.25),
            color=WEIGHT_COLOR,
        )
    ax_unroll.text(spacing * steps + w / 2 + 0.15, 0, r"$\cdots$", ha="left", va="center", fontsize=14)
    ax_unroll.set_title(
        f"unrolled over {steps} steps: {steps} copies of the drawing, one set of weights", fontsize=12
    )
    _diagram_axes(ax_unroll, (-0.8, spacing * steps + 1.3), (-2.2, 2.2))
    fig.suptitle(
        r"$h_t = \tanh(W_{xh}\,x_t + W_{hh}\,h_{t-1} + b_h)$,    $y_t = W_{hy}\,h_t + b_y$",
        fontsize=13,
    )
    return fig


# -- shapes inside one step ----------------------------------------------------------


def draw_step_shapes(N: int = 1, D: int = 4, H: int = 8, C: int = 3) -> Figure:
    """The arrays of one step and their shapes, for a batch of ``N`` row vectors.

    ``x_t`` (N, D) times ``W_xh.T`` (D, H) and ``h_{t-1}`` (N, H) times
    ``W_hh.T`` (H, H) both give (N, H); with the bias and tanh they make
    ``h_t`` (N, H), and ``h_t @ W_hy.T + b_y`` gives the output (N, C).

    Args:
        N: batch size; D: input features; H: hidden units; C: outputs.

    Returns:
        A figure with one axes; every array is a box with ``gid="array"``
        whose text holds its symbol and its shape with the numbers filled in.
    """
    fig = Figure(figsize=(13.5, 4.8), layout="constrained")
    ax = fig.subplots()
    bw, bh = 2.2, 1.0

    def shape(symbols: str, *values: int) -> str:
        return f"({symbols}) = ({', '.join(str(v) for v in values)})"

    _box(ax, (1.2, 4.0), bw, bh, f"$x_t$\n{shape('N, D', N, D)}", color=INPUT_COLOR, gid="array", fontsize=11)
    _box(
        ax,
        (1.2, 1.4),
        bw,
        bh,
        f"$h_{{t-1}}$\n{shape('N, H', N, H)}",
        color=STATE_COLOR,
        gid="array",
        fontsize=11,
    )
    _box(
        ax,
        (5.6, 4.0),
        bw,
        bh,
        f"$x_t W_{{xh}}^T$\n{shape('N, H', N, H)}",
        color=CELL_COLOR,
        gid="array",
        fontsize=11,
    )
    _box(
        ax,
        (5.6, 1.4),
        bw,
        bh,
        f"$h_{{t-1}} W_{{hh}}^T$\n{shape('N, H', N, H)}",
        color=CELL_COLOR,
        gid="array",
        fontsize=11,
    )
    _box(
        ax,
        (8.9, 2.7),
        bw,
        bh,
        f"$h_t = \\tanh(\\cdot + \\cdot + b_h)$\n{shape('N, H', N, H)}",
        color=CELL_COLOR,
        gid="array",
        fontsize=11,
    )
    _box(
        ax, (12.6, 2.7), bw, bh, f"$y_t$\n{shape('N, C', N, C)}", color=OUTPUT_COLOR, gid="array", fontsize=11
    )
    _box(ax, (8.9, 4.6), 1.5, 0.6, f"$b_h$  ({H},)", color=STATE_COLOR, gid="parameter", fontsize=10)

    _arrow(
        ax,
        (2.3, 4.0),
        (4.5, 4.0),
        label=f"@ $W_{{xh}}^T$\n(D, H) = ({D}, {H})",
        label_at=(3.4, 4.45),
        color=WEIGHT_COLOR,
        fontsize=10,
    )
    _arrow(
        ax,
        (2.3, 1.4),
        (4.5, 1.4),
        label=f"@ $W_{{hh}}^T$\n(H, H) = ({H}, {H})",
        label_at=(3.4, 1.85),
        color=WEIGHT_COLOR,
        fontsize=10,
    )
    _arrow(ax, (6.7, 4.0), (7.9, 3.2), label="+", label_at=(7.45, 3.8), fontsize=14)
    _arrow(ax, (6.7, 1.4), (7.9, 2.2), label="+", label_at=(7.45, 1.6), fontsize=14)
    _arrow(ax, (8.9, 4.3), (8.9, 3.2), label="+", label_at=(9.15, 3.75), fontsize=14)
    _arrow(
        ax,
        (10.0, 2.7),
        (11.5, 2.7),
        label=f"@ $W_{{hy}}^T$ + $b_y$\n(H, C) = ({H}, {C})",
        label_at=(10.75, 3.45),
        color=WEIGHT_COLOR,
        fontsize=10,
    )
    # h_t is the h_{t-1} of the next step.
    _path_arrow(
        ax,
        [(8.9, 2.2), (8.9, 0.3), (1.2, 0.3), (1.2, 0.9)],
        [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO],
        color="#777777",
        linestyle="--",
    )
    ax.text(
        5.0, 0.1, "next step: $h_t$ becomes $h_{t-1}$", ha="center", va="top", fontsize=10, color="#555555"
    )
    ax.set_title(
        f"one step for a batch of N row vectors (N={N}, D={D}, H={H}, C={C}); weights are stored (out, in)",
        fontsize=12,
    )
    _diagram_axes(ax, (-0.1, 13.9), (-0.4, 5.1))
    return fig


# -- padding versus one token at a time ----------------------------------------------


def draw_padding_vs_steps(
    sentences: Sequence[str], max_len: int = 20, vocabulary: Vocabulary | None = None
) -> Figure:
    """Two ways to feed sentences of different lengths to a network.

    Top: the sentences encoded with ``vocabulary`` and padded (or cut) to
    ``max_len`` with :func:`rnncourse.data.pad_batch`, one cell per entry of
    the (N, max_len) array. Bottom: the same sentences read one token at a
    time, each taking as many steps as it has tokens.

    Args:
        sentences: N texts.
        max_len: the fixed length of the padded array.
        vocabulary: how to encode; defaults to ``Vocabulary.build(sentences)``.

    Returns:
        A figure with two axes. ``axes[0]`` has one patch per array entry
        (``gid`` ``"token"`` or ``"pad"``), ``axes[1]`` one patch per token
        read (``gid`` ``"step"``).
    """
    if not sentences:
        raise ValueError("draw_padding_vs_steps needs at least one sentence")
    vocab = vocabulary if vocabulary is not None else Vocabulary.build(sentences)
    encoded = [vocab.encode(s) for s in sentences]
    ids, lengths = pad_batch(encoded, max_len)
    n = len(sentences)
    pad_fraction = 1 - lengths.sum() / ids.size if ids.size else 0.0

    fig = Figure(figsize=(max(8.0, 0.62 * max_len + 2.5), 1.5 + 1.1 * n), layout="constrained")
    ax_pad, ax_step = fig.subplots(2, 1)
    cell = 0.9
    for row in range(n):
        y = n - 1 - row
        for col in range(max_len):
            real = col < lengths[row]
            _box(
                ax_pad,
                (col, y),
                cell,
                cell,
                str(ids[row, col]),
                color=INPUT_COLOR if real else PAD_COLOR,
                gid="token" if real else "pad",
                fontsize=10,
                linestyle="-" if real else ":",
            )
    ax_pad.set_xlim(-0.6, max_len - 0.4)
    ax_pad.set_ylim(-0.6, n - 0.4)
    ax_pad.set_aspect("equal")
    ax_pad.set_yticks(
        range(n), [f'"{s}"' if len(s) <= 36 else f'"{s[:34]}…"' for s in reversed(sentences)], fontsize=10
    )
    ax_pad.set_xticks(range(max_len), [str(c + 1) for c in range(max_len)], fontsize=9)
    ax_pad.set_xlabel("position (padding index 0 shown dotted)", fontsize=10)
    ax_pad.tick_params(length=0)
    for side in ax_pad.spines.values():
        side.set_visible(False)
    ax_pad.set_title(
        f"padded to a fixed length: one ({n}, {max_len}) array, {pad_fraction:.0%} of its entries are padding",
        fontsize=12,
    )

    step_gap = 1.6  # wider than the grid: the words are written out
    for row, sentence in enumerate(sentences):
        y = n - 1 - row
        words = tokenize(sentence)[: lengths[row]]  # as written: unknown words would decode to <unk>
        for col, word in enumerate(words):
            x = step_gap * col
            _box(ax_step, (x, y), 1.3, cell, word, color=CELL_COLOR, gid="step", fontsize=9)
            if col > 0:
                _arrow(ax_step, (x - step_gap + 0.65, y), (x - 0.65, y))
        ax_step.text(
            step_gap * (len(words) - 1) + 0.75,
            y,
            f"$\\to h_{{{len(words)}}}$",
            ha="left",
            va="center",
            fontsize=11,
        )
    ax_step.set_xlim(-0.8, max(max_len - 0.4, step_gap * (int(lengths.max()) - 1) + 2.0))
    ax_step.set_ylim(-0.6, n - 0.4)
    ax_step.set_aspect("equal")
    ax_step.set_yticks(range(n), [f"T = {length}" for length in reversed(lengths.tolist())], fontsize=10)
    ax_step.set_xticks([])
    for side in ax_step.spines.values():
        side.set_visible(False)
    ax_step.tick_params(length=0)
    ax_step.set_title(
        "one token at a time: T steps for a sentence of T tokens, the same weights at every step", fontsize=12
    )
    return fig


# -- the four input/output patterns --------------------------------------------------

#: For each pattern: title, then per column (has input, has output, role).
_PATTERNS: tuple[tuple[str, tuple[tuple[bool, bool, str], ...]], ...] = (
    ("one-to-many\nimage → caption", ((True, True, "cell"),) + ((False, True, "cell"),) * 3),
    ("many-to-one\nsentence → sentiment / spam", ((True, False, "cell"),) * 3 + ((True, True, "cell"),)),
    (
        "encoder-decoder\nsentence → translation",
        ((True, False, "encoder"),) * 3 + ((False, True, "decoder"),) * 3,
    ),
    ("synced many-to-many\nprice forecast at every step", ((True, True, "cell"),) * 4),
)


def draw_io_patterns() -> Figure:
    """The four ways an RNN maps inputs to outputs, drawn as unrolled chains.

    Returns:
        A figure with four axes, in this order: one-to-many (captioning),
        many-to-one (sentiment or spam), encoder-decoder (translation),
        synced many-to-many (a forecast at every step). Cells have ``gid``
        ``"cell"``, ``"encoder"`` or ``"decoder"``; inputs ``"input"``;
        outputs ``"output"``.
    """
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, len(_PATTERNS), width_ratios=[len(cols) + 0.4 for _, cols in _PATTERNS])
    spacing, size = 1.25, 0.8
    colors = {"cell": CELL_COLOR, "encoder": ENCODER_COLOR, "decoder": DECODER_COLOR}
    for ax, (title, columns) in zip(axes, _PATTERNS):
        n_in = sum(1 for has_in, _, _ in columns if has_in)
        n_out = sum(1 for _, has_out, _ in columns if has_out)
        i_in = i_out = 0
        for col, (has_in, has_out, role) in enumerate(columns):
            x = spacing * col
            _box(
                ax,
                (x, 0),
                size,
                size,
                {"cell": "", "encoder": "enc", "decoder": "dec"}[role],
                color=colors[role],
                gid=role,
                fontsize=10,
            )
            if col > 0:
                _arrow(ax, (x - spacing + size / 2, 0), (x - size / 2, 0))
            if has_in:
                i_in += 1
                label = "$x$" if n_in == 1 else f"$x_{{{i_in}}}$"
                _box(
                    ax,
                    (x, -1.35),
                    size * 0.85,
                    size * 0.7,
                    label,
                    color=INPUT_COLOR,
                    gid="input",
                    fontsize=12,
                )
                _arrow(ax, (x, -1.35 + size * 0.35), (x, -size / 2))
            if has_out:
                i_out += 1
                label = "$y$" if n_out == 1 else f"$y_{{{i_out}}}$"
                _box(
                    ax,
                    (x, 1.35),
                    size * 0.85,
                    size * 0.7,
                    label,
                    color=OUTPUT_COLOR,
                    gid="output",
                    fontsize=12,
                )
                _arrow(ax, (x, size / 2), (x, 1.35 - size * 0.35))
        if any(role == "decoder" for _, _, role in columns):
            first_decoder = next(c for c, (_, _, role) in enumerate(columns) if role == "decoder")
            x_mid = spacing * (first_decoder - 0.5)
            ax.text(x_mid + 0.1, -0.45, "context\n$h_T$", ha="center", va="top", fontsize=9)
        ax.set_title(title, fontsize=12)
        _diagram_axes(ax, (-0.7, spacing * (len(columns) - 1) + 0.7), (-1.95, 1.95))
    return fig


# -- activations ---------------------------------------------------------------------


def plot_activations(a_min: float = -4.0, a_max: float = 4.0) -> Figure:
    """tanh and ReLU (left) and their derivatives (right) on ``[a_min, a_max]``.

    Returns:
        A figure with two axes, each with one line labelled ``tanh`` and one
        labelled ``ReLU``.
    """
    if not a_min < a_max:
        raise ValueError(f"need a_min < a_max, got {a_min} and {a_max}")
    a = np.linspace(a_min, a_max, 401)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_f, ax_df = fig.subplots(1, 2)
    ax_f.plot(a, np.tanh(a), label="tanh", color="#1f77b4", linewidth=2)
    ax_f.plot(a, np.maximum(a, 0), label="ReLU", color="#d62728", linewidth=2)
    ax_f.axhspan(-1, 1, color="#1f77b4", alpha=0.06)
    ax_f.set_title("$f(a)$: tanh stays in (-1, 1), ReLU is unbounded above", fontsize=11)
    ax_df.plot(a, 1 - np.tanh(a) ** 2, label="tanh: $1 - \\tanh^2(a)$", color="#1f77b4", linewidth=2)
    ax_df.plot(a, (a > 0).astype(float), label="ReLU: $[a > 0]$", color="#d62728", linewidth=2)
    ax_df.set_title("$f\\,'(a)$: at most 1 for tanh, exactly 0 or 1 for ReLU", fontsize=11)
    for ax in (ax_f, ax_df):
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.set_xlabel("pre-activation $a$")
        ax.legend(loc="upper left", fontsize=10)
        ax.grid(alpha=0.3)
    return fig


# -- heatmaps ------------------------------------------------------------------------


def _heatmap(
    values: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    cmap: str,
    vmin: float,
    vmax: float,
    fmt: str,
    xlabel: str,
    ylabel: str,
    colorbar_label: str,
    title: str,
) -> Figure:
    rows, cols = values.shape
    fig = Figure(figsize=(max(4.5, 0.75 * cols + 3.2), max(2.6, 0.55 * rows + 1.5)), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    span = vmax - vmin
    for r in range(rows):
        for c in range(cols):
            v = values[r, c]
            # white text on dark cells: both ends of a diverging map, the low end of viridis
            if cmap.startswith("RdBu"):
                dark = abs(v - (vmin + vmax) / 2) > 0.3 * span
            else:
                dark = (v - vmin) < 0.5 * span
            ax.text(
                c, r, format(v, fmt), ha="center", va="center", fontsize=9, color="white" if dark else "black"
            )
    ax.set_xticks(range(cols), list(col_labels))
    ax.set_yticks(range(rows), list(row_labels))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label(colorbar_label)
    return fig


def _step_labels(tokens: Sequence[str], steps: int) -> list[str]:
    if len(tokens) != steps:
        raise ValueError(f"got {len(tokens)} tokens for {steps} steps")
    return [f"t={t}: {token}" for t, token in enumerate(tokens, start=1)]


def plot_hidden_states(h: np.ndarray, tokens: Sequence[str], title: str = "hidden states $h_t$") -> Figure:
    """Heatmap of the hidden states of one sequence, one row per step.

    Args:
        h: (T, H) hidden states h_1..h_T (e.g. ``rnn_forward(...)[0][0]``).
        tokens: the T tokens read, used as row labels.
        title: the axes title.

    Returns:
        A figure with two axes: the heatmap (rows "t=1: token", columns the
        hidden units 1..H, values printed in the cells) and its colour bar,
        which spans tanh's range [-1, 1].
    """
    h = np.asarray(h, dtype=float)
    if h.ndim != 2:
        raise ValueError(f"h must be (T, H), got shape {h.shape}")
    T, H = h.shape
    return _heatmap(
        h,
        _step_labels(tokens, T),
        [str(j) for j in range(1, H + 1)],
        cmap="RdBu_r",
        vmin=-1.0,
        vmax=1.0,
        fmt=".2f",
        xlabel="hidden unit $j$",
        ylabel="step $t$ (token read)",
        colorbar_label="$h_{t,j}$",
        title=title,
    )


def plot_step_outputs(
    probs: np.ndarray,
    tokens: Sequence[str],
    classes: Sequence[str],
    title: str = "output $O_t$ at every step",
) -> Figure:
    """Heatmap of the class probabilities emitted at every step.

    Args:
        probs: (T, C) probabilities, each row summing to 1.
        tokens: the T tokens read, used as row labels.
        classes: the C class names, used as column labels.
        title: the axes title.

    Returns:
        A figure with two axes: the heatmap (values printed as percentages)
        and its colour bar, which spans [0, 1].
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError(f"probs must be (T, C), got shape {probs.shape}")
    T, C = probs.shape
    if len(classes) != C:
        raise ValueError(f"got {len(classes)} class names for {C} columns")
    return _heatmap(
        probs,
        _step_labels(tokens, T),
        list(classes),
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        fmt=".1%",
        xlabel="class",
        ylabel="step $t$ (token read)",
        colorbar_label="probability",
        title=title,
    )
