"""The torch cells and layers refuse wrong arguments, naming the argument, its shape and the one expected."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from rnncourse.nn.cells import GRUCell, LSTMCell, RNNCell
from rnncourse.nn.recurrent import GRU, LSTM, RNN

N, T, D, H = 3, 5, 4, 8


def t(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape).to(dtype)


CELL, LSTM_CELL, GRU_CELL = RNNCell(D, H), LSTMCell(D, H), GRUCell(D, H)
RNN2, LSTM1, GRU_BF = RNN(D, H, num_layers=2), LSTM(D, H), GRU(D, H, batch_first=True)
X = t(T, N, D)  # time-major, for RNN2 and LSTM1

CASES = [
    (
        "cell h (1, H)",
        lambda: CELL(t(N, D), t(1, H)),
        ValueError,
        "h has shape (1, 8); expected (N, H) = (3, 8)",
    ),
    ("cell x 3-D", lambda: CELL(t(N, 2, D)), ValueError, "x has shape (3, 2, 4); expected (N, D) = (N, 4)"),
    (
        "cell x features",
        lambda: GRU_CELL(t(N, D + 1)),
        ValueError,
        "x has shape (3, 5); expected (N, D) = (N, 4)",
    ),
    (
        "unbatched cell h",
        lambda: GRU_CELL(t(D), t(N, H)),
        ValueError,
        "h has shape (3, 8); expected (H,) = (8,)",
    ),
    (
        "lstm cell c",
        lambda: LSTM_CELL(t(N, D), (t(N, H), t(N, 1))),
        ValueError,
        "c has shape (3, 1); expected (N, H) = (3, 8)",
    ),
    ("cell integer x", lambda: CELL(torch.ones(N, D, dtype=torch.int64)), TypeError, "x has dtype int64"),
    (
        "cell float64 h",
        lambda: CELL(t(N, D), t(N, H, dtype=torch.float64)),
        TypeError,
        "h has dtype float64; expected float32, the dtype of x",
    ),
    (
        "layer h0 of one layer",
        lambda: RNN2(X, t(1, N, H)),
        ValueError,
        "h0 has shape (1, 3, 8); expected (L*dirs, N, H) = (2, 3, 8)",
    ),
    (
        "layer c0",
        lambda: LSTM1(X, (t(1, N, H), t(1, 1, H))),
        ValueError,
        "c0 has shape (1, 1, 8); expected (L*dirs, N, H) = (1, 3, 8)",
    ),
    (
        "layer input 1-D",
        lambda: RNN2(t(D)),
        ValueError,
        "input has shape (4,); expected (T, N, D) = (T, N, 4)",
    ),
    (
        "layer input features",
        lambda: LSTM1(t(T, N, 2)),
        ValueError,
        "input has shape (5, 3, 2); expected (T, N, D)",
    ),
    (
        "batch-first input",
        lambda: GRU_BF(t(N, T)),
        ValueError,
        "input has shape (3, 5); expected (T, D) = (T, 4)",
    ),
    (
        "layer float64 input",
        lambda: RNN2(X.double()),
        TypeError,
        "weight_ih_l0 has dtype float32; expected float64, the dtype of input",
    ),
    (
        "layer integer input",
        lambda: RNN2(X.long()),
        TypeError,
        "input has dtype int64; expected float32 or float64",
    ),
    (
        "fractional lengths",
        lambda: LSTM1(X, lengths=torch.tensor([2.5, 1, 3])),
        TypeError,
        "lengths has dtype float32",
    ),
    ("float lengths", lambda: LSTM1(X, lengths=[2.0, 1.0, 3.0]), TypeError, "expected integers"),
    (
        "negative lengths",
        lambda: RNN2(X, lengths=torch.tensor([2, -1, 3])),
        ValueError,
        "lengths has values in [-1, 3]; expected every length in [0, T] = [0, 5]",
    ),
    (
        "lengths > T",
        lambda: GRU_BF(X.transpose(0, 1), lengths=[6, 1, 1]),
        ValueError,
        "lengths has values in [1, 6]",
    ),
    (
        "lengths count",
        lambda: RNN2(X, lengths=[1, 2]),
        ValueError,
        "lengths has shape (2,); expected (N,) = (3,)",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_arguments_are_named_with_both_shapes(
    call: Callable[[], object], error: type, message: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def test_the_valid_arguments_of_these_cases_are_accepted() -> None:
    CELL(t(N, D), t(N, H))
    GRU_CELL(t(D), t(H))
    LSTM_CELL(t(N, D), (t(N, H), t(N, H)))
    RNN2(X, t(2, N, H), lengths=torch.tensor([2, 0, 5]))
    LSTM1(X, (t(1, N, H), t(1, N, H)), lengths=[5, 1, 1])
    GRU_BF(X.transpose(0, 1))
    GRU_BF(t(T, D))  # one unbatched sequence


def test_fractional_lengths_no_longer_run_a_rounded_number_of_steps() -> None:
    """torch.nn truncates 2.5 to 2 steps; this code once ran 3. Now it refuses to guess."""
    with pytest.raises(TypeError, match="lengths"):
        RNN2(X, lengths=torch.tensor([2.5, 5.0, 5.0]))
