"""The exercise checks, called directly: they pass right answers and name wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse import grading


def cell(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def forward(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = cell(x[:, t], h, W_xh, W_hh, b_h)
        states.append(h)
    return np.stack(states, axis=1)


def stable_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_right_answers_pass() -> None:
    grading.check_rnn_cell_forward(cell)
    grading.check_rnn_forward(forward)
    grading.check_softmax(stable_softmax)
    grading.check_classify(
        lambda x, h0, a, b, c, W, y: stable_softmax(forward(x, h0, a, b, c)[:, -1] @ W.T + y)
    )


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B.T), "bias b_h is missing"),
        (lambda x, h, A, B, b: np.maximum(x @ A.T + h @ B.T + b, 0), "not ReLU"),
        (lambda x, h, A, B, b: x @ A.T + h @ B.T + b, "no activation"),
        (lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B + b), "W_hh is transposed"),
        (lambda x, h, A, B, b: np.tanh(x @ A.T + b), "h_prev is ignored"),
        (lambda x, h, A, B, b: np.tanh(x @ A + h @ B.T + b), "raised ValueError"),
        (lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B.T + b)[:, :-1], "shape"),
        (lambda x, h, A, B, b: (np.tanh(x @ A.T + h @ B.T + b), None), "tuple"),
    ],
)
def test_cell_mistakes_are_named(wrong, message: str) -> None:
    with pytest.raises(grading.GradingFailure, match=message):
        grading.check_rnn_cell_forward(wrong)


def test_in_place_modification_is_named() -> None:
    def modifies(x, h, A, B, b):
        h += 0.0 * h + 1.0
        return np.tanh(x @ A.T + h @ B.T + b)

    with pytest.raises(grading.GradingFailure, match="in place"):
        grading.check_rnn_cell_forward(modifies)


def test_sequence_mistakes_are_named() -> None:
    with pytest.raises(grading.GradingFailure, match="starts again from h0"):
        grading.check_rnn_forward(
            lambda x, h0, A, B, b: np.stack([cell(x[:, t], h0, A, B, b) for t in range(x.shape[1])], 1)
        )
    with pytest.raises(grading.GradingFailure, match="without h0"):
        grading.check_rnn_forward(
            lambda x, h0, A, B, b: np.concatenate([h0[:, None], forward(x, h0, A, B, b)], 1)
        )


def test_unstable_and_wrong_axis_softmax_are_named() -> None:
    with pytest.raises(grading.GradingFailure, match="Subtract each row's maximum"):
        grading.check_softmax(lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    with pytest.raises(grading.GradingFailure, match="axis 0"):
        grading.check_softmax(lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0, keepdims=True))


def test_calls_into_the_course_or_torch_are_refused_however_imported() -> None:
    from rnncourse.scratch import rnn as course

    alias = course.rnn_step_forward
    with pytest.raises(grading.GradingFailure, match="earn no points"):
        grading.check_rnn_cell_forward(lambda *args: alias(*args)[0])
    torch = pytest.importorskip("torch")
    with pytest.raises(grading.GradingFailure, match="torch"):
        grading.check_softmax(lambda z: torch.softmax(torch.from_numpy(z), 1).numpy())


def test_switching_off_the_monitor_is_refused() -> None:
    import sys

    def sneaky(x, h, A, B, b):
        sys.setprofile(None)
        return cell(x, h, A, B, b)

    with pytest.raises(grading.GradingFailure, match="switched off"):
        grading.check_rnn_cell_forward(sneaky)


def test_later_parts_are_checked_with_a_correct_earlier_part() -> None:
    namespace: dict = {"np": np}
    exec(
        "def rnn_cell_forward(x, h, A, B, b):\n    return x @ A.T\n"  # wrong on purpose
        "def rnn_forward(x, h0, A, B, b):\n"
        "    h, out = h0, []\n"
        "    for t in range(x.shape[1]):\n"
        "        h = rnn_cell_forward(x[:, t], h, A, B, b)\n"
        "        out.append(h)\n"
        "    return np.stack(out, 1)\n",
        namespace,
    )
    grading.check_rnn_forward(namespace["rnn_forward"])
    assert namespace["rnn_cell_forward"].__code__.co_name == "rnn_cell_forward"  # restored afterwards
    with pytest.raises(grading.GradingFailure):
        grading.check_rnn_cell_forward(namespace["rnn_cell_forward"])


def test_not_implemented_is_explained() -> None:
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(grading.GradingFailure, match="replace the line"):
        grading.check_build_vocab(stub)
