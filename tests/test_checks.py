"""Wrong arguments are refused with a message that names the argument, what it got and what it needs.

Every case gives the exact words the message must contain: the argument's
name, the shape (or dtype, or values) received, and the one expected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from rnncourse.checks import check_lengths, check_shape
from rnncourse.scratch.dense import dense_forward
from rnncourse.scratch.embedding import embedding_forward
from rnncourse.scratch.gru import gru_forward, gru_step_forward
from rnncourse.scratch.losses import mse, softmax_cross_entropy
from rnncourse.scratch.lstm import lstm_forward, lstm_step_forward
from rnncourse.scratch.recurrent import RecurrentLayer, State
from rnncourse.scratch.rnn import rnn_forward, rnn_step_forward
from rnncourse.scratch.stacked import Bidirectional, StackedRecurrent
from rnncourse.scratch.tbptt import truncated_bptt

N, T, D, H = 3, 5, 4, 8
rng = np.random.default_rng(0)


def a(*shape: int, dtype: type = np.float64) -> np.ndarray:
    return rng.normal(size=shape).astype(dtype)


X, X_T, H0 = a(N, T, D), a(N, D), a(N, H)
RNN_W = {"W_xh": a(H, D), "W_hh": a(H, H), "b_h": a(H)}
LSTM_W = {"W_xh": a(4 * H, D), "W_hh": a(4 * H, H), "b": a(4 * H)}
GRU_W = {"W_xh": a(3 * H, D), "W_hh": a(3 * H, H), "b_xh": a(3 * H), "b_hh": a(3 * H)}


def rnn(**change: np.ndarray) -> Callable[[], object]:
    args = {"x": X, "h0": H0, **RNN_W} | change
    return lambda: rnn_forward(**args)


def rnn_step(**change: np.ndarray) -> Callable[[], object]:
    args = {"x_t": X_T, "h_prev": H0, **RNN_W} | change
    return lambda: rnn_step_forward(**args)


def lstm(**change: np.ndarray) -> Callable[[], object]:
    args = {"x": X, "h0": H0, "c0": H0, **LSTM_W} | change
    return lambda: lstm_forward(**args)


def lstm_step(**change: np.ndarray) -> Callable[[], object]:
    args = {"x_t": X_T, "h_prev": H0, "c_prev": H0, **LSTM_W} | change
    return lambda: lstm_step_forward(**args)


def gru(**change: np.ndarray) -> Callable[[], object]:
    args = {"x": X, "h0": H0, **GRU_W} | change
    return lambda: gru_forward(**args)


def gru_step(**change: np.ndarray) -> Callable[[], object]:
    args = {"x_t": X_T, "h_prev": H0, **GRU_W} | change
    return lambda: gru_step_forward(**args)


LAYER = RecurrentLayer("lstm", D, H, np.random.default_rng(1))
BI = Bidirectional("gru", D, H, np.random.default_rng(2))
STACK = StackedRecurrent("rnn_tanh", D, H, num_layers=2, rng=np.random.default_rng(3))


def layer(model=LAYER, x=X, state=None, lengths=None) -> Callable[[], object]:
    return lambda: model.forward(x, state, lengths)


def no_loss(h, t0, t1):
    return 0.0, np.zeros_like(h), {}


CASES = [
    # the recurrent forwards, sequence and step, of every kind
    ("rnn h0 (1, H)", rnn(h0=a(1, H)), ValueError, "h0 has shape (1, 8); expected (N, H) = (3, 8)"),
    ("rnn x 2-D", rnn(x=X_T), ValueError, "x has shape (3, 4); expected (N, T, D) = (N, T, D)"),
    ("rnn W_xh transposed", rnn(W_xh=a(D, H)), ValueError, "W_xh has shape (4, 8); expected (H, D) = (8, 4)"),
    ("rnn W_hh not square", rnn(W_hh=a(H, D)), ValueError, "W_hh has shape (8, 4); expected (H, H) = (4, 4)"),
    ("rnn b_h", rnn(b_h=a(D)), ValueError, "b_h has shape (4,); expected (H,) = (8,)"),
    (
        "rnn integer x",
        rnn(x=np.ones((N, T, D), int)),
        TypeError,
        "x has dtype int64; expected float32 or float64",
    ),
    (
        "rnn mixed dtypes",
        rnn(W_hh=a(H, H, dtype=np.float32)),
        TypeError,
        "W_hh has dtype float32; expected float64, the dtype of x",
    ),
    (
        "rnn step h_prev",
        rnn_step(h_prev=a(1, H)),
        ValueError,
        "h_prev has shape (1, 8); expected (N, H) = (3, 8)",
    ),
    ("rnn step x_t 3-D", rnn_step(x_t=X), ValueError, "x_t has shape (3, 5, 4); expected (N, D) = (N, D)"),
    ("lstm c0", lstm(c0=a(N, 2 * H)), ValueError, "c0 has shape (3, 16); expected (N, H) = (3, 8)"),
    ("lstm W_xh", lstm(W_xh=a(3 * H, D)), ValueError, "W_xh has shape (24, 4); expected (4H, D) = (32, 4)"),
    ("lstm b", lstm(b=a(H)), ValueError, "b has shape (8,); expected (4H,) = (32,)"),
    (
        "lstm step c_prev",
        lstm_step(c_prev=a(1, H)),
        ValueError,
        "c_prev has shape (1, 8); expected (N, H) = (3, 8)",
    ),
    (
        "lstm float32 x",
        lstm(x=X.astype(np.float32)),
        TypeError,
        "h0 has dtype float64; expected float32, the dtype of x",
    ),
    ("gru b_hh", gru(b_hh=a(H)), ValueError, "b_hh has shape (8,); expected (3H,) = (24,)"),
    ("gru W_hh", gru(W_hh=a(4 * H, H)), ValueError, "W_hh has shape (32, 8); expected (3H, H) = (24, 8)"),
    (
        "gru step h_prev",
        gru_step(h_prev=a(N, H + 1)),
        ValueError,
        "h_prev has shape (3, 9); expected (N, H) = (3, 8)",
    ),
    ("gru step x_t int", gru_step(x_t=np.ones((N, D), int)), TypeError, "x_t has dtype int64"),
    # layers
    ("layer x 2-D", layer(x=X_T), ValueError, "x has shape (3, 4); expected (N, T, D) = (N, T, 4)"),
    (
        "layer x features",
        layer(x=a(N, T, D + 1)),
        ValueError,
        "x has shape (3, 5, 5); expected (N, T, D) = (N, T, 4)",
    ),
    ("layer x float32", layer(x=X.astype(np.float32)), TypeError, "x has dtype float32; expected float64"),
    (
        "layer state h",
        layer(state=State(a(1, H), a(N, H))),
        ValueError,
        "state.h has shape (1, 8); expected (N, H) = (3, 8)",
    ),
    (
        "layer state dtype",
        layer(state=State(a(N, H, dtype=np.float32), a(N, H))),
        TypeError,
        "state.h has dtype float32; expected float64, the dtype of the parameters",
    ),
    ("layer state without c", layer(state=State(a(N, H))), ValueError, "state.c is missing"),
    (
        "layer lengths fractional",
        layer(lengths=np.array([2.5, 1, 3])),
        TypeError,
        "lengths has dtype float64",
    ),
    ("layer lengths whole floats", layer(lengths=[2.0, 1.0, 3.0]), TypeError, "expected integers"),
    (
        "layer lengths negative",
        layer(lengths=np.array([2, -1, 3])),
        ValueError,
        "lengths has values in [-1, 3]; expected every length in [0, T] = [0, 5]",
    ),
    ("layer lengths > T", layer(lengths=[2, 6, 3]), ValueError, "lengths has values in [2, 6]"),
    (
        "layer lengths count",
        layer(lengths=[2, 3]),
        ValueError,
        "lengths has shape (2,); expected (N,) = (3,)",
    ),
    (
        "bidirectional x",
        layer(BI, x=a(N, T)),
        ValueError,
        "x has shape (3, 5); expected (N, T, D) = (N, T, 4)",
    ),
    ("bidirectional lengths", layer(BI, lengths=[1.5, 2, 3]), TypeError, "lengths has dtype float64"),
    (
        "stacked x",
        layer(STACK, x=a(N, T, 2)),
        ValueError,
        "x has shape (3, 5, 2); expected (N, T, D) = (N, T, 4)",
    ),
    (
        "stacked state count",
        layer(STACK, state=[None]),
        ValueError,
        "state has 1 entries; expected one per layer, 2",
    ),
    (
        "tbptt x",
        lambda: truncated_bptt(STACK, X_T, 2, no_loss),
        ValueError,
        "x has shape (3, 4); expected (N, T, D)",
    ),
    ("tbptt lengths", lambda: truncated_bptt(STACK, X, 2, no_loss, lengths=[9, 1, 1]), ValueError, "[0, 5]"),
    # dense, embedding, losses
    (
        "dense W",
        lambda: dense_forward(X, a(5, 3), a(5)),
        ValueError,
        "W has shape (5, 3); expected (C, D) = (C, 4)",
    ),
    (
        "dense b",
        lambda: dense_forward(X, a(5, D), a(4)),
        ValueError,
        "b has shape (4,); expected (C,) = (5,)",
    ),
    (
        "dense integer x",
        lambda: dense_forward(np.ones((2, D), int), a(5, D), a(5)),
        TypeError,
        "x has dtype int64",
    ),
    (
        "embedding W 1-D",
        lambda: embedding_forward(np.zeros((2, 3), int), a(7)),
        ValueError,
        "W has shape (7,)",
    ),
    (
        "embedding float ids",
        lambda: embedding_forward(np.zeros(3), a(7, 2)),
        TypeError,
        "ids has dtype float64",
    ),
    (
        "embedding padding_idx",
        lambda: embedding_forward(np.zeros(3, int), a(7, 2), padding_idx=7),
        ValueError,
        "padding_idx is 7; expected an id in [0, V) = [0, 7)",
    ),
    (
        "ce logits 1-D",
        lambda: softmax_cross_entropy(a(5), np.zeros(5, int)),
        ValueError,
        "logits has shape (5,)",
    ),
    (
        "ce targets shape",
        lambda: softmax_cross_entropy(a(N, T, 6), np.zeros((N, T + 1), int)),
        ValueError,
        "targets has shape (3, 6); expected (N, T) = (3, 5)",
    ),
    (
        "ce float targets",
        lambda: softmax_cross_entropy(a(N, 6), np.zeros(N)),
        TypeError,
        "targets has dtype float64",
    ),
    (
        "ce mask shape",
        lambda: softmax_cross_entropy(a(N, T, 6), np.zeros((N, T), int), np.ones((N, T - 1))),
        ValueError,
        "mask has shape (3, 4); expected (N, T) = (3, 5)",
    ),
    ("mse target", lambda: mse(a(N, T), a(N, T + 1)), ValueError, "target has shape (3, 6)"),
    ("mse integer pred", lambda: mse(np.ones((N, T), int), a(N, T)), TypeError, "pred has dtype int64"),
]


@pytest.mark.parametrize(("call", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_arguments_are_named_with_both_shapes(
    call: Callable[[], object], error: type, message: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def test_the_valid_arguments_of_these_cases_are_accepted() -> None:
    """The cases above fail because of their one change, not because the rest is wrong."""
    for call in (rnn(), rnn_step(), lstm(), lstm_step(), gru(), gru_step(), layer(), layer(BI), layer(STACK)):
        call()
    layer(lengths=np.array([2, 0, 5]))()
    truncated_bptt(STACK, X, 2, no_loss, lengths=[5, 1, 1])


def test_check_shape_accepts_what_fits_and_reports_free_axes_by_symbol() -> None:
    assert check_shape("h", np.zeros((3, 8)), {"N": 3, "H": None}) == (3, 8)
    with pytest.raises(ValueError, match=r"expected \(N, H\) = \(3, H\)"):
        check_shape("h", np.zeros((3,)), {"N": 3, "H": None})
    assert check_lengths(None, 3, 5) is None
    assert check_lengths([0, 5, 2], 3, 5).dtype == np.int64
    with pytest.raises(TypeError, match="lengths has dtype bool"):
        check_lengths(np.array([True, False, True]), 3, 5)
