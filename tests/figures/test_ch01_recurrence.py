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

from rnncourse.data import Vocabulary, pad_batch, tokenize
from rnncourse.data.toy import SENTIMENT_CLASSES, TOY_CORPUS, TRACE_SENTENCE
from rnncourse.figures import (
    draw_io_patterns,
    draw_padding_vs_steps,
    draw_step_shapes,
    draw_unrolled,
    plot_activations,
    plot_hidden_states,
    plot_step_outputs,
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


def test_draw_io_patterns_has_the_four_patterns() -> None:
    fig = draw_io_patterns()
    axes = fig.axes
    assert len(axes) == 4
    titles = [ax.get_title() for ax in axes]
    for title, name in zip(titles, ["one-to-many", "many-to-one", "encoder-decoder", "many-to-many"]):
        assert name in title
    assert (
        "caption" in titles[0]
        and "sentiment" in titles[1]
        and "translation" in titles[2]
        and "forecast" in titles[3]
    )
    counts = [(len(gids(ax, "input")), len(gids(ax, "output"))) for ax in axes]
    assert counts == [(1, 4), (4, 1), (3, 3), (4, 4)]
    assert len(gids(axes[2], "encoder")) == 3 and len(gids(axes[2], "decoder")) == 3
    assert "$x$" in texts(axes[0]) and "$y$" in texts(axes[1])
    assert renders(fig)


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
import rnncourse.figures as figures
from rnncourse.data.toy import TOY_CORPUS
made = [
    figures.draw_unrolled(), figures.draw_step_shapes(), figures.draw_padding_vs_steps(TOY_CORPUS),
    figures.draw_io_patterns(), figures.plot_activations(),
    figures.plot_hidden_states(np.zeros((2, 3)), ["a", "b"]),
    figures.plot_step_outputs(np.full((2, 3), 1 / 3), ["a", "b"], ["x", "y", "z"]),
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
    assert result.stdout.strip() == "7"
    assert len(list(tmp_path.glob("fig*.png"))) == 7


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
