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
``plot_training``         learning curves of the order experiment
========================  ==================================================

The patterns are data before they are drawings: ``one_to_many``,
``many_to_one``, ``encoder_decoder`` and ``synced_many_to_many`` return an
``IOPattern`` (its ``Step`` columns say what enters and leaves each cell), with
the sizes and conventions of the chapter's code (``rnncourse.data.toy``), and
``draw_io_patterns`` draws whatever patterns it is given.

The diagrams tag their patches with a ``gid`` (``"cell"``, ``"input"``,
``"output"``, ``"array"``, ``"token"``, ``"pad"``, ``"arrow"``, ``"feedback"``),
so that tests and readers can find the parts of a drawing without relying on
draw order. The drawing primitives live in ``rnncourse.figures._draw``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rnncourse.data.text import Vocabulary, pad_batch, tokenize
from rnncourse.data.toy import CAPTION_STEPS, FORECAST_DAYS, TOY_CORPUS, TRANSLATION_PAIR
from rnncourse.figures import _draw as draw

# -- the loop and its unrolled picture -----------------------------------------------

# Sizes shared by the folded and the unrolled drawing: a cell, the input and output boxes.
_CELL_W, _CELL_H = 1.1, 0.8
_IO_W, _IO_H, _IO_Y = 0.8, 0.55, 1.7


def _cell_column(ax: Axes, x: float, sub: str) -> None:
    """The cell h_sub at (x, 0), x_sub below it and y_sub above, joined through W_xh and W_hy.

    ``sub`` is the subscript as mathtext writes it: ``"t"``, or ``"{3}"`` for step 3.
    """
    draw.box(ax, (x, 0), _CELL_W, _CELL_H, f"$h_{sub}$", role="cell", fontsize=15)
    draw.box(ax, (x, -_IO_Y), _IO_W, _IO_H, f"$x_{sub}$", role="input", fontsize=14)
    draw.box(ax, (x, _IO_Y), _IO_W, _IO_H, f"$y_{sub}$", role="output", fontsize=14)
    inner, outer = _CELL_H / 2, _IO_Y - _IO_H / 2  # an arrow's ends: the cell's edge, the x or y box's edge
    into_cell = ((x, -outer), (x, -inner), "$W_{xh}$", -1.05)
    out_of_cell = ((x, inner), (x, outer), "$W_{hy}$", 1.05)
    for start, end, weight, label_y in (into_cell, out_of_cell):
        draw.arrow(
            ax, start, end, label=weight, label_at=(x + 0.1, label_y), ha="left", color=draw.PALETTE["weight"]
        )


def draw_unrolled(steps: int = 4) -> Figure:
    """The recurrent cell drawn twice: folded (a loop) and unrolled over ``steps`` steps.

    The unrolled panel has one cell per step, all labelled with the same
    weights ``W_xh``, ``W_hh`` and ``W_hy``: unrolling copies the drawing,
    not the parameters.

    Args:
        steps: how many time steps to unroll (at least 1).

    Returns:
        A figure with two axes, one above the other: ``axes[0]`` the folded loop (one
        cell), ``axes[1]`` the unrolled network (``steps`` cells and a box for h_0).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    spacing = 2.0
    fig = draw.new_figure(1.0, 0.85)
    ax_fold, ax_unroll = fig.subplots(2, 1)

    # Folded: one cell whose output comes back as its own input at the next step.
    _cell_column(ax_fold, 0, "t")
    right = _CELL_W / 2
    loop = [(right, 0.2), (right + 1.3, 0.9), (right + 1.3, -0.9), (right, -0.2)]
    draw.path_arrow(ax_fold, loop, curved=True, color=draw.PALETTE["weight"])
    weight_style = {"fontsize": draw.MIN_FONT_PT, "color": draw.PALETTE["weight"]}
    ax_fold.text(right + 1.05, 0, "$W_{hh}$", ha="left", va="center", **weight_style)
    ax_fold.text(right + 0.55, -0.62, "$h_{t-1}$", ha="center", va="top", fontsize=draw.MIN_FONT_PT)
    ax_fold.set_title("folded: one cell and a loop", fontsize=draw.TITLE_FONT_PT)
    draw.diagram_axes(ax_fold, (-0.9, 2.5), (-2.2, 2.2))

    # Unrolled: h_0, then one copy of the cell per step.
    draw.box(ax_unroll, (0, 0), _CELL_W, _CELL_H, "$h_0$", role="state", fontsize=15)
    ax_unroll.text(0, -_CELL_H / 2 - 0.15, "(zeros)", ha="center", va="top", fontsize=draw.MIN_FONT_PT)
    for t in range(1, steps + 1):
        x = spacing * t
        _cell_column(ax_unroll, x, f"{{{t}}}")
        link = ((x - spacing + _CELL_W / 2, 0), (x - _CELL_W / 2, 0))
        draw.arrow(
            ax_unroll, *link, label="$W_{hh}$", label_at=(x - spacing / 2, 0.25), color=draw.PALETTE["weight"]
        )
    ax_unroll.text(spacing * steps + _CELL_W / 2 + 0.15, 0, r"$\cdots$", ha="left", va="center", fontsize=15)
    ax_unroll.set_title(
        f"unrolled over {steps} steps: {steps} copies of the drawing,\none set of weights",
        fontsize=draw.TITLE_FONT_PT,
    )
    draw.diagram_axes(ax_unroll, (-0.8, spacing * steps + 1.3), (-2.2, 2.2))
    fig.suptitle(
        r"$h_t = \tanh(W_{xh}\,x_t + W_{hh}\,h_{t-1} + b_h)$,    $y_t = W_{hy}\,h_t + b_y$",
        fontsize=14,
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
    fig = draw.new_figure(1.0, 0.86)
    ax = fig.subplots()

    def shape(symbols: str, *values: int) -> str:
        return f"({symbols}) = ({', '.join(str(v) for v in values)})"

    # Two rows feed two products (x_t and h_{t-1}); the products and the bias add into h_t
    # below them, and h_t gives y_t at the bottom.
    arrays = (  # centre, width, symbol, shape, role
        ((1.4, 5.4), 2.6, "$x_t$", shape("N, D", N, D), "input"),
        ((1.4, 3.0), 2.6, "$h_{t-1}$", shape("N, H", N, H), "state"),
        ((6.6, 5.4), 2.8, "$x_t W_{xh}^T$", shape("N, H", N, H), "cell"),
        ((6.6, 3.0), 2.8, "$h_{t-1} W_{hh}^T$", shape("N, H", N, H), "cell"),
        ((6.6, 0.6), 3.4, r"$h_t = \tanh(\cdot + \cdot + b_h)$", shape("N, H", N, H), "cell"),
        ((6.6, -1.8), 2.6, "$y_t$", shape("N, C", N, C), "output"),
    )
    for centre, width, symbol, dims, role in arrays:
        draw.box(ax, centre, width, 1.0, f"{symbol}\n{dims}", role=role, gid="array")
    draw.box(ax, (3.3, 0.6), 1.6, 0.6, f"$b_h$ ({H},)", role="state", gid="parameter")
    products = (  # tail, tip, the weight matrix and its shape, where that label goes
        ((2.7, 5.4), (5.2, 5.4), f"@ $W_{{xh}}^T$\n{shape('D, H', D, H)}", (3.95, 5.95), "center"),
        ((2.7, 3.0), (5.2, 3.0), f"@ $W_{{hh}}^T$\n{shape('H, H', H, H)}", (3.95, 3.55), "center"),
        ((6.6, 0.1), (6.6, -1.3), f"@ $W_{{hy}}^T$ + $b_y$\n{shape('H, C', H, C)}", (6.8, -0.6), "left"),
    )
    for start, end, label, label_at, ha in products:
        draw.arrow(ax, start, end, label=label, label_at=label_at, ha=ha, color=draw.PALETTE["weight"])
    # the sum: h_{t-1} W_hh^T from above, b_h from the left, x_t W_xh^T around the right
    draw.arrow(ax, (6.6, 2.5), (6.6, 1.1), label="+", label_at=(6.85, 1.8), fontsize=15)
    draw.arrow(ax, (4.1, 0.6), (4.9, 0.6), label="+", label_at=(4.5, 0.95), fontsize=15)
    draw.path_arrow(ax, [(8.0, 5.4), (9.1, 5.4), (9.1, 0.6), (8.3, 0.6)])
    ax.text(9.3, 3.0, "+", ha="left", va="center", fontsize=15)
    # h_t is the h_{t-1} of the next step.
    next_step = [(5.3, 0.1), (5.3, -0.5), (0.6, -0.5), (0.6, 2.5)]
    draw.path_arrow(ax, next_step, color=draw.PALETTE["muted"], linestyle="--")
    note = "next step: $h_t$\nbecomes $h_{t-1}$"
    ax.text(0.8, -0.7, note, ha="left", va="top", fontsize=draw.MIN_FONT_PT, color=draw.PALETTE["muted"])
    ax.set_title(
        f"one step for a batch of N row vectors (N={N}, D={D}, H={H}, C={C});\nweights are stored (out, in)",
        fontsize=draw.TITLE_FONT_PT,
    )
    draw.diagram_axes(ax, (-0.1, 10.0), (-2.5, 6.4))
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
    ids, lengths = pad_batch([vocab.encode(s) for s in sentences], max_len)
    n = len(sentences)
    pad_fraction = 1 - lengths.sum() / ids.size if ids.size else 0.0

    fig = draw.new_figure(1.0, 0.2 + 0.14 * n)
    ax_pad, ax_step = fig.subplots(2, 1, height_ratios=[1, 1.8])
    cell = 0.9
    for row in range(n):  # the first sentence is the top row
        for col in range(max_len):
            centre, index = (col, n - 1 - row), str(ids[row, col])
            if col < lengths[row]:
                draw.box(ax_pad, centre, cell, cell, index, role="input", gid="token")
            else:
                draw.box(ax_pad, centre, cell, cell, index, role="pad", linestyle=":")
    rows = [f"sentence {row + 1}" for row in range(n)]
    positions = [str(c + 1) if c % 2 == 0 or max_len <= 12 else "" for c in range(max_len)]
    draw.diagram_axes(
        ax_pad, (-0.6, max_len - 0.4), (-0.6, n - 0.4), row_labels=rows, column_labels=positions
    )
    ax_pad.set_xlabel("position (padding index 0 shown dotted)", fontsize=draw.MIN_FONT_PT)
    ax_pad.set_title(
        f"padded to a fixed length:\none ({n}, {max_len}) array, {pad_fraction:.0%} of its entries are padding",
        fontsize=draw.TITLE_FONT_PT,
    )

    step_gap = 1.6  # wider than the grid: the words are written out
    for row, sentence in enumerate(sentences):
        y = n - 1 - row
        words = tokenize(sentence)[: lengths[row]]  # as written: unknown words would decode to <unk>
        for col, word in enumerate(words):
            x = step_gap * col
            draw.box(ax_step, (x, y), 1.3, cell, word, role="cell", gid="step")
            if col > 0:
                draw.arrow(ax_step, (x - step_gap + 0.65, y), (x - 0.65, y))
        last = step_gap * (len(words) - 1)
        ax_step.text(last + 0.75, y, f"$\\to h_{{{len(words)}}}$", ha="left", va="center", fontsize=14)
    right = step_gap * (int(lengths.max()) - 1) + 2.0
    steps_taken = [f"T = {length}" for length in lengths.tolist()]
    draw.diagram_axes(ax_step, (-0.8, right), (-0.6, n - 0.4), row_labels=steps_taken)
    ax_step.set_title(
        "one token at a time: T steps for a sentence of T tokens,\nthe same weights at every step",
        fontsize=draw.TITLE_FONT_PT,
    )
    return fig


# -- the four input/output patterns --------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One column of an unrolled input/output pattern.

    Attributes:
        input: the label of the input box, or None if nothing enters at this step.
        output: the label of the output box, or None if nothing is read out.
        role: ``"cell"``, ``"encoder"``, ``"decoder"``, or ``"pad"`` for a padded
            step whose input is the padding token.
        feeds_next: the output is fed back as the next step's input (drawn as an
            arrow from this output box to the next input box).
        read_from: draw the output arrow from this earlier column instead of this
            one (many-to-one over a padded batch reads the last *real* step).
    """

    input: str | None
    output: str | None = None
    role: str = "cell"
    feeds_next: bool = False
    read_from: int | None = None


@dataclass(frozen=True)
class IOPattern:
    """An unrolled input/output pattern: a title, an example and its columns.

    Attributes:
        name: the pattern's name, e.g. ``"one-to-many"``.
        example: what it is used for, e.g. ``"image → caption"``.
        steps: the columns, left to right.
        initial: a label if a vector sets the initial state h_0 (an image, the
            encoder's context), drawn as a box left of the first cell.
    """

    name: str
    example: str
    steps: tuple[Step, ...]
    initial: str | None = None


def one_to_many(steps: int = CAPTION_STEPS) -> IOPattern:
    """Captioning as chapter 1's code does it: the image sets h_0, then each word is fed back.

    Step 1 reads the start token ``<bos>``; step t > 1 reads x_t, the embedding of
    the word y_{t-1} written at the step before.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    columns = tuple(
        Step(
            input="<bos>" if t == 1 else f"$x_{{{t}}}$",
            output=f"$y_{{{t}}}$",
            feeds_next=t < steps,
        )
        for t in range(1, steps + 1)
    )
    return IOPattern("one-to-many", "image → caption", columns, initial="image")


def many_to_one(steps: int | None = None, padded: int | None = None) -> IOPattern:
    """Classification of a padded sentence: one output, read at the last *real* step.

    Defaults: the first sentence of ``TOY_CORPUS``, padded to the longest one, as in
    chapter 1's many-to-one code.

    Args:
        steps: the sentence's T tokens.
        padded: how many padding steps follow them in the batch.
    """
    lengths = [len(tokenize(s)) for s in TOY_CORPUS]
    steps = lengths[0] if steps is None else steps
    padded = max(lengths) - steps if padded is None else padded
    if steps < 1 or padded < 0:
        raise ValueError(f"need steps >= 1 and padded >= 0, got {steps} and {padded}")
    real = [Step(input=f"$x_{{{t}}}$") for t in range(1, steps)]
    last = Step(input=f"$x_{{{steps}}}$", output="$y$")
    pads = [Step(input="pad", role="pad") for _ in range(padded)]
    if padded:  # the output is still read from step T, after the padding has run
        last = Step(input=f"$x_{{{steps}}}$")
        pads[-1] = Step(input="pad", output="$y$", role="pad", read_from=steps - 1)
    return IOPattern("many-to-one", "sentence → sentiment / spam", (*real, last, *pads))


def encoder_decoder(source: str | None = None, target: str | None = None) -> IOPattern:
    """Translation with teacher forcing, as chapter 1's code does it.

    The encoder reads the source; its last state is the decoder's h_0 (the
    context). The decoder reads ``<bos>`` and then the correct previous target
    token, and outputs every target token and then ``<eos>``. Defaults:
    ``TRANSLATION_PAIR``.
    """
    source = TRANSLATION_PAIR[0] if source is None else source
    target = TRANSLATION_PAIR[1] if target is None else target
    T_src, T_tgt = len(tokenize(source)), len(tokenize(target))
    if T_src < 1:
        raise ValueError("the source needs at least one token")
    encoder = tuple(Step(input=f"$x_{{{t}}}$", role="encoder") for t in range(1, T_src + 1))
    decoder = tuple(
        Step(
            input="<bos>" if t == 1 else f"$y_{{{t - 1}}}$",
            output="<eos>" if t == T_tgt + 1 else f"$y_{{{t}}}$",
            role="decoder",
        )
        for t in range(1, T_tgt + 2)
    )
    return IOPattern("encoder-decoder", "sentence → translation", encoder + decoder)


def synced_many_to_many(steps: int = FORECAST_DAYS) -> IOPattern:
    """A forecast at every step: input x_t and output y_t at each of ``steps`` steps."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    columns = tuple(Step(input=f"$x_{{{t}}}$", output=f"$y_{{{t}}}$") for t in range(1, steps + 1))
    return IOPattern("synced many-to-many", "forecast at every step", columns)


def _draw_pattern(ax: Axes, pattern: IOPattern) -> None:
    spacing, size = 1.4, 0.8
    io_w, io_h, y_io = 1.1, 0.56, 1.3
    labels = {"cell": "", "encoder": "enc", "decoder": "dec", "pad": ""}
    first_x = 0.0
    if pattern.initial is not None:
        first_x = 1.6  # room for the initial vector on the left
        draw.box(ax, (0, 0), 1.1, io_h, pattern.initial, role="input", gid="initial")
        draw.arrow(ax, (0.55, 0), (first_x - size / 2, 0), label="$h_0$", label_at=(0.85, 0.3))
    decoder_start = next((i for i, s in enumerate(pattern.steps) if s.role == "decoder"), None)
    for col, step in enumerate(pattern.steps):
        x = first_x + spacing * col
        padded = step.role == "pad"
        outline = ":" if padded else "-"
        draw.box(ax, (x, 0), size, size, labels[step.role], role=step.role, linestyle=outline)
        if col > 0:  # the state passed on; into the first decoder cell it is the context
            context = col == decoder_start
            link = ((x - spacing + size / 2, 0), (x - size / 2, 0))
            draw.arrow(ax, *link, color=draw.PALETTE["weight"] if context else None)
        if step.input is not None:
            draw.box(
                ax,
                (x, -y_io),
                io_w,
                io_h,
                step.input,
                role="pad" if padded else "input",
                gid="input",
                fontsize=14 if step.input.startswith("$") else draw.MIN_FONT_PT,
                linestyle=outline,
            )
            draw.arrow(ax, (x, -y_io + io_h / 2), (x, -size / 2))
        if step.output is not None:
            draw.box(
                ax,
                (x, y_io),
                io_w,
                io_h,
                step.output,
                role="output",
                fontsize=14 if step.output.startswith("$") else draw.MIN_FONT_PT,
            )
            if step.read_from is None:
                draw.arrow(ax, (x, size / 2), (x, y_io - io_h / 2))
            else:  # read the state of an earlier column, not this one
                source_x = first_x + spacing * step.read_from
                read_out = ((source_x + size / 4, size / 2), (x - io_w / 4, y_io - io_h / 2))
                draw.arrow(ax, *read_out, color=draw.PALETTE["weight"], gid="read-out")
                ax.text(source_x, 0, "$h_T$", ha="center", va="center", fontsize=14)
        if step.feeds_next:
            turn, next_x = x + spacing / 2, x + spacing
            feedback = [(x + io_w / 2, y_io), (turn, y_io), (turn, -y_io), (next_x - io_w / 2, -y_io)]
            draw.path_arrow(ax, feedback, color=draw.PALETTE["feedback"], linestyle="--", gid="feedback")
    if decoder_start is not None:
        x_mid = first_x + spacing * (decoder_start - 0.5)
        ax.text(
            x_mid,
            0.45,
            "context",
            ha="center",
            va="bottom",
            fontsize=draw.MIN_FONT_PT,
            color=draw.PALETTE["weight"],
        )
    ax.set_title(f"{pattern.name}: {pattern.example}", fontsize=draw.TITLE_FONT_PT)
    draw.diagram_axes(ax, (-0.7, first_x + spacing * (len(pattern.steps) - 1) + 0.7), (-1.7, 1.7))


def draw_io_patterns(patterns: Sequence[IOPattern] | None = None) -> Figure:
    """The ways an RNN maps inputs to outputs, drawn as unrolled chains, one per row.

    Args:
        patterns: what to draw; defaults to the four of chapter 1, with the sizes of
            its code: ``one_to_many()``, ``many_to_one()``, ``encoder_decoder()``,
            ``synced_many_to_many()``.

    Returns:
        A figure with one axes per pattern, in order. Cells have ``gid`` ``"cell"``,
        ``"encoder"``, ``"decoder"`` or ``"pad"``; input boxes ``"input"``; output
        boxes ``"output"``; a vector that sets h_0 ``"initial"``; an output fed back
        as the next input is an arrow with ``gid="feedback"``, and an output read
        from an earlier step an arrow with ``gid="read-out"``.
    """
    if patterns is None:
        patterns = (one_to_many(), many_to_one(), encoder_decoder(), synced_many_to_many())
    if not patterns:
        raise ValueError("draw_io_patterns needs at least one pattern")
    # One pattern per row, all at one scale: every row has the same height, and the
    # equal-aspect axes of the longest chain still fits the page's width.
    fig = draw.new_figure(1.0, 0.32 * len(patterns))
    axes = fig.subplots(len(patterns), 1, squeeze=False)[:, 0]
    for ax, pattern in zip(axes, patterns):
        _draw_pattern(ax, pattern)
    return fig


# -- the training experiment ---------------------------------------------------------


def plot_training(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    floor: float | None = None,
    floor_label: str = "order-free floor",
) -> Figure:
    """Learning curves: training and validation loss per epoch, one colour per model.

    Args:
        curves: model name -> (training losses, validation losses), one per epoch;
            all of the same length.
        floor: if given, a horizontal dashed line at this loss (e.g. the lowest loss
            a model that ignores word order can reach), labelled ``floor_label``.

    Returns:
        A figure with one axes: ``2 * len(curves)`` labelled lines
        (``"<name>, training"`` solid, ``"<name>, validation"`` dashed) and the floor.
    """
    series: dict[str, Sequence[float]] = {}
    styles: dict[str, str] = {}
    colors: dict[str, str] = {}
    for i, (name, (train, val)) in enumerate(curves.items()):
        color = draw.SERIES_COLORS[i % len(draw.SERIES_COLORS)]
        for kind, values, style in (("training", train, "-"), ("validation", val, "--")):
            label = f"{name}, {kind}"
            series[label], styles[label], colors[label] = values, style, color
    fig = draw.new_figure(1.0, 0.5)
    ax = fig.subplots()
    if floor is not None:
        ax.axhline(floor, color=draw.PALETTE["muted"], linestyle=":", linewidth=1.5, label=floor_label)
    draw.plot_curves(ax, series, styles=styles, colors=colors, ylabel="cross-entropy (mean per review)")
    ax.set_ylim(bottom=0)
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
    fig = draw.new_figure(1.0, 0.5)
    ax_f, ax_df = fig.subplots(1, 2)
    ax_f.axhspan(-1, 1, color=draw.SERIES_COLORS[0], alpha=0.06)  # tanh's range
    for ax in (ax_f, ax_df):
        ax.axhline(0, color=draw.PALETTE["muted"], linewidth=0.8)
        ax.axvline(0, color=draw.PALETTE["muted"], linewidth=0.8)
    tanh = np.tanh(a)
    panels = {
        "$f(a)$: tanh stays in (-1, 1),\nReLU is unbounded above": {"tanh": tanh, "ReLU": np.maximum(a, 0)},
        "$f\\,'(a)$: at most 1 for tanh,\nexactly 0 or 1 for ReLU": {
            "tanh: $1 - \\tanh^2(a)$": 1 - tanh**2,
            "ReLU: $[a > 0]$": (a > 0).astype(float),
        },
    }
    for ax, (title, curves) in zip((ax_f, ax_df), panels.items()):
        series = {label: values.tolist() for label, values in curves.items()}
        draw.plot_curves(
            ax, series, x=a.tolist(), xlabel="pre-activation $a$", title=title, legend_loc="upper left"
        )
    return fig


# -- heatmaps ------------------------------------------------------------------------


def _per_step_heatmap(
    name: str, values: np.ndarray, tokens: Sequence[str], columns: Sequence[str] | None, **style: Any
) -> Figure:
    """A (T, K) array as a heatmap whose row t is labelled with the token read at step t.

    Args:
        name: the array's name, for errors.
        values: (T, K) numbers.
        tokens: the T tokens read.
        columns: the K column names; None numbers the columns 1..K.
        style: the rest of :func:`rnncourse.figures._draw.heatmap`'s arguments.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"{name} must be 2-D, one row per step, got shape {values.shape}")
    T, K = values.shape
    if len(tokens) != T:
        raise ValueError(f"got {len(tokens)} tokens for {T} steps")
    columns = [str(k) for k in range(1, K + 1)] if columns is None else list(columns)
    if len(columns) != K:
        raise ValueError(f"got {len(columns)} column names for {K} columns")
    rows = [f"t={t}: {token}" for t, token in enumerate(tokens, start=1)]
    return draw.heatmap(values, rows, columns, ylabel="step $t$ (token read)", **style)


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
    return _per_step_heatmap(
        "h",
        h,
        tokens,
        None,
        cmap="RdBu_r",
        vmin=-1.0,
        vmax=1.0,
        fmt=".2f",
        xlabel="hidden unit $j$",
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
    return _per_step_heatmap(
        "probs",
        probs,
        tokens,
        classes,
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        fmt=".1%",
        xlabel="class",
        colorbar_label="probability",
        title=title,
    )
