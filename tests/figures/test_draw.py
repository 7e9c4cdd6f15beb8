"""The shared drawing kit: boxes, arrows, heatmaps, curves and sizing do what their docstrings say."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.colors import to_hex

from rnncourse.figures._draw import (
    BODY_TEXT_PX,
    FIGURE_DPI,
    MIN_FONT_PT,
    PAGE_WIDTH,
    PALETTE,
    SERIES_COLORS,
    arrow,
    box,
    diagram_axes,
    finish_axes,
    heatmap,
    legend_below,
    new_figure,
    path_arrow,
    plot_curves,
    text_sizes,
)


def _axes():
    return new_figure(0.5, 0.5).subplots()


def test_new_figure_is_sized_in_page_widths_at_most_one() -> None:
    fig = new_figure(0.75, 0.25)
    assert tuple(fig.get_size_inches()) == pytest.approx((0.75 * PAGE_WIDTH, 0.25 * PAGE_WIDTH))
    assert fig.dpi == FIGURE_DPI
    assert fig.axes == []
    for bad in ((0, 1), (1, -0.1), (1.5, 0.25)):  # wider than the column: it would scroll
        with pytest.raises(ValueError):
            new_figure(*bad)


def test_the_smallest_text_is_at_least_the_body_text_on_the_page() -> None:
    """MIN_FONT_PT points at FIGURE_DPI (a figure's CSS pixels per inch) reach the site's body text."""
    assert MIN_FONT_PT * FIGURE_DPI / 72 >= BODY_TEXT_PX
    assert PAGE_WIDTH * FIGURE_DPI <= 740  # the text column at a 1280-px window


def test_text_sizes_lists_what_is_drawn_and_skips_hidden_ticks() -> None:
    fig = new_figure(0.5, 0.5)
    diagram_ax, plot_ax = fig.subplots(1, 2)
    diagram_axes(diagram_ax, (0, 1), (0, 1))  # no names: its ticks are not drawn
    box(diagram_ax, (0.5, 0.5), 0.5, 0.5, "$h_t$", fontsize=14)
    plot_ax.plot([0, 1], [0, 1])
    plot_ax.tick_params(labelsize=7)
    plot_ax.set_xlabel("time", fontsize=9)
    sizes = dict(text_sizes(fig))
    assert sizes["$h_t$"] == 14 and sizes["time"] == 9
    tick_sizes = [size for text, size in text_sizes(fig) if text not in ("$h_t$", "time")]
    assert tick_sizes and set(tick_sizes) == {7}  # the plot's ticks, and none of the diagram's


def test_box_is_centred_coloured_by_role_tagged_and_labelled() -> None:
    ax = _axes()
    patch = box(ax, (2.0, 1.0), 1.0, 0.5, "$h_t$", role="input")
    assert (patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()) == (1.5, 0.75, 1.0, 0.5)
    assert to_hex(patch.get_facecolor()) == PALETTE["input"]
    assert patch.get_gid() == "input"  # the role, unless a gid is given
    assert box(ax, (0, 0), 1, 1, role="cell", gid="array").get_gid() == "array"
    (label,) = ax.texts  # the unlabelled box added no text
    assert label.get_text() == "$h_t$" and label.get_position() == (2.0, 1.0)
    with pytest.raises(ValueError, match="unknown role"):
        box(ax, (0, 0), 1, 1, role="nonsense")


def test_arrows_keep_their_ends_label_colour_and_gid() -> None:
    ax = _axes()
    a = arrow(ax, (0, 0), (2, 4), label="$W$", color=PALETTE["weight"], gid="weight-arrow")
    assert a.get_gid() == "weight-arrow"
    assert to_hex(a.get_edgecolor()) == PALETTE["weight"]
    (label,) = ax.texts
    assert label.get_text() == "$W$" and label.get_position() == (1.0, 2.0)  # the midpoint by default
    assert to_hex(arrow(ax, (0, 0), (1, 0)).get_edgecolor()) == PALETTE["edge"]


def test_path_arrow_straight_or_one_bezier() -> None:
    ax = _axes()
    straight = path_arrow(ax, [(0, 0), (1, 0), (1, 1)])
    curved = path_arrow(ax, [(0, 0), (1, 1), (2, 1), (3, 0)], curved=True, gid="loop")
    assert straight.get_gid() == "arrow" and curved.get_gid() == "loop"
    np.testing.assert_array_equal(straight._path_original.vertices, [(0, 0), (1, 0), (1, 1)])
    assert len(curved._path_original.codes) == 4
    with pytest.raises(ValueError):
        path_arrow(ax, [(0, 0)])
    with pytest.raises(ValueError):
        path_arrow(ax, [(0, 0), (1, 1), (2, 2)], curved=True)


def test_diagram_axes_sets_limits_and_hides_the_frame() -> None:
    ax = _axes()
    diagram_axes(ax, (-1, 3), (0, 2))
    assert ax.get_xlim() == (-1, 3) and ax.get_ylim() == (0, 2)
    assert not ax.axison and ax.get_aspect() == 1.0


def test_diagram_axes_names_rows_top_down_and_columns_left_to_right() -> None:
    ax = _axes()
    diagram_axes(ax, (-0.5, 2.5), (-0.5, 1.5), row_labels=["top", "bottom"], column_labels=["a", "b", "c"])
    assert ax.axison and ax.get_aspect() == 1.0
    rows = {tick: label.get_text() for tick, label in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert rows == {1: "top", 0: "bottom"}  # the first name is the top row, drawn at y = R - 1
    columns = {tick: label.get_text() for tick, label in zip(ax.get_xticks(), ax.get_xticklabels())}
    assert columns == {0: "a", 1: "b", 2: "c"}
    assert not any(side.get_visible() for side in ax.spines.values())  # still no frame
    assert all(tick.tick1line.get_markersize() == 0 for tick in ax.yaxis.get_major_ticks())
    only_rows = _axes()
    diagram_axes(only_rows, (0, 1), (0, 1), row_labels=["r"])
    assert list(only_rows.get_xticks()) == []  # unnamed columns get no ticks


def test_legend_below_gathers_every_axes_labels_into_one_legend_under_the_plots() -> None:
    fig = new_figure(1.0, 0.5)
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [1, 0], label="training")
    right.plot([0, 1], [0, 1], label="a label long enough to hide a curve inside the axes")
    finish_axes(left)
    finish_axes(right)
    legend_below(fig, ncol=2)
    assert left.get_legend() is None and right.get_legend() is None
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "training",
        "a label long enough to hide a curve inside the axes",
    ]
    assert {t.get_fontsize() for t in legend.get_texts()} == {MIN_FONT_PT}
    fig.canvas.draw()  # laid out: the legend sits below both axes
    lowest_axes = min(ax.get_window_extent().y0 for ax in fig.axes)
    assert legend.get_window_extent().y1 <= lowest_axes


def test_finish_axes_names_grids_and_lists_the_labelled_lines() -> None:
    ax = _axes()
    ax.plot([0, 1], [1, 0], label="loss")
    ax.axhline(0.5)  # unlabelled: not in the legend
    finish_axes(ax, xlabel="step", ylabel="nats", legend_loc="upper left")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("step", "nats", "")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["loss"]
    assert legend._loc == 2  # matplotlib's code for "upper left"
    assert all(line.get_visible() for line in ax.xaxis.get_gridlines() + ax.yaxis.get_gridlines())
    bars = _axes()
    bars.bar([0, 1], [2.0, 3.0], label="score")
    finish_axes(bars, title="scores", grid_axis="y")
    assert bars.get_title() == "scores"
    assert any(line.get_visible() for line in bars.yaxis.get_gridlines())
    assert not any(line.get_visible() for line in bars.xaxis.get_gridlines())


def test_heatmap_prints_every_value_and_spans_the_given_range() -> None:
    values = np.array([[0.1, -0.9, 0.0], [1.0, 0.5, -0.25]])
    fig = heatmap(
        values,
        ["r1", "r2"],
        ["a", "b", "c"],
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        fmt=".2f",
        xlabel="x",
        ylabel="y",
        colorbar_label="v",
        title="t",
    )
    ax, _colorbar = fig.axes
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), values)
    assert image.get_clim() == (-1, 1)
    assert [t.get_text() for t in ax.texts] == [format(v, ".2f") for v in values.ravel()]
    # white text where the diverging map is dark (far from its middle), black near the middle
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["-0.90"] == "white" and colours["1.00"] == "white" and colours["0.10"] == "black"
    with pytest.raises(ValueError):
        heatmap(
            values,
            ["r1"],
            ["a", "b", "c"],
            cmap="viridis",
            vmin=0,
            vmax=1,
            fmt=".1f",
            xlabel="",
            ylabel="",
            colorbar_label="",
            title="",
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30)
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_plot_curves_draws_one_labelled_line_per_series() -> None:
    ax = _axes()
    plot_curves(ax, {"train": [3.0, 2.0, 1.0], "val": [3.5, 2.5, 2.0]}, styles={"val": "--"}, ylabel="loss")
    train, val = ax.lines
    assert (train.get_label(), val.get_label()) == ("train", "val")
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(val.get_ydata(), [3.5, 2.5, 2.0])
    assert val.get_linestyle() == "--" and train.get_linestyle() == "-"
    assert (train.get_color(), val.get_color()) == SERIES_COLORS[:2]
    assert ax.get_legend() is not None and ax.get_ylabel() == "loss" and ax.get_xlabel() == "epoch"
    plot_curves(ax, {"x-given": [1.0, 0.0]}, x=[10, 20], colors={"x-given": "#000000"})
    np.testing.assert_array_equal(ax.lines[-1].get_xdata(), [10, 20])
    assert ax.lines[-1].get_color() == "#000000"
    for bad in ({}, {"a": [1.0], "b": [1.0, 2.0]}):
        with pytest.raises(ValueError):
            plot_curves(ax, bad)
    with pytest.raises(ValueError):
        plot_curves(ax, {"a": [1.0, 2.0]}, x=[1])
