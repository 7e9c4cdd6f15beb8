"""The adding problem: shapes, markers, targets, seeding, the baseline, torch agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.adding import BASELINE_MSE, SOLVED_MSE, adding_problem, adding_problem_torch


def test_shapes_and_channels() -> None:
    data = adding_problem(64, 20, seed=0)
    assert data.x.shape == (64, 20, 2) and data.y.shape == (64, 1) and data.positions.shape == (64, 2)
    assert len(data) == 64
    values, markers = data.x[:, :, 0], data.x[:, :, 1]
    assert values.min() >= 0 and values.max() < 1
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers.sum(axis=1) == 2)


def test_target_is_the_sum_of_the_marked_values() -> None:
    data = adding_problem(50, 13, seed=3)
    for row in range(50):
        marked = np.flatnonzero(data.x[row, :, 1])
        assert list(marked) == list(data.positions[row])
        assert data.y[row, 0] == pytest.approx(data.x[row, marked, 0].sum(), abs=1e-15)


def test_one_marker_in_each_half() -> None:
    for length in (2, 3, 10, 201):
        data = adding_problem(200, length, seed=1)
        assert np.all(data.positions[:, 0] < length // 2)
        assert np.all(data.positions[:, 1] >= length // 2)
        assert np.all(data.positions[:, 1] < length)


def test_seeded() -> None:
    a, b, c = adding_problem(8, 10, seed=5), adding_problem(8, 10, seed=5), adding_problem(8, 10, seed=6)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_baseline_is_the_variance_of_the_target() -> None:
    # Predicting 1 should give MSE close to 1/6 on a large sample (the standard
    # error of the mean of (Y-1)^2 is ~0.0007 at n = 100,000; 0.005 is seven of them).
    y = adding_problem(100_000, 10, seed=2).y
    assert pytest.approx(1 / 6) == BASELINE_MSE
    assert float(np.mean((y - 1.0) ** 2)) == pytest.approx(1 / 6, abs=0.005)
    assert float(np.mean(y)) == pytest.approx(1.0, abs=0.01)
    assert SOLVED_MSE < BASELINE_MSE / 10


def test_torch_version_holds_the_same_numbers() -> None:
    data = adding_problem(4, 7, seed=9)
    x, y = adding_problem_torch(4, 7, seed=9)
    assert x.dtype == torch.float32 and tuple(x.shape) == (4, 7, 2) and tuple(y.shape) == (4, 1)
    assert np.allclose(x.numpy(), data.x, atol=1e-7) and np.allclose(y.numpy(), data.y, atol=1e-7)
    x64, _ = adding_problem_torch(4, 7, seed=9, dtype=torch.float64)
    assert np.array_equal(x64.numpy(), data.x)


@pytest.mark.parametrize(("n", "length"), [(0, 10), (5, 1)])
def test_bad_arguments_are_refused(n: int, length: int) -> None:
    with pytest.raises(ValueError, match="at least"):
        adding_problem(n, length, seed=0)
