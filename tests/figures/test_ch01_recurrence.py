"""Chapter 1's figures, and the link between the chapter's worked example and the package.

The figure tests check structure, not pixels: each function returns a
``Figure`` with the expected axes, the expected number of tagged patches
(cells, inputs, outputs, ...) and labels that contain the chapter's symbols,
and it renders to PNG without a display.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnncourse.data.text import Vocabulary, pad_batch, tokenize
from rnncourse.data.toy import (
    CAPTION_STEPS,
    FORECAST_DAYS,
    SENTIMENT_CLASSES,
    TOY_CORPUS,
    TRACE_SENTENCE,
    TRANSLATION_PAIR,
)
from rnncourse.figures.ch01_recurrence import (
    IOPattern,
    Step,
    draw_io_patterns,
    draw_padding_vs_steps,
    draw_step_shapes,
    draw_unrolled,
    encoder_decoder,
    many_to_one,
    one_to_many,
    plot_activations,
    plot_hidden_states,
    plot_step_outputs,
    plot_training,
    synced_many_to_many,
)
from rnncourse.scratch.activations import softmax
from rnncourse.scratch.dense import dense_forward
from rnncourse.scratch.rnn import rnn_forward, rnn_step_forward

CHAPTER = Path(__file__).resolve().parents[2] / "book" / "ch01_recurrence.ipynb"


# -- helpers -------------------------------------------------------------------------


def gids(ax, gid: str) -> list:
    return [patch for patch in ax.patches if patch.get_gid() == gid]


def texts(container) -> list[str]:
    """Every text drawn in a figure or an axes (titles and tick labels included)."""
    return [t.get_text() for t in container.findobj(lambda artist: hasattr(artist, "get_text"))]


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue().startswith(b"\x89PNG")


# -- the diagrams --------------------------------------------------------------------


@pytest.mark.parametrize("steps", [1, 4, 7])
def test_draw_unrolled_has_one_cell_per_step_and_shared_weight_labels(steps: int) -> None:
    fig = draw_unrolled(steps)
    assert isinstance(fig, Figure)
    folded, unrolled = fig.axes
    assert len(gids(folded, "cell")) == 1
    assert len(gids(unrolled, "cell")) == steps
    assert len(gids(unrolled, "input")) == steps
    assert len(gids(unrolled, "output")) == steps
    assert len(gids(unrolled, "state")) == 1  # h_0
    labels = texts(unrolled)
    for t in range(1, steps + 1):
        for symbol in ("x", "h", "y"):
            assert f"${symbol}_{{{t}}}$" in labels
    # the same three weight matrices label every step: W_hh on every link, W_xh and W_hy on every cell
    assert labels.count("$W_{hh}$") == steps
    assert labels.count("$W_{xh}$") == steps
    assert labels.count("$W_{hy}$") == steps
    folded_labels = texts(folded)
    for symbol in ("$x_t$", "$h_t$", "$y_t$", "$W_{hh}$", "$W_{xh}$", "$W_{hy}$"):
        assert symbol in folded_labels
    assert "h_{t-1}" in fig._suptitle.get_text()
    assert renders(fig)


def test_draw_unrolled_rejects_zero_steps() -> None:
    with pytest.raises(ValueError):
        draw_unrolled(0)


def test_draw_step_shapes_fills_in_every_shape() -> None:
    N, D, H, C = 2, 5, 7, 3
    fig = draw_step_shapes(N=N, D=D, H=H, C=C)
    (ax,) = fig.axes
    assert len(gids(ax, "array")) == 6  # x_t, h_{t-1}, two products, h_t, y_t
    labels = "\n".join(texts(ax))
    assert f"(N, D) = ({N}, {D})" in labels
    assert f"(N, H) = ({N}, {H})" in labels
    assert f"(N, C) = ({N}, {C})" in labels
    assert f"(D, H) = ({D}, {H})" in labels
    assert f"(H, H) = ({H}, {H})" in labels
    assert f"(H, C) = ({H}, {C})" in labels
    for symbol in ("x_t", "h_{t-1}", "h_t", "y_t", "W_{xh}", "W_{hh}", "W_{hy}", "b_h"):
        assert symbol in labels
    assert renders(fig)


@pytest.mark.parametrize("max_len", [20, 3])
def test_draw_padding_vs_steps_counts_tokens_and_padding(max_len: int) -> None:
    sentences = list(TOY_CORPUS)
    fig = draw_padding_vs_steps(sentences, max_len=max_len)
    padded, stepwise = fig.axes
    kept = [min(len(tokenize(s)), max_len) for s in sentences]
    assert len(gids(padded, "token")) == sum(kept)
    assert len(gids(padded, "pad")) == len(sentences) * max_len - sum(kept)
    assert len(gids(stepwise, "step")) == sum(kept)
    # the cells show the indices of pad_batch
    ids, _ = pad_batch([Vocabulary.build(sentences).encode(s) for s in sentences], max_len)
    shown = [int(t.get_text()) for t in padded.texts]  # one text per cell, row by row
    assert sorted(shown) == sorted(ids.ravel().tolist())
    pad_share = 1 - sum(kept) / (len(sentences) * max_len)
    assert f"({len(sentences)}, {max_len}) array, {pad_share:.0%}" in padded.get_title()
    stepwise_labels = texts(stepwise)
    for length in kept:
        assert f"$\\to h_{{{length}}}$" in stepwise_labels
        assert f"T = {length}" in stepwise_labels
    assert renders(fig)


def test_draw_padding_vs_steps_needs_sentences() -> None:
    with pytest.raises(ValueError):
        draw_padding_vs_steps([])


def _box_labels(ax, gid: str) -> list[str]:
    """The labels of the boxes tagged ``gid``, left to right (a label sits at its box's centre)."""
    centres = {}
    for patch in gids(ax, gid):
        x0, y0, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
        centres[(round(x0 + w / 2, 6), round(y0 + h / 2, 6))] = x0 + w / 2
    found = [
        (t.get_position()[0], t.get_text())
        for t in ax.texts
        if (round(t.get_position()[0], 6), round(t.get_position()[1], 6)) in centres
    ]
    assert len(found) == len(centres), "every box has exactly one label at its centre"
    return [label for _, label in sorted(found)]


def _centre(patch) -> tuple[float, float]:
    return patch.get_x() + patch.get_width() / 2, patch.get_y() + patch.get_height() / 2


def _arrow_ends(arrow) -> tuple[np.ndarray, np.ndarray]:
    """Tail and tip, in data coordinates, of an arrow drawn between two points or along a path."""
    if arrow._posA_posB is not None:  # matplotlib keeps the data-coordinate ends of a two-point arrow here
        start, end = arrow._posA_posB
        return np.asarray(start), np.asarray(end)
    vertices = arrow._path_original.vertices  # and the data-coordinate path of a path arrow here
    return np.asarray(vertices[0]), np.asarray(vertices[-1])


def _inside(point: np.ndarray, patch, slack: float = 1e-6) -> bool:
    x0, y0 = patch.get_x(), patch.get_y()
    return (
        x0 - slack <= point[0] <= x0 + patch.get_width() + slack
        and y0 - slack <= point[1] <= y0 + patch.get_height() + slack
    )


def _count_arrows_between(ax, start_gid: str, end_gid: str, arrow_gid: str) -> int:
    """Arrows tagged ``arrow_gid`` whose tail touches a ``start_gid`` box and tip an ``end_gid`` box."""
    count = 0
    for arrow in gids(ax, arrow_gid):
        tail, tip = _arrow_ends(arrow)
        if any(_inside(tail, b) for b in gids(ax, start_gid)) and any(
            _inside(tip, b) for b in gids(ax, end_gid)
        ):
            count += 1
    return count


def test_draw_io_patterns_default_has_the_four_patterns_of_the_chapter() -> None:
    fig = draw_io_patterns()
    axes = fig.axes
    assert len(axes) == 4
    titles = [ax.get_title() for ax in axes]
    for title, name in zip(titles, ["one-to-many", "many-to-one", "encoder-decoder", "many-to-many"]):
        assert name in title
    assert "caption" in titles[0] and "sentiment" in titles[1]
    assert "translation" in titles[2] and "forecast" in titles[3]
    assert renders(fig)


def test_one_to_many_feeds_every_output_back_as_the_next_input() -> None:
    (ax,) = draw_io_patterns([one_to_many(CAPTION_STEPS)]).axes
    T = CAPTION_STEPS
    assert len(gids(ax, "cell")) == T and len(gids(ax, "initial")) == 1  # the image sets h_0
    assert _box_labels(ax, "input") == ["<bos>"] + [f"$x_{{{t}}}$" for t in range(2, T + 1)]
    assert _box_labels(ax, "output") == [f"$y_{{{t}}}$" for t in range(1, T + 1)]
    # y_t -> x_{t+1}: every feedback arrow leaves an output box and ends in the next column's input box
    feedback = gids(ax, "feedback")
    assert len(feedback) == T - 1
    assert _count_arrows_between(ax, "output", "input", "feedback") == T - 1
    outputs = sorted(gids(ax, "output"), key=lambda b: b.get_x())
    inputs = sorted(gids(ax, "input"), key=lambda b: b.get_x())
    for arrow in feedback:
        tail, tip = _arrow_ends(arrow)
        t = next(i for i, b in enumerate(outputs) if _inside(tail, b))
        assert _inside(tip, inputs[t + 1]), f"the feedback arrow from y_{t + 1} must reach x_{t + 2}"


def test_many_to_one_reads_the_last_real_step_not_the_padding() -> None:
    lengths = [len(tokenize(s)) for s in TOY_CORPUS]
    (ax,) = draw_io_patterns([many_to_one()]).axes
    T, padded = lengths[0], max(lengths) - lengths[0]
    assert len(gids(ax, "cell")) == T and len(gids(ax, "pad")) == padded
    assert _box_labels(ax, "input") == [f"$x_{{{t}}}$" for t in range(1, T + 1)] + ["pad"] * padded
    assert len(gids(ax, "output")) == 1 and len(gids(ax, "feedback")) == 0
    (read_out,) = gids(ax, "read-out")
    cells = sorted(gids(ax, "cell"), key=lambda b: b.get_x())
    tail, tip = _arrow_ends(read_out)
    assert _inside(tail, cells[-1]), "y is read from the cell of the last real token"
    assert _inside(tip, gids(ax, "output")[0])
    # without padding the output sits on the last cell itself
    (ax,) = draw_io_patterns([many_to_one(steps=3, padded=0)]).axes
    assert len(gids(ax, "read-out")) == 0 and len(gids(ax, "pad")) == 0
    assert _count_arrows_between(ax, "cell", "output", "arrow") == 1


def test_encoder_decoder_decoder_cells_read_the_previous_target_token() -> None:
    source, target = TRANSLATION_PAIR
    (ax,) = draw_io_patterns([encoder_decoder()]).axes
    T_src, T_tgt = len(tokenize(source)), len(tokenize(target))
    assert len(gids(ax, "encoder")) == T_src and len(gids(ax, "decoder")) == T_tgt + 1
    # every cell has an input: the source tokens, then <bos> and the previous target tokens
    expected_inputs = [f"$x_{{{t}}}$" for t in range(1, T_src + 1)] + ["<bos>"]
    expected_inputs += [f"$y_{{{t}}}$" for t in range(1, T_tgt + 1)]
    assert _box_labels(ax, "input") == expected_inputs
    assert _box_labels(ax, "output") == [f"$y_{{{t}}}$" for t in range(1, T_tgt + 1)] + ["<eos>"]
    assert _count_arrows_between(ax, "input", "decoder", "arrow") == T_tgt + 1
    assert _count_arrows_between(ax, "encoder", "decoder", "arrow") == 1  # the context
    assert "context" in texts(ax)


def test_synced_many_to_many_has_an_input_and_an_output_at_every_step() -> None:
    (ax,) = draw_io_patterns([synced_many_to_many(FORECAST_DAYS)]).axes
    T = FORECAST_DAYS
    assert len(gids(ax, "cell")) == T
    assert _count_arrows_between(ax, "input", "cell", "arrow") == T
    assert _count_arrows_between(ax, "cell", "output", "arrow") == T
    assert _count_arrows_between(ax, "cell", "cell", "arrow") == T - 1


def test_patterns_are_data_that_the_drawing_follows() -> None:
    custom = IOPattern("custom", "test", (Step(input="a"), Step(input=None, output="b", feeds_next=False)))
    (ax,) = draw_io_patterns([custom]).axes
    assert _box_labels(ax, "input") == ["a"] and _box_labels(ax, "output") == ["b"]
    assert len(draw_io_patterns([one_to_many(2), many_to_one(2, 1), synced_many_to_many(1)]).axes) == 3
    for bad in (lambda: one_to_many(0), lambda: many_to_one(0), lambda: synced_many_to_many(0)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(ValueError):
        draw_io_patterns([])


def test_plot_training_draws_both_curves_of_every_model_and_the_floor() -> None:
    curves = {
        "RNN": ([0.7, 0.2, 0.01], [0.6, 0.1, 0.02]),
        "bag of words": ([0.7, 0.6, 0.4], [0.7, 0.5, 0.45]),
    }
    (ax,) = plot_training(curves, floor=0.35).axes
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {
        "RNN, training",
        "RNN, validation",
        "bag of words, training",
        "bag of words, validation",
        "order-free floor",
    }
    np.testing.assert_array_equal(lines["bag of words, validation"].get_ydata(), [0.7, 0.5, 0.45])
    np.testing.assert_array_equal(lines["RNN, training"].get_xdata(), [1, 2, 3])  # epochs from 1
    assert lines["order-free floor"].get_ydata()[0] == 0.35
    assert lines["RNN, training"].get_color() == lines["RNN, validation"].get_color()
    assert lines["RNN, training"].get_color() != lines["bag of words, training"].get_color()
    assert lines["RNN, validation"].get_linestyle() == "--"
    assert renders(plot_training(curves))


def test_plot_activations_draws_tanh_and_relu() -> None:
    fig = plot_activations(-3.0, 3.0)
    f_ax, df_ax = fig.axes
    lines = {line.get_label(): line for line in f_ax.lines if not line.get_label().startswith("_")}
    assert set(lines) == {"tanh", "ReLU"}
    a = lines["tanh"].get_xdata()
    assert a.min() == -3.0 and a.max() == 3.0
    np.testing.assert_allclose(lines["tanh"].get_ydata(), np.tanh(a))
    np.testing.assert_allclose(lines["ReLU"].get_ydata(), np.maximum(a, 0))
    derivative_labels = [line.get_label() for line in df_ax.lines if not line.get_label().startswith("_")]
    assert len(derivative_labels) == 2
    with pytest.raises(ValueError):
        plot_activations(1.0, 1.0)
    assert renders(fig)


def test_plot_hidden_states_is_a_steps_by_units_heatmap() -> None:
    h = np.tanh(np.random.default_rng(0).normal(size=(4, 8)))
    tokens = ["i", "love", "machine", "learning"]
    fig = plot_hidden_states(h, tokens)
    assert len(fig.axes) == 2  # heatmap and colour bar
    ax = fig.axes[0]
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), h)
    assert image.get_clim() == (-1.0, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"t={t}: {w}" for t, w in enumerate(tokens, 1)]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(j) for j in range(1, 9)]
    assert len(ax.texts) == h.size  # one value per cell
    assert ax.texts[0].get_text() == format(h[0, 0], ".2f")
    assert renders(fig)
    with pytest.raises(ValueError):
        plot_hidden_states(h[None], tokens)
    with pytest.raises(ValueError):
        plot_hidden_states(h, tokens[:3])


def test_plot_step_outputs_is_a_steps_by_classes_heatmap() -> None:
    probs = softmax(np.random.default_rng(1).normal(size=(5, 3)))
    tokens = tokenize(TRACE_SENTENCE)
    fig = plot_step_outputs(probs, tokens, SENTIMENT_CLASSES)
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(SENTIMENT_CLASSES)
    assert len(ax.texts) == probs.size
    assert ax.texts[-1].get_text() == format(probs[-1, -1], ".1%")
    assert "O_t" in ax.get_title()
    with pytest.raises(ValueError):
        plot_step_outputs(probs, tokens, SENTIMENT_CLASSES[:2])
    assert renders(fig)


def test_figures_do_not_use_pyplot_state() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    draw_unrolled()
    draw_io_patterns()
    plot_hidden_states(np.zeros((2, 3)), ["a", "b"])
    assert plt.get_fignums() == before  # nothing registered with pyplot, nothing to close


def test_figures_render_headless_in_a_fresh_process(tmp_path: Path) -> None:
    script = """
import numpy as np
from rnncourse.figures import ch01_recurrence as figures
from rnncourse.data.toy import TOY_CORPUS
made = [
    figures.draw_unrolled(), figures.draw_step_shapes(), figures.draw_padding_vs_steps(TOY_CORPUS),
    figures.draw_io_patterns(), figures.plot_activations(),
    figures.plot_hidden_states(np.zeros((2, 3)), ["a", "b"]),
    figures.plot_step_outputs(np.full((2, 3), 1 / 3), ["a", "b"], ["x", "y", "z"]),
    figures.plot_training({"m": ([1.0, 0.5], [1.0, 0.6])}, floor=0.3),
]
for i, fig in enumerate(made):
    fig.savefig(f"fig{i}.png", dpi=30)
print(len(made))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "Agg"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8"
    assert len(list(tmp_path.glob("fig*.png"))) == 8


# -- the worked example comes from the package ---------------------------------------


def _notebook_cells() -> list[dict]:
    return json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]


def _cell(marker: str) -> dict:
    matches = [c for c in _notebook_cells() if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert len(matches) == 1, (
        f"expected one code cell containing {marker!r} in {CHAPTER.name}, got {len(matches)}"
    )
    return matches[0]


def _stdout(cell: dict) -> str:
    return "".join("".join(o["text"]) for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _worked_example_seed() -> int:
    source = "".join(_cell("W_xh = rng.normal")["source"])
    match = re.search(r"rng = np\.random\.default_rng\((\d+)\)", source)
    assert match, "the worked example should draw its weights from np.random.default_rng(<seed>)"
    return int(match.group(1))


def worked_example(seed: int) -> dict[str, np.ndarray]:
    """The chapter's recipe: the same draws, in the same order, as the notebook cell."""
    vocab = Vocabulary.build(TOY_CORPUS)
    D, H, C = 4, 8, len(SENTIMENT_CLASSES)
    rng = np.random.default_rng(seed)
    E = rng.normal(0.0, 1.0, size=(len(vocab), D))
    W_xh = rng.normal(0.0, 1 / np.sqrt(D), size=(H, D))
    W_hh = rng.normal(0.0, 1 / np.sqrt(H), size=(H, H))
    b_h = np.zeros(H)
    W_hy = rng.normal(0.0, 1 / np.sqrt(H), size=(C, H))
    b_y = np.zeros(C)
    x = E[vocab.encode(TOY_CORPUS[0])][None]
    return {"x": x, "W_xh": W_xh, "W_hh": W_hh, "b_h": b_h, "W_hy": W_hy, "b_y": b_y}


@pytest.mark.parametrize("seed", [0, 2024])
def test_worked_example_steps_agree_with_rnn_forward_and_the_column_equation(seed: int) -> None:
    ex = worked_example(seed)
    x, W_xh, W_hh, b_h = ex["x"], ex["W_xh"], ex["W_hh"], ex["b_h"]
    assert x.shape == (1, 4, 4) and W_xh.shape == (8, 4) and W_hh.shape == (8, 8)
    h_all, _ = rnn_forward(x, np.zeros((1, 8)), W_xh, W_hh, b_h)
    h_prev = np.zeros((1, 8))
    h_col = np.zeros(8)
    for t in range(4):
        h_prev, _ = rnn_step_forward(x[:, t], h_prev, W_xh, W_hh, b_h)
        # the book's column-vector equation, written independently of the package
        h_col = np.tanh(W_xh @ x[0, t] + W_hh @ h_col + b_h)
        np.testing.assert_allclose(h_prev, h_all[:, t], rtol=0, atol=1e-12)
        np.testing.assert_allclose(h_prev[0], h_col, rtol=0, atol=1e-12)
    # the states really depend on the order of the words
    h_rev, _ = rnn_forward(x[:, ::-1], np.zeros((1, 8)), W_xh, W_hh, b_h)
    assert not np.allclose(h_rev[:, -1], h_all[:, -1])


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+\.\d+", text)])


def test_the_chapter_prints_the_states_and_probabilities_the_package_computes() -> None:
    seed = _worked_example_seed()
    ex = worked_example(seed)
    h, _ = rnn_forward(ex["x"], np.zeros((1, 8)), ex["W_xh"], ex["W_hh"], ex["b_h"])

    printed = _stdout(_cell("h_prev, _ = rnn_step_forward(x_t[None]"))
    rows = [line.split(":", 1)[1] for line in printed.splitlines() if line.startswith("h_")]
    assert len(rows) == 4, printed
    stored = np.stack([_numbers(row) for row in rows])
    np.testing.assert_allclose(stored, h[0], rtol=0, atol=6e-5)  # printed with 4 decimals
    assert "rnn_forward gives the same states: True" in printed

    probs = softmax(dense_forward(h[:, -1], ex["W_hy"], ex["b_y"])[0])[0]
    printed = _stdout(_cell("probs = softmax(logits)"))
    stored = {
        line.split()[0]: float(line.split()[1].rstrip("%")) / 100
        for line in printed.splitlines()
        if line.strip() and line.split()[0] in SENTIMENT_CLASSES
    }
    assert list(stored) == list(SENTIMENT_CLASSES)
    np.testing.assert_allclose([stored[c] for c in SENTIMENT_CLASSES], probs, rtol=0, atol=6e-4)


def test_the_chapter_uses_the_package_rather_than_its_own_rnn() -> None:
    """No code cell defines its own step or forward function, or writes tanh(... @ W_hh ...)."""
    for cell in _notebook_cells():
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
        tree = ast.parse(python)
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert not defined & {"rnn_step_forward", "rnn_forward", "rnn_step", "step"}, defined
        assert not re.search(r"tanh\([^)]*W_hh", source), source


def test_the_chapter_is_a_python3_notebook_with_a_single_title() -> None:
    notebook = json.loads(CHAPTER.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    headings = [
        line
        for cell in notebook["cells"]
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("#")
    ]
    assert sum(1 for line in headings if line.startswith("# ")) == 1 and headings[0].startswith("# ")
    levels = [len(line) - len(line.lstrip("#")) for line in headings]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), "a heading level is skipped"


# -- the page's rules: a figure fits the column and its text reads like the body text ------


def _chapter_figures() -> dict[str, Figure]:
    rng = np.random.default_rng(0)
    return {
        "unrolled": draw_unrolled(4),
        "step shapes": draw_step_shapes(3, 4, 8, 3),
        "padding": draw_padding_vs_steps(TOY_CORPUS, max_len=20),
        "patterns": draw_io_patterns(),
        "activations": plot_activations(),
        "hidden states": plot_hidden_states(
            np.tanh(rng.normal(size=(4, 8))), ["i", "love", "machine", "learning"]
        ),
        "step outputs": plot_step_outputs(
            np.full((5, 3), 1 / 3), tokenize(TRACE_SENTENCE), SENTIMENT_CLASSES
        ),
        "training": plot_training(
            {"RNN": ([0.7, 0.1], [0.7, 0.2]), "bag of words": ([0.7, 0.5], [0.7, 0.5])}, 0.35
        ),
    }


@pytest.mark.parametrize("name", list(_chapter_figures()))
def test_every_figure_fits_the_page_with_labels_as_large_as_the_text(name: str) -> None:
    from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes

    fig = _chapter_figures()[name]
    assert fig.get_size_inches()[0] <= PAGE_WIDTH + 1e-9
    small = [(text, size) for text, size in text_sizes(fig) if size < MIN_FONT_PT]
    assert small == [], f"{name}: texts below {MIN_FONT_PT} pt: {small}"
