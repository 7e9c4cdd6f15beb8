"""Forecasting a series without fooling yourself: split, scale, window, baselines, skill.

A forecaster at time t may use the values ``y_0 .. y_{t-1}`` and nothing
later. Every function here keeps that rule:

* **chronological split**: the first ``n_train`` values train, the rest test
  (a random split would put tomorrow in the training set);
* **scaling fitted on the training span only**: ``z = (y - mu) / sigma`` with
  ``mu, sigma`` the mean and standard deviation of ``y_0 .. y_{n_train - 1}``
  (statistics of the whole series would tell the model the test span's level);
* **windows**: the input of target ``y_t`` is ``(y_{t-w}, ..., y_{t-1})``,
  shape (w,); a training target has ``t < n_train``, a test target
  ``t >= n_train`` (its window may reach back into the training span: those
  values are known when the forecast is made);
* **walk-forward validation**: train on ``[0, s)``, test on ``[s, s + f)``,
  move ``s`` on by ``f`` and repeat, so every fold forecasts its own future;
* **baselines**: persistence ``yhat_{t+h} = y_t`` (the naive forecast) and
  seasonal naive ``yhat_{t+h} = y_{t+h-m ceil(h/m)}`` for a period m;
* **skill** relative to a reference: ``1 - MSE_model / MSE_reference``
  (0: no better than the reference; 1: perfect; negative: worse).

Shapes: T the series length, w the window, n the number of windows, H the horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnncourse.checks import check_shape


@dataclass(frozen=True)
class Scaler:
    """Standardisation ``z = (y - mean) / std`` with statistics of the training span only."""

    mean: float
    std: float

    def transform(self, values: np.ndarray) -> np.ndarray:
        """(...,) values -> (...,) standardised values."""
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.std

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """(...,) standardised values -> (...,) values in the series' units."""
        return np.asarray(scaled, dtype=np.float64) * self.std + self.mean


def fit_scaler(train: np.ndarray) -> Scaler:
    """The mean and (population) standard deviation of ``train`` (T_train,), T_train >= 2."""
    check_shape("train", train, {"T_train": None})
    if len(train) < 2:
        raise ValueError(f"train needs at least 2 values to have a spread, got {len(train)}")
    std = float(np.std(train))
    if std == 0.0:
        raise ValueError("train is constant: its standard deviation is 0, nothing to scale by")
    return Scaler(float(np.mean(train)), std)


def make_windows(
    values: np.ndarray, window: int, first_target: int, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets for the targets ``t = first_target .. stop - 1``.

    Args:
        values: (T,) the series (scaled or not).
        window: w >= 1, the number of past values per input.
        first_target: the first target's index, >= w (its window must exist).
        stop: one past the last target's index, <= T.

    Returns:
        X of shape (n, w) with ``X[i] = values[t - w : t]`` and y of shape (n,)
        with ``y[i] = values[t]``, for ``t = first_target + i``; n = stop - first_target.
    """
    check_shape("values", values, {"T": None})
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    if not window <= first_target <= stop <= len(values):
        raise ValueError(
            f"need window <= first_target <= stop <= T, got {window}, {first_target}, {stop}, {len(values)}"
        )
    targets = np.arange(first_target, stop)
    # Row i gathers the w values just before target i: indices t - w .. t - 1.
    X = values[targets[:, None] + np.arange(-window, 0)[None, :]]
    return X.astype(np.float64), values[targets].astype(np.float64)


@dataclass(frozen=True)
class Windows:
    """A leakage-free forecasting data set (see :func:`prepare_windows`)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    scaler: Scaler


def prepare_windows(values: np.ndarray, window: int, n_train: int) -> Windows:
    """Chronological split at ``n_train``, a scaler fitted on ``values[:n_train]``, scaled windows.

    Args:
        values: (T,) the raw series.
        window: w, values per input.
        n_train: the training span's length, w < n_train < T.

    Returns:
        Windows with X_train (n_train - w, w), y_train (n_train - w,), X_test
        (T - n_train, w), y_test (T - n_train,), all scaled, and the scaler.
    """
    check_shape("values", values, {"T": None})
    if not window < n_train < len(values):
        raise ValueError(f"need window < n_train < T, got {window}, {n_train}, {len(values)}")
    scaler = fit_scaler(values[:n_train])
    z = scaler.transform(values)
    X_train, y_train = make_windows(z, window, window, n_train)
    X_test, y_test = make_windows(z, window, n_train, len(values))
    return Windows(X_train, y_train, X_test, y_test, scaler)


def naive_forecast(values: np.ndarray, first_target: int, stop: int, horizon: int = 1) -> np.ndarray:
    """Persistence: ``yhat_t = values[t - horizon]`` for t in [first_target, stop); shape (stop - first_target,)."""
    if not horizon <= first_target <= stop <= len(values):
        raise ValueError("need horizon <= first_target <= stop <= T")
    return values[first_target - horizon : stop - horizon].astype(np.float64)


def seasonal_naive_forecast(
    values: np.ndarray, period: int, first_target: int, stop: int, horizon: int = 1
) -> np.ndarray:
    """``yhat_t = values[t - m k]`` with ``k = ceil(horizon / m)``: the latest same-season value known
    ``horizon`` steps ahead. Shape (stop - first_target,)."""
    lag = period * -(-horizon // period)
    if not lag <= first_target <= stop <= len(values):
        raise ValueError(f"need period * ceil(horizon / period) = {lag} <= first_target <= stop <= T")
    return values[first_target - lag : stop - lag].astype(np.float64)


def walk_forward_splits(n: int, first_test: int, fold: int) -> list[tuple[int, int]]:
    """Expanding-window folds ``(train_stop, test_stop)``: train on [0, train_stop), test on [train_stop, test_stop).

    The first fold tests [first_test, first_test + fold); each next one starts
    where the last ended; the last fold may be shorter and ends at n.
    """
    if not 0 < first_test < n or fold < 1:
        raise ValueError(f"need 0 < first_test < n and fold >= 1, got {first_test}, {n}, {fold}")
    return [(start, min(start + fold, n)) for start in range(first_test, n, fold)]


def fit_linear_ar(X: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Least-squares autoregression ``yhat = X w + b`` (with an optional ridge penalty on w).

    Args:
        X: (n, w) windows. y: (n,) targets.
        ridge: lambda >= 0 in ``|X w + b - y|^2 + lambda |w|^2``.

    Returns:
        (w + 1,) the weights, the bias last.
    """
    n, w = check_shape("X", X, {"n": None, "w": None})
    check_shape("y", y, {"n": n})
    A = np.hstack([X, np.ones((n, 1))])
    penalty = ridge * np.eye(w + 1)
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    return np.linalg.solve(A.T @ A + penalty, A.T @ y)


def predict_linear_ar(weights: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(w + 1,) weights, (n, w) windows -> (n,) forecasts ``X w + b``."""
    _n, w = check_shape("X", X, {"n": None, "w": None})
    check_shape("weights", weights, {"w + 1": w + 1})
    return X @ weights[:-1] + weights[-1]


def recursive_forecast(
    predict: Callable[[np.ndarray], np.ndarray], context: np.ndarray, horizon: int
) -> np.ndarray:
    """Multi-step forecasts by feeding each forecast back as the newest input.

    Args:
        predict: (n, w) windows -> (n,) one-step forecasts.
        context: (n, w) the last w known values of each of n series.
        horizon: H >= 1 steps.

    Returns:
        (n, H): column h is the forecast h + 1 steps ahead. From the second
        step on, the inputs contain forecasts, so errors compound.
    """
    n, _ = check_shape("context", context, {"n": None, "w": None})
    window = context.astype(np.float64)
    out = np.empty((n, horizon))
    for h in range(horizon):
        out[:, h] = predict(window)
        window = np.concatenate([window[:, 1:], out[:, h : h + 1]], axis=1)
    return out


def mse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error over every entry."""
    return float(np.mean((np.asarray(prediction) - np.asarray(target)) ** 2))


def mae(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute error over every entry."""
    return float(np.mean(np.abs(np.asarray(prediction) - np.asarray(target))))


def skill(model_mse: float, reference_mse: float) -> float:
    """``1 - model_mse / reference_mse``: the share of the reference's error the model removes."""
    if reference_mse <= 0:
        raise ValueError(f"the reference's MSE must be positive, got {reference_mse}")
    return 1.0 - model_mse / reference_mse


@dataclass
class EarlyStoppingRun:
    """The outcome of :func:`gradient_descent_early_stopping`; the names follow ``rnncourse.training.History``.

    Attributes:
        train_loss: the training loss at the start of each epoch (before its update).
        val_loss: the validation loss after each epoch's update.
        best_epoch: the epoch (from 0) with the lowest validation loss (the first, on ties).
        best_loss: that loss.
        stopped_early: True if training stopped before ``epochs``.
        weights: the best epoch's weights (restored), shape (P,).
    """

    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int
    best_loss: float
    stopped_early: bool
    weights: np.ndarray


def gradient_descent_early_stopping(
    loss_and_grad: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]],
    weights: np.ndarray,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    lr: float,
    epochs: int,
    patience: int,
) -> EarlyStoppingRun:
    """Full-batch gradient descent with early stopping and restore: ``rnncourse.training.fit``'s rule in NumPy.

    Each epoch: record the training loss, step ``w <- w - lr grad``, record
    the validation loss. An epoch improves if its validation loss is below the
    best so far (strictly); after ``patience`` epochs in a row without an
    improvement, stop. At the end the best epoch's weights are returned
    (Keras' ``restore_best_weights=True``, ``fit``'s default).

    Args:
        loss_and_grad: ``(weights (P,), X, y) -> (loss, gradient (P,))``.
        weights: (P,) the initial weights (not modified).
        train, val: ``(X, y)`` pairs.
        lr: the step size. epochs: the most epochs to run. patience: >= 1.
    """
    if patience < 1 or epochs < 1:
        raise ValueError(f"need epochs >= 1 and patience >= 1, got {epochs}, {patience}")
    w = np.array(weights, dtype=np.float64)
    train_loss: list[float] = []
    val_loss: list[float] = []
    best_epoch, best_loss, best_w, waited = 0, np.inf, w.copy(), 0
    for epoch in range(epochs):
        loss, grad = loss_and_grad(w, *train)
        train_loss.append(float(loss))
        w = w - lr * grad
        current = float(loss_and_grad(w, *val)[0])
        val_loss.append(current)
        if current < best_loss:
            best_epoch, best_loss, best_w, waited = epoch, current, w.copy(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    stopped = len(train_loss) < epochs
    return EarlyStoppingRun(train_loss, val_loss, best_epoch, float(best_loss), stopped, best_w)


def linear_mse_and_grad(weights: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss of :func:`predict_linear_ar` and its gradient.

    ``L = mean((X w + b - y)^2)``; ``dL/dw = 2 X^T r / n``, ``dL/db = 2 sum(r) / n``
    with ``r = X w + b - y`` of shape (n,).

    Returns:
        (L, gradient of shape (w + 1,), the bias last).
    """
    n = len(y)
    residual = predict_linear_ar(weights, X) - y
    grad = np.concatenate([2.0 * X.T @ residual / n, [2.0 * residual.sum() / n]])
    return float(np.mean(residual**2)), grad
