"""Drawing helpers shared by every chapter's figures.

========================  ==========================================================
name                      what it is for
========================  ==========================================================
``PALETTE``               the course's colours, by role (cell, input, output, ...)
``SERIES_COLORS``         colours for the lines of a plot, in order
``PAGE_WIDTH``            inches: the width of the book's text column
``FIGURE_DPI``            dots per inch of a figure's size on the page
``MIN_FONT_PT``           the smallest text a figure may carry, in points
``sharp_inline_figures``  notebooks show figures at twice their resolution
``text_sizes``            every text of a drawn figure with its size (for tests)
``LegendLoc``             the legend locations ``plot_curves`` and ``finish_axes`` accept
``new_figure``            a ``Figure`` sized for the page (width in page widths)
``box``                   a rounded box with a label, tagged with a ``gid``
``arrow``                 a straight or curved arrow, optionally labelled
``path_arrow``            an arrow along a polyline or Bezier path (loops, detours)
``diagram_axes``          equal-aspect axes without frame, for diagrams (rows and
                          columns may be named, as in a table)
``heatmap``               an annotated matrix with a colour bar
``plot_curves``           several series against a shared x (learning curves)
``finish_axes``           axis names, title, light grid and legend: every plot's finish
``legend_below``          the figure's legend under its plots (long labels hide no line)
========================  ==========================================================

A chapter's figures module imports this module, not its names:
``from rnncourse.figures import _draw as draw``, then ``draw.box(...)``.

Conventions. Diagrams are drawn in data coordinates on an axes that
``diagram_axes`` has set up, so that one unit is the same length in x and in
y. Every patch carries a ``gid`` naming its role (``"cell"``, ``"input"``,
``"arrow"``, ...): tests and readers find the parts of a drawing by role,
never by draw order. Figures are made with :class:`matplotlib.figure.Figure`
directly, not through pyplot: no global state, nothing to close, and any
backend (``Agg`` included) can render them.

Sizing, so that labels read as easily as the text on a phone and on a laptop.
A notebook shows a figure at ``FIGURE_DPI`` CSS pixels per inch (its PNG has
twice as many pixels, for sharp screens: ``sharp_inline_figures``), and the
site never shrinks it (``book/_static/course.css``): a figure wider than the
column scrolls inside its box. The column is 740 px wide at 1280 px, so a
figure ``PAGE_WIDTH`` = 7.4 in wide fills it, and text of ``MIN_FONT_PT`` =
12 pt is 16.7 px, at least the site's 16-px body text. Hence the rules (tests
check them with ``text_sizes``): a figure is at most ``PAGE_WIDTH`` wide
(``new_figure`` takes its width in page widths, at most 1), and every text on
it is at least ``MIN_FONT_PT``; the helpers below default to that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.text import Text

__all__ = [
    "FIGURE_DPI",
    "MIN_FONT_PT",
    "PAGE_WIDTH",
    "PALETTE",
    "SERIES_COLORS",
    "LegendLoc",
    "arrow",
    "box",
    "diagram_axes",
    "finish_axes",
    "heatmap",
    "legend_below",
    "new_figure",
    "path_arrow",
    "plot_curves",
    "sharp_inline_figures",
    "text_sizes",
]

#: Fill and line colours by role; diagrams of every chapter use the same ones.
PALETTE: dict[str, str] = {
    "cell": "#cfe0f3",  # a recurrent cell (blue)
    "input": "#e2f0d0",  # an input x_t (green)
    "output": "#fbe0c4",  # an output y_t (orange)
    "state": "#ececec",  # a state that is not computed by a cell, e.g. h_0 (grey)
    "pad": "#f4f4f4",  # padding (light grey, drawn dotted)
    "encoder": "#cfe0f3",
    "decoder": "#e6d6f2",  # a second network with its own weights (violet)
    "edge": "#333333",  # box outlines and plain arrows
    "weight": "#1f4e8c",  # arrows that multiply by a weight matrix
    "feedback": "#b5482b",  # an output fed back as the next input
    "muted": "#777777",  # annotations that are not part of the computation
}

#: Line colours for plots, in the order series are drawn (colour-blind safe: Okabe-Ito).
SERIES_COLORS: tuple[str, ...] = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")

#: Where a legend may stand, in matplotlib's words.
LegendLoc = Literal[
    "best", "upper right", "upper left", "lower left", "lower right", "right", "center left", "center right",
    "lower center", "upper center", "center",
]  # fmt: skip

#: Width of the book's text column (740 CSS px at a 1280-px window), in inches at ``FIGURE_DPI``.
PAGE_WIDTH = 7.4

#: CSS pixels per inch of a figure on the page (matplotlib's and the inline backend's dpi).
FIGURE_DPI = 100

#: The site's body text, in CSS pixels (sphinx-book-theme's 1rem; tests/site checks it).
BODY_TEXT_PX = 16

#: The smallest text on a figure, in points: 12 pt at ``FIGURE_DPI`` is 16.7 px >= ``BODY_TEXT_PX``.
MIN_FONT_PT = 12

#: Titles of panels, a step above the labels.
TITLE_FONT_PT = 13


def new_figure(width: float = 1.0, height: float = 0.4) -> Figure:
    """A constrained-layout figure sized for the page.

    Args:
        width: the figure's width as a fraction of ``PAGE_WIDTH``, at most 1 (1 fills the
            column; the site never shrinks a figure, so a wider one would scroll).
        height: the height as a fraction of ``PAGE_WIDTH``.

    Returns:
        An empty :class:`~matplotlib.figure.Figure` of ``width * PAGE_WIDTH`` by
        ``height * PAGE_WIDTH`` inches, at ``FIGURE_DPI``.
    """
    if not 0 < width <= 1 or height <= 0:
        raise ValueError(
            f"width must be in (0, 1] page widths and height positive, got {width} and {height}: "
            "a wider figure scrolls on every screen; draw it in rows instead"
        )
    return Figure(figsize=(width * PAGE_WIDTH, height * PAGE_WIDTH), dpi=FIGURE_DPI, layout="constrained")


def sharp_inline_figures() -> None:
    """In a notebook's kernel, show figures as PNG at twice their resolution ("retina").

    IPython then stores each figure with its CSS size (half its pixels), which the site
    keeps: sharp on phones and high-density screens, at the size the rules above assume.
    Outside a kernel (scripts, tests, the grader's shell) it does nothing.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")


def text_sizes(fig: Figure) -> list[tuple[str, float]]:
    """Every text ``fig`` shows once drawn (tick labels too), with its size in points.

    Texts that are not drawn are left out: empty or invisible ones, and the tick labels of
    an axis that is switched off (``diagram_axes`` without names).
    """
    FigureCanvasAgg(fig).draw()
    hidden: set[int] = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            if not (ax.axison and axis.get_visible()):
                hidden.update(id(label) for label in axis.get_ticklabels(which="both"))
                hidden.add(id(axis.label))
    return [
        (text.get_text(), float(text.get_fontsize()))
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip() and id(text) not in hidden
    ]


def box(
    ax: Axes,
    center: tuple[float, float],
    width: float,
    height: float,
    text: str = "",
    *,
    role: str = "cell",
    gid: str | None = None,
    fontsize: float = MIN_FONT_PT,
    linestyle: str = "-",
) -> FancyBboxPatch:
    """A rounded box centred on ``center`` with ``text`` in the middle.

    Args:
        ax: the axes to draw on (data coordinates).
        center: (x, y) of the box's centre.
        width, height: its size in data units.
        text: the label, matplotlib mathtext allowed (``"$h_t$"``).
        role: a key of ``PALETTE`` giving the fill colour.
        gid: the tag tests look for; defaults to ``role``.
        fontsize: of the label, in points.
        linestyle: of the outline (``":"`` for padding).

    Returns:
        The patch, already added to ``ax``; the label is in ``ax.texts``.
    """
    if role not in PALETTE:
        raise ValueError(f"unknown role {role!r}; known: {sorted(PALETTE)}")
    x, y = center
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0,rounding_size=0.08",
        facecolor=PALETTE[role],
        edgecolor=PALETTE["edge"],
        linewidth=1.2,
        linestyle=linestyle,
    )
    patch.set_gid(gid if gid is not None else role)
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return patch


def arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    label: str = "",
    label_at: tuple[float, float] | None = None,
    color: str | None = None,
    linestyle: str = "-",
    connectionstyle: str = "arc3",
    fontsize: float = MIN_FONT_PT,
    ha: str = "center",
    gid: str = "arrow",
) -> FancyArrowPatch:
    """An arrow from ``start`` to ``end``.

    Args:
        ax: the axes to draw on.
        start, end: (x, y) of the tail and of the tip.
        label: text written at ``label_at`` (default: the midpoint), in ``color``.
        color: defaults to ``PALETTE["edge"]``.
        linestyle: ``"--"`` for something that happens at another time.
        connectionstyle: matplotlib's, e.g. ``"arc3,rad=0.3"`` for a curve.
        fontsize, ha: of the label.
        gid: the tag tests look for.

    Returns:
        The arrow patch, already added to ``ax``.
    """
    color = color if color is not None else PALETTE["edge"]
    patch = FancyArrowPatch(
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
    patch.set_gid(gid)
    ax.add_patch(patch)
    if label:
        if label_at is None:
            label_at = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.text(*label_at, label, ha=ha, va="center", fontsize=fontsize, color=color)
    return patch


def path_arrow(
    ax: Axes,
    vertices: Sequence[tuple[float, float]],
    *,
    curved: bool = False,
    color: str | None = None,
    linestyle: str = "-",
    gid: str = "arrow",
) -> FancyArrowPatch:
    """An arrow along a path through ``vertices``, with its tip at the last one.

    Args:
        ax: the axes to draw on.
        vertices: the points of the path, at least two.
        curved: False joins the points with straight segments; True reads them as
            one cubic Bezier curve (exactly four points: start, two control points, end).
        color: defaults to ``PALETTE["edge"]``.
        linestyle: of the line.
        gid: the tag tests look for.

    Returns:
        The arrow patch, already added to ``ax``.
    """
    if len(vertices) < 2:
        raise ValueError("a path needs at least two vertices")
    if curved:
        if len(vertices) != 4:
            raise ValueError("a curved path is one cubic Bezier: exactly four vertices")
        codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4]
    else:
        codes = [Path.MOVETO] + [Path.LINETO] * (len(vertices) - 1)
    patch = FancyArrowPatch(
        path=Path(vertices, codes),
        arrowstyle="-|>",
        mutation_scale=13,
        color=color if color is not None else PALETTE["edge"],
        linewidth=1.4,
        linestyle=linestyle,
    )
    patch.set_gid(gid)
    ax.add_patch(patch)
    return patch


def diagram_axes(
    ax: Axes,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    row_labels: Sequence[str] = (),
    column_labels: Sequence[str] = (),
    fontsize: float = MIN_FONT_PT,
) -> None:
    """Set ``ax`` up for a diagram: these limits, equal aspect, no frame.

    Without labels the axes show no ticks at all. A diagram laid out as a table
    (one row per sentence, one column per position) may name its rows and
    columns; the names stand where tick labels go, without tick marks.

    Args:
        ax: the axes to set up.
        xlim, ylim: the limits, in data units.
        row_labels: R names for the rows drawn at y = R-1, ..., 1, 0: the first names the top row.
        column_labels: K names for the columns drawn at x = 0, 1, ..., K-1.
        fontsize: of the names.
    """
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    if not row_labels and not column_labels:
        ax.axis("off")
        return
    ax.set_yticks(range(len(row_labels)), list(reversed(row_labels)), fontsize=fontsize)
    ax.set_xticks(range(len(column_labels)), list(column_labels), fontsize=fontsize)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


def heatmap(
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
    """A (rows, cols) matrix as a heatmap, every value printed in its cell.

    Args:
        values: (R, K) numbers.
        row_labels: R labels, top to bottom; col_labels: K labels, left to right.
        cmap: a matplotlib colour map; diverging ones (``"RdBu*"``) get white text at
            both ends, the others at the low end.
        vmin, vmax: the value range the colours span.
        fmt: ``format`` spec of the printed values (``".2f"``, ``".1%"``).
        xlabel, ylabel, colorbar_label, title: texts.

    Returns:
        A figure with two axes: the heatmap and its colour bar.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {values.shape}")
    rows, cols = values.shape
    if len(row_labels) != rows or len(col_labels) != cols:
        raise ValueError(
            f"got {len(row_labels)} row and {len(col_labels)} column labels for shape {values.shape}"
        )
    size = (min(PAGE_WIDTH, max(4.5, 0.75 * cols + 3.2)), max(2.6, 0.55 * rows + 1.5))
    fig = Figure(figsize=size, dpi=FIGURE_DPI, layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    span = vmax - vmin
    for r in range(rows):
        for c in range(cols):
            v = values[r, c]
            # white text on dark cells: both ends of a diverging map, the low end of the others
            if cmap.startswith("RdBu"):
                dark = abs(v - (vmin + vmax) / 2) > 0.3 * span
            else:
                dark = (v - vmin) < 0.5 * span
            color = "white" if dark else "black"
            ax.text(c, r, format(v, fmt), ha="center", va="center", fontsize=MIN_FONT_PT, color=color)
    ax.set_xticks(range(cols), list(col_labels))
    ax.set_yticks(range(rows), list(row_labels))
    ax.tick_params(labelsize=MIN_FONT_PT)
    ax.set_xlabel(xlabel, fontsize=MIN_FONT_PT)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT_PT)
    ax.set_title(title, fontsize=TITLE_FONT_PT)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label(colorbar_label, fontsize=MIN_FONT_PT)
    colorbar.ax.tick_params(labelsize=MIN_FONT_PT)
    return fig


def plot_curves(
    ax: Axes,
    curves: Mapping[str, Sequence[float]],
    *,
    x: Sequence[float] | None = None,
    styles: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    xlabel: str = "epoch",
    ylabel: str = "",
    title: str = "",
    legend_loc: LegendLoc = "best",
) -> None:
    """Draw several series against a shared x axis, one labelled line each.

    Args:
        ax: the axes to draw on.
        curves: label -> values, all of the same length n.
        x: the n x values; defaults to 1..n (epochs counted from 1).
        styles: label -> matplotlib line style (``"--"`` for validation curves).
        colors: label -> colour; defaults to ``SERIES_COLORS`` in order.
        xlabel, ylabel, title, legend_loc: as for ``finish_axes``.

    The lines keep their labels (``line.get_label()``), and the axes are finished
    with ``finish_axes`` (grid and legend).
    """
    if not curves:
        raise ValueError("plot_curves needs at least one curve")
    lengths = {len(values) for values in curves.values()}
    if len(lengths) != 1:
        raise ValueError(f"curves must have the same length, got lengths {sorted(lengths)}")
    (n,) = lengths
    xs = np.arange(1, n + 1) if x is None else np.asarray(x, dtype=float)
    if len(xs) != n:
        raise ValueError(f"got {len(xs)} x values for curves of length {n}")
    for i, (label, values) in enumerate(curves.items()):
        color = (colors or {}).get(label, SERIES_COLORS[i % len(SERIES_COLORS)])
        ax.plot(xs, values, (styles or {}).get(label, "-"), color=color, linewidth=2, label=label)
    finish_axes(ax, xlabel=xlabel, ylabel=ylabel, title=title, legend_loc=legend_loc)


def finish_axes(
    ax: Axes,
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    legend_loc: LegendLoc = "best",
    grid_axis: Literal["both", "x", "y"] = "both",
) -> None:
    """What every plot ends with: the axes named, a title if given, a light grid and a legend.

    Args:
        ax: a plot whose lines (or bars) carry labels; the legend lists every labelled artist
            drawn so far, so draw reference lines first.
        xlabel, ylabel: the axes' names.
        title: drawn only if not empty.
        legend_loc: matplotlib's location (``"best"``, ``"upper left"``, ...).
        grid_axis: ``"both"``, or ``"x"`` / ``"y"`` (bar charts grid their value axis only).
    """
    ax.set_xlabel(xlabel, fontsize=MIN_FONT_PT)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT_PT)
    ax.tick_params(labelsize=MIN_FONT_PT)
    if title:
        ax.set_title(title, fontsize=TITLE_FONT_PT)
    ax.grid(alpha=0.3, axis=grid_axis)
    ax.legend(fontsize=MIN_FONT_PT, loc=legend_loc)


def legend_below(fig: Figure, ncol: int = 1) -> None:
    """Move the legends of ``fig``'s axes into one legend under the plots.

    For long labels or many lines, which inside the axes would hide the data.
    The legend lists every labelled artist of every axes, at ``MIN_FONT_PT``;
    constrained layout makes room for it below the axes.
    """
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    fig.legend(fontsize=MIN_FONT_PT, ncol=ncol, loc="outside lower center")


sharp_inline_figures()
