"""Chapter 6's figures draw what their captions claim: the data in the axes is checked."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.figures import ch06_embeddings as figs
from rnncourse.scratch.hierarchical_softmax import balanced_tree, huffman_tree


def test_sparse_gradient_shows_zero_rows_for_unused_words() -> None:
    dW = np.zeros((4, 3))
    dW[[1, 3]] = [[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]]
    fig = figs.plot_sparse_gradient(dW, ["a", "b", "c", "d"], [1, 3, 3])
    image = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(image), dW)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["a (x0)", "b (x1)", "c (x0)", "d (x2)"]


def test_tree_has_one_box_per_node_and_leaf_and_one_edge_per_step() -> None:
    tree = huffman_tree(np.array([8.0, 4.0, 2.0, 1.0, 1.0]))
    p = np.array([0.5, 0.2, 0.1, 0.1, 0.1])
    fig = figs.draw_tree(tree, list("abcde"), p)
    ax = fig.axes[0]
    gids = [patch.get_gid() for patch in ax.patches]
    assert gids.count("node") == 4 and gids.count("leaf") == 5
    assert sum(line.get_gid() == "edge" for line in ax.lines) == int(tree.depths.sum())
    texts = {t.get_text() for t in ax.texts}
    assert "a\n0.50" in texts and "e\n0.10" in texts
    # The most frequent word's leaf hangs from the root: its edge starts at the top (y = 0).
    assert tree.depths[0] == 1


def test_tree_leaves_are_left_to_right_in_path_order() -> None:
    fig = figs.draw_tree(balanced_tree(4), ["w0", "w1", "w2", "w3"])
    leaves = [p for p in fig.axes[0].patches if p.get_gid() == "leaf"]
    xs = [p.get_x() for p in leaves]
    assert xs == sorted(xs)  # balanced tree: word order is left to right


def test_softmax_costs_plots_the_table_on_log_axes() -> None:
    rows = [
        {
            "V": V,
            "full_dots": V,
            "balanced_depth": np.log2(V),
            "huffman_expected_depth": 0.7 * np.log2(V),
            "entropy_bits": 0.69 * np.log2(V),
            "full_us": V / 100,
            "balanced_us": 1.0,
            "huffman_us": 1.2,
        }
        for V in (1000.0, 10000.0)
    ]
    fig = figs.plot_softmax_costs(rows)
    left, right = fig.axes[:2]
    assert left.get_xscale() == "log" and right.get_yscale() == "log"
    lines = {line.get_label(): line.get_ydata() for line in left.lines}
    np.testing.assert_array_equal(lines["full softmax: V"], [1000.0, 10000.0])
    times = {line.get_label(): line.get_ydata() for line in right.lines}
    np.testing.assert_array_equal(times["full softmax"], [10.0, 100.0])


def test_word2vec_runs_draw_each_curve_and_each_heldout_bar() -> None:
    fig = figs.plot_word2vec_runs(
        {"skipgram": ([1.0, 2.0], [3.0, 2.7]), "cbow": ([0.5, 1.5], [3.1, 2.9])},
        {"skipgram": 2.9, "cbow": 3.2},
        untrained=6 * np.log(2),
    )
    left, right = fig.axes[:2]
    curve = next(line for line in left.lines if line.get_label() == "cbow")
    np.testing.assert_array_equal(curve.get_xdata(), [0.5, 1.5])
    flat = next(line for line in left.lines if "untrained" in line.get_label())
    assert abs(flat.get_ydata()[0] - 6 * np.log(2)) < 1e-12
    assert [bar.get_width() for bar in right.patches] == [2.9, 3.2]
    (marker,) = right.lines  # the untrained loss, across the bars: a vertical line
    assert list(marker.get_xdata()) == [6 * np.log(2)] * 2


def test_pmi_alignment_plots_every_pair_and_the_fitted_slope() -> None:
    pmi = np.array([-1.0, 0.0, 1.0, 2.0])
    scores = 0.5 * pmi + 0.25
    fig = figs.plot_pmi_alignment(pmi, scores)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.stack([pmi, scores], axis=1))
    fitted = next(line for line in ax.lines if "least squares" in line.get_label())
    assert "slope 0.50" in fitted.get_label()


def test_projection_places_words_and_arrows() -> None:
    points = np.array([[0.0, 0.0], [1.0, 0.5], [2.0, 2.0]])
    fig = figs.plot_projection(points, ["x", "y", "z"], [("x", "y")])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), points)
    arrows = [t for t in ax.texts if t.get_text() == ""]
    assert len(arrows) == 1 and tuple(arrows[0].xy) == (1.0, 0.5)


def test_gender_lean_bars_are_sorted_and_signed() -> None:
    fig: Figure = figs.plot_gender_lean({"nurse": -0.2, "captain": 0.15, "teacher": 0.01})
    ax = fig.axes[0]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == sorted(widths) == [-0.2, 0.01, 0.15]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["nurse", "teacher", "captain"]


PAGE_TREE_WORDS = ["the", "of", "and", "one", "in", "a", "to", "zero"]  # the page's eight most frequent
PAGE_PAIRS = [
    ("man", "woman"),
    ("king", "queen"),
    ("uncle", "aunt"),
    ("brother", "sister"),
    ("nephew", "niece"),
]


@pytest.mark.parametrize("name", ["word2vec runs", "pmi", "tree", "projection", "gender lean"])
def test_the_figures_fit_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes

    words = [w for pair in PAGE_PAIRS for w in pair]
    fig = {
        "word2vec runs": lambda: figs.plot_word2vec_runs(
            {"(1) skip-gram": ([1.0, 2.0], [3.0, 2.7])}, {"skip-gram": 2.9}, untrained=6 * np.log(2)
        ),
        "pmi": lambda: figs.plot_pmi_alignment(np.array([-1.0, 0.0, 1.0]), np.array([-0.5, 0.0, 0.5])),
        "tree": lambda: figs.draw_tree(
            huffman_tree(np.arange(16.0, 8.0, -1.0)), PAGE_TREE_WORDS, np.full(8, 0.125)
        ),
        "gender lean": lambda: figs.plot_gender_lean({"nurse": -0.2, "captain": 0.15, "homemaker": -0.25}),
        "projection": lambda: figs.plot_projection(
            np.random.default_rng(0).normal(size=(len(words), 2)), words, PAGE_PAIRS
        ),
    }[name]()
    assert fig.get_size_inches()[0] <= PAGE_WIDTH + 1e-9
    assert [(t, s) for t, s in text_sizes(fig) if s < MIN_FONT_PT] == []
