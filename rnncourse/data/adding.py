"""The adding problem (Hochreiter and Schmidhuber 1997): a long-range dependency with a known answer.

Each sequence has T steps and two input channels:

* channel 0, the **value**: a number drawn uniformly from [0, 1) at every step;
* channel 1, the **marker**: 1 at exactly two steps, 0 everywhere else.

The target is the sum of the two marked values, a number in [0, 2). The first
marker falls in the first half of the sequence and the second in the second
half (positions ``i`` in [0, T//2) and ``j`` in [T//2, T) for T >= 2), so that
the model must carry the first value across about T/2 steps at least: the
dependency grows with T, which is what makes the task a test of long memory.

**The trivial baseline.** A model that ignores the inputs can only predict a
constant c; the mean squared error E[(Y - c)^2] is smallest at c = E[Y], where
it is Var(Y). With Y = U1 + U2 and U1, U2 independent and uniform on [0, 1):

    E[Y] = 1/2 + 1/2 = 1,
    Var(Y) = Var(U1) + Var(U2) = 1/12 + 1/12 = 1/6,

because Var(U) = E[U^2] - E[U]^2 = 1/3 - 1/4 = 1/12 for U uniform on [0, 1).
So predicting 1 everywhere gives MSE 1/6 ~ 0.1667 (``BASELINE_MSE``): a
model whose MSE stays near 1/6 has learned nothing about the markers. The
usual bar for "solved" is an MSE far below that; ``SOLVED_MSE`` = 0.01 is
about 6% of the baseline.

Interface (stable; chapter 5 imports it):

* ``adding_problem(n, length, seed)`` -> ``Adding(x, y, positions)`` as
  NumPy float64 arrays: x (N, T, 2), y (N, 1), positions (N, 2) int64.
* ``adding_problem_torch(n, length, seed, dtype=torch.float32)`` -> (x, y)
  torch tensors of the same shapes, the same numbers for the same seed.
* ``BASELINE_MSE`` = 1/6 and ``SOLVED_MSE`` = 0.01.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported only when torch tensors are asked for
    import torch

__all__ = ["BASELINE_MSE", "SOLVED_MSE", "Adding", "adding_problem", "adding_problem_torch"]

BASELINE_MSE: float = 1.0 / 6.0
"""MSE of the best constant prediction (1): Var(U1 + U2) = 2 * 1/12 = 1/6."""

SOLVED_MSE: float = 0.01
"""An MSE at which the task counts as solved (about 6% of the baseline)."""


@dataclass(frozen=True)
class Adding:
    """One adding-problem data set.

    Attributes:
        x: (N, T, 2) float64; x[:, :, 0] the values in [0, 1), x[:, :, 1] the 0/1 markers.
        y: (N, 1) float64, the sum of the two marked values.
        positions: (N, 2) int64, the two marked steps (first < T//2 <= second when T >= 2).
    """

    x: np.ndarray
    y: np.ndarray
    positions: np.ndarray

    def __len__(self) -> int:
        return int(self.x.shape[0])


def adding_problem(n: int, length: int, seed: int) -> Adding:
    """Draw ``n`` adding-problem sequences of ``length`` steps, reproducibly from ``seed``.

    Args:
        n: number of sequences N (>= 1).
        length: sequence length T (>= 2: two distinct marked steps).
        seed: seed of a ``numpy.random.default_rng``; the same seed gives the same data.

    Returns:
        ``Adding`` with x (N, T, 2), y (N, 1), positions (N, 2).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if length < 2:
        raise ValueError(f"length must be at least 2 (two marked steps), got {length}")
    rng = np.random.default_rng(seed)
    values = rng.random((n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)  # in the first half
    second = rng.integers(half, length, size=n)  # in the second half
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=2)
    y = (values[rows, first] + values[rows, second])[:, None]
    positions = np.stack([first, second], axis=1).astype(np.int64)
    return Adding(x=x, y=y, positions=positions)


def adding_problem_torch(
    n: int, length: int, seed: int, dtype: torch.dtype | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same data as ``adding_problem`` as torch tensors (batch first).

    Args:
        n, length, seed: as for ``adding_problem``.
        dtype: the tensors' dtype, ``torch.float32`` by default.

    Returns:
        (x, y): x (N, T, 2), y (N, 1).
    """
    import torch

    data = adding_problem(n, length, seed)
    dtype = torch.float32 if dtype is None else dtype
    return torch.as_tensor(data.x, dtype=dtype), torch.as_tensor(data.y, dtype=dtype)
