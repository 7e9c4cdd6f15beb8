"""Leakage-free windows, baselines, walk-forward folds, skill, and early stopping (rnncourse.evaluation.forecasting)."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.evaluation import forecasting as fc
from rnncourse.gradcheck import numerical_gradient, rel_error


def test_scaler_uses_the_training_span_only() -> None:
    values = np.array([1.0, 2.0, 3.0, 100.0, 200.0])
    w = fc.prepare_windows(values, window=1, n_train=3)
    assert w.scaler.mean == pytest.approx(2.0) and w.scaler.std == pytest.approx(np.sqrt(2 / 3))
    # Targets 1, 2 train; 3, 4 test. The first test input is the last training value.
    assert rel_error(w.scaler.inverse(w.y_train), np.array([2.0, 3.0])) < 1e-12
    assert rel_error(w.scaler.inverse(w.X_test[:, 0]), np.array([3.0, 100.0])) < 1e-12
    assert rel_error(w.scaler.inverse(w.y_test), np.array([100.0, 200.0])) < 1e-12


def test_windows_never_contain_their_target() -> None:
    values = np.arange(20.0)
    X, y = fc.make_windows(values, window=4, first_target=4, stop=20)
    assert X.shape == (16, 4) and y.shape == (16,)
    assert np.all(X.max(axis=1) < y) and np.all(y - X[:, -1] == 1)
    with pytest.raises(ValueError, match="first_target"):
        fc.make_windows(values, window=4, first_target=3, stop=20)
    with pytest.raises(ValueError, match="expected"):
        fc.make_windows(values.reshape(4, 5), window=2, first_target=2, stop=4)


def test_baselines() -> None:
    values = np.array([0.0, 10.0, 20.0, 1.0, 11.0, 21.0, 2.0, 12.0])
    assert np.array_equal(fc.naive_forecast(values, 6, 8), [21.0, 2.0])
    assert np.array_equal(fc.naive_forecast(values, 6, 8, horizon=2), [11.0, 21.0])
    assert np.array_equal(fc.seasonal_naive_forecast(values, 3, 6, 8), [1.0, 11.0])
    # Four steps ahead with period 3: the latest known value of the same phase is 6 steps back.
    assert np.array_equal(fc.seasonal_naive_forecast(values, 3, 6, 8, horizon=4), [0.0, 10.0])


def test_walk_forward_folds_cover_the_test_span_in_order() -> None:
    folds = fc.walk_forward_splits(n=10, first_test=4, fold=4)
    assert folds == [(4, 8), (8, 10)]


def test_linear_ar_recovers_an_exact_recurrence_and_forecasts_recursively() -> None:
    # y_t = 0.5 y_{t-1} + 0.25 y_{t-2} + 1, started from two seeded values.
    rng = np.random.default_rng(0)
    y = list(rng.normal(size=2))
    for _ in range(40):
        y.append(0.5 * y[-1] + 0.25 * y[-2] + 1.0)
    values = np.array(y)
    X, target = fc.make_windows(values, 2, 2, 30)
    w = fc.fit_linear_ar(X, target)
    assert rel_error(w, np.array([0.25, 0.5, 1.0])) < 1e-8
    ahead = fc.recursive_forecast(lambda x: fc.predict_linear_ar(w, x), values[28:30][None, :], 5)
    assert rel_error(ahead[0], values[30:35]) < 1e-8


def test_skill_and_errors() -> None:
    assert fc.skill(1.0, 4.0) == pytest.approx(0.75)
    assert fc.mse(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == pytest.approx(5.0)
    assert fc.mae(np.array([1.0, -3.0]), np.array([0.0, 0.0])) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        fc.skill(1.0, 0.0)


def test_linear_gradient_is_the_numerical_one() -> None:
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(7, 3)), rng.normal(size=7), rng.normal(size=4)
    _, grad = fc.linear_mse_and_grad(w, X, y)
    numeric = numerical_gradient(lambda: np.array(fc.linear_mse_and_grad(w, X, y)[0]), w, np.array(1.0))
    assert rel_error(grad, numeric) < 1e-7


def test_early_stopping_restores_the_best_weights() -> None:
    # Fewer examples than weights and noisy targets: the validation loss falls, then rises.
    rng = np.random.default_rng(2)
    true_w = rng.normal(size=13)
    X_train, X_val = rng.normal(size=(8, 12)), rng.normal(size=(50, 12))
    y_train = fc.predict_linear_ar(true_w, X_train) + rng.normal(scale=1.0, size=8)
    y_val = fc.predict_linear_ar(true_w, X_val) + rng.normal(scale=1.0, size=50)
    run = fc.gradient_descent_early_stopping(
        fc.linear_mse_and_grad,
        np.zeros(13),
        (X_train, y_train),
        (X_val, y_val),
        lr=0.05,
        epochs=500,
        patience=5,
    )
    assert run.stopped_early and len(run.val_loss) == run.best_epoch + 6
    assert run.best_loss == min(run.val_loss) and run.val_loss[-1] > run.best_loss
    # The restored weights give the best validation loss, not the last one.
    assert fc.linear_mse_and_grad(run.weights, X_val, y_val)[0] == pytest.approx(run.best_loss)
