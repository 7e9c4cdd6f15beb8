"""Reading a property of the input from a network's hidden states: single units and linear probes.

A *unit* is one coordinate ``h[t, j]`` of the hidden state; a *linear probe* is a
linear model fitted to read a property of the input at position t (inside a
string? how far into the line?) from the whole state ``h[t]`` (Alain and Bengio
2016). Both are chosen or fitted on one span of data and judged on another: the
unit that correlates best on the span it was picked from looks better there than
anywhere else (the winner's curse), and a probe scored on its own training states
measures how well it memorised them.

A probe is judged against two references on the held-out span: the baseline
that reads nothing (the majority class of the training span, or its mean), and
the best single unit of the training span used as a one-feature probe. A probe
far above the baseline says the state holds the property in linearly readable
form; far above the single unit, that the property is spread over many units.
A probe can also learn on its own: fitted to the states of the same network
before training (a control in the spirit of Hewitt and Liang 2019), it says how
much of what it reads the input and the architecture already put there.

===========================  ======================================================================
``correlations``             Pearson's r of every unit with a property, (H,)
``best_unit``                the unit with the largest |r|, and its r
``fit_logistic_probe``       L2-regularised logistic regression for a 0/1 property (Newton)
``fit_linear_probe``         ridge regression for a numeric property
``Probe``                    a fitted probe: its standardisation, weights and bias
``accuracy``, ``r_squared``  the held-out scores
``probe_property``           probe, baseline and single unit, fitted on one span, scored on another
``ProbeScores``              what ``probe_property`` returns
``PropertyKind``             ``"binary"`` or ``"numeric"``: what a property is
===========================  ======================================================================

The fits are written in NumPy (a convex problem of H + 1 unknowns, solved to
float precision in a few Newton steps) rather than with scikit-learn, whose
scipy dependency the course's environment does not install.

Shapes: L positions (characters), H units. States and properties are float64 NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "Probe",
    "ProbeScores",
    "PropertyKind",
    "accuracy",
    "best_unit",
    "correlations",
    "fit_linear_probe",
    "fit_logistic_probe",
    "probe_property",
    "r_squared",
]

#: A property is a 0/1 label (``"binary"``: logistic probes, accuracy) or a number (``"numeric"``: ridge, R^2).
PropertyKind = Literal["binary", "numeric"]


def _check(states: np.ndarray, values: np.ndarray, name: str = "values") -> tuple[np.ndarray, np.ndarray]:
    """States (L, H) and values (L,) as float64, or a ValueError that says which shape is wrong."""
    states, values = np.asarray(states, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if states.ndim != 2:
        raise ValueError(f"states must be (L, H), one row per position; got shape {states.shape}")
    if values.shape != (states.shape[0],):
        raise ValueError(
            f"{name} must be (L,) = ({states.shape[0]},), one per row of the states; got shape {values.shape}"
        )
    if states.shape[0] < 2:
        raise ValueError(f"need at least 2 positions to fit or score, got {states.shape[0]}")
    return states, values


def correlations(states: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(H,) Pearson's r between each unit's state ``states[:, j]`` (L,) and ``values`` (L,).

    A unit (or a property) that is constant over the span has r = 0.
    """
    states, values = _check(states, values)
    z = states - states.mean(axis=0)  # (L, H)
    v = values - values.mean()  # (L,)
    denominator = np.sqrt((z**2).sum(axis=0) * (v**2).sum())  # (H,)
    return np.divide(z.T @ v, denominator, out=np.zeros(states.shape[1]), where=denominator > 0)


def best_unit(states: np.ndarray, values: np.ndarray) -> tuple[int, float]:
    """The unit whose state correlates most with ``values`` in absolute value, and its (signed) r."""
    r = correlations(states, values)
    unit = int(np.argmax(np.abs(r)))
    return unit, float(r[unit])


@dataclass(frozen=True)
class Probe:
    """A linear read-out of standardised states: ``score(h) = w . (h - mean) / scale + b``.

    ``kind`` is ``"binary"`` (the score is a log-odds: the property holds where it is
    positive) or ``"numeric"`` (the score is the predicted value).
    """

    kind: PropertyKind
    mean: np.ndarray  # (H,)
    scale: np.ndarray  # (H,)
    weights: np.ndarray  # (H,)
    bias: float

    def score(self, states: np.ndarray) -> np.ndarray:
        """(L,) the linear score of each state of ``states`` (L, H)."""
        states = np.asarray(states, dtype=np.float64)
        if states.ndim != 2 or states.shape[1] != self.weights.shape[0]:
            raise ValueError(f"states must be (L, {self.weights.shape[0]}); got shape {states.shape}")
        return ((states - self.mean) / self.scale) @ self.weights + self.bias

    def predict(self, states: np.ndarray) -> np.ndarray:
        """(L,) 0/1 labels (binary probe) or values (numeric probe)."""
        s = self.score(states)
        return (s > 0).astype(np.float64) if self.kind == "binary" else s


def _standardised(states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L, H) states with every unit at mean 0 and standard deviation 1 (a constant unit left at 0)."""
    mean, std = states.mean(axis=0), states.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    return (states - mean) / scale, mean, scale


def fit_logistic_probe(
    states: np.ndarray, labels: np.ndarray, l2: float = 1.0, tol: float = 1e-10, max_steps: int = 50
) -> Probe:
    """Logistic regression of 0/1 ``labels`` (L,) on standardised ``states`` (L, H).

    Minimises ``J(w, b) = sum_t [log(1 + e^{s_t}) - y_t s_t] + l2/2 |w|^2`` with
    ``s_t = w . x_t + b``, the bias not penalised. J is convex (strictly, for
    ``l2 > 0``), with gradient ``X^T (p - y) + l2 w`` and Hessian
    ``X^T diag(p (1 - p)) X + l2 I``, ``p = sigmoid(s)``: Newton's method, with the
    step halved until J falls, reaches its minimum in a few steps.
    """
    states, y = _check(states, labels, "labels")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1; for a numeric property use fit_linear_probe")
    if y.min() == y.max():
        raise ValueError(f"every label is {y[0]:g}: a probe needs both classes in the span it is fitted on")
    if l2 <= 0:
        raise ValueError(f"l2 must be positive (it keeps separable data's weights finite), got {l2}")
    z, mean, scale = _standardised(states)
    X = np.hstack([z, np.ones((len(z), 1))])  # (L, H + 1): the last column is the bias
    penalty = np.full(X.shape[1], l2)
    penalty[-1] = 0.0

    def objective(w: np.ndarray) -> float:
        s = X @ w
        return float(np.logaddexp(0.0, s).sum() - y @ s + 0.5 * (penalty * w) @ w)

    w = np.zeros(X.shape[1])
    j = objective(w)
    for _ in range(max_steps):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))  # (L,)
        gradient = X.T @ (p - y) + penalty * w  # (H + 1,)
        hessian = (X * (p * (1 - p))[:, None]).T @ X + np.diag(penalty)  # (H + 1, H + 1)
        step = np.linalg.solve(hessian + 1e-12 * np.eye(len(w)), gradient)
        t = 1.0
        while objective(w - t * step) > j and t > 1e-8:
            t /= 2
        w, j_before = w - t * step, j
        j = objective(w)
        if j_before - j <= tol * max(1.0, abs(j)):
            break
    return Probe("binary", mean, scale, w[:-1], float(w[-1]))


def fit_linear_probe(states: np.ndarray, values: np.ndarray, l2: float = 1.0) -> Probe:
    """Ridge regression of ``values`` (L,) on standardised ``states`` (L, H), the bias not penalised.

    ``w = (X^T X + l2 I)^{-1} X^T (v - mean(v))`` on the standardised states X (centred,
    so the bias is the mean of the values).
    """
    states, values = _check(states, values)
    if l2 < 0:
        raise ValueError(f"l2 must be at least 0, got {l2}")
    z, mean, scale = _standardised(states)
    w = np.linalg.solve(z.T @ z + l2 * np.eye(z.shape[1]), z.T @ (values - values.mean()))
    return Probe("numeric", mean, scale, w, float(values.mean()))


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Share of positions where the 0/1 prediction (L,) equals the 0/1 label (L,)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if predicted.shape != labels.shape:
        raise ValueError(f"predictions {predicted.shape} and labels {labels.shape} differ in shape")
    return float(np.mean((predicted > 0.5) == (labels > 0.5)))


def r_squared(predicted: np.ndarray, values: np.ndarray) -> float:
    """``1 - SSE / SST`` of predictions (L,) of ``values`` (L,): 1 perfect, 0 the held-out mean's, < 0 worse."""
    predicted, values = np.asarray(predicted, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if predicted.shape != values.shape:
        raise ValueError(f"predictions {predicted.shape} and values {values.shape} differ in shape")
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        raise ValueError("the values are constant on this span: R^2 is undefined; score on a longer span")
    return 1.0 - float(((values - predicted) ** 2).sum()) / total


@dataclass(frozen=True)
class ProbeScores:
    """Held-out scores of a probe of the whole state, of the reference that reads nothing, and of one unit.

    ``metric`` is ``"accuracy"`` (binary property) or ``"R^2"`` (numeric).
    ``baseline`` predicts the training span's majority class, or its mean, everywhere.
    ``one_unit`` is the same kind of probe fitted on the state of ``unit`` alone.
    """

    metric: str
    probe: float
    baseline: float
    one_unit: float
    unit: int


def probe_property(
    train_states: np.ndarray,
    train_values: np.ndarray,
    test_states: np.ndarray,
    test_values: np.ndarray,
    kind: PropertyKind,
    unit: int,
    l2: float = 1.0,
) -> ProbeScores:
    """Fit on the training span (L1, H), (L1,); score on the test span (L2, H), (L2,).

    Args:
        kind: ``"binary"`` (0/1 values, logistic probes, accuracy) or ``"numeric"``
            (ridge probes, R^2).
        unit: the single unit to compare with, chosen on the training span (e.g. by
            :func:`best_unit`), never on the test span.
        l2: the probes' penalty on standardised states.
    """
    train_states, train_values = _check(train_states, train_values, "train_values")
    test_states, test_values = _check(test_states, test_values, "test_values")
    if train_states.shape[1] != test_states.shape[1]:
        raise ValueError(
            f"train states have {train_states.shape[1]} units, test states {test_states.shape[1]}"
        )
    if not 0 <= unit < train_states.shape[1]:
        raise ValueError(f"unit {unit} is not one of the {train_states.shape[1]} units")
    fit: Callable[[np.ndarray, np.ndarray, float], Probe]
    score: Callable[[np.ndarray, np.ndarray], float]
    if kind == "binary":
        fit, score, metric = fit_logistic_probe, accuracy, "accuracy"
        reference = float(train_values.mean() >= 0.5)  # the training span's majority class
    elif kind == "numeric":
        fit, score, metric = fit_linear_probe, r_squared, "R^2"
        reference = float(train_values.mean())
    else:
        raise ValueError(f"kind must be 'binary' or 'numeric', got {kind!r}")
    one = slice(unit, unit + 1)
    return ProbeScores(
        metric,
        probe=score(fit(train_states, train_values, l2).predict(test_states), test_values),
        baseline=score(np.full(len(test_values), reference), test_values),
        one_unit=score(fit(train_states[:, one], train_values, l2).predict(test_states[:, one]), test_values),
        unit=unit,
    )
