"""Anomaly detection by prediction error, and how to score it honestly.

A forecaster trained on normal data predicts each next value; where the
series does something it never saw, the error ``e_t = |y_t - yhat_t|`` is
large. The detector flags ``e_t > tau``, with the threshold ``tau`` chosen
on *clean validation* errors (normal data the model did not train on), e.g.
their q-quantile or ``mean + k std``: never on the test labels.

Scoring. With ``pred`` and ``label`` in {0, 1} per time step:
precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean.
Many papers first apply **point adjustment**: if any point of a labelled
anomalous segment is flagged, every point of that segment counts as found.
One lucky flag in a long segment then becomes many true positives, so a
detector that flags points at random can reach a high F1 (Kim et al., 2022,
"Towards a rigorous evaluation of time-series anomaly detection"). Report
both.

Shapes: T time steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from rnncourse.checks import check_shape


def prediction_errors(values: np.ndarray, forecasts: np.ndarray) -> np.ndarray:
    """``|values - forecasts|``, both (T,) -> (T,)."""
    (T,) = check_shape("values", values, {"T": None})
    check_shape("forecasts", forecasts, {"T": T})
    return np.abs(np.asarray(values, dtype=np.float64) - forecasts)


def quantile_threshold(clean_errors: np.ndarray, q: float) -> float:
    """The q-quantile of errors on clean validation data (0 < q <= 1): a share 1 - q of normal points exceeds it."""
    check_shape("clean_errors", clean_errors, {"T_val": None})
    if not 0.0 < q <= 1.0:
        raise ValueError(f"q must be in (0, 1], got {q}")
    return float(np.quantile(clean_errors, q))


def sigma_threshold(clean_errors: np.ndarray, k: float) -> float:
    """``mean + k std`` of errors on clean validation data."""
    check_shape("clean_errors", clean_errors, {"T_val": None})
    return float(np.mean(clean_errors) + k * np.std(clean_errors))


def budget_threshold(clean_errors: np.ndarray, span: int, alarms: float = 1.0) -> float:
    """The threshold at which Gaussian prediction errors would raise ``alarms`` false alarms in ``span`` points.

        sigma = sqrt(mean(e^2)) over the clean errors e = |y - yhat|
        tau = sigma * z,   P(|N(0, 1)| > z) = alarms / span

    A rule stated before the scan, from clean data and a false-alarm budget
    alone. Real errors have heavier tails than a Gaussian's, so the scan may
    raise more false alarms than the budget: that is the measurement.
    """
    check_shape("clean_errors", clean_errors, {"T_val": None})
    if not 0 < alarms < span:
        raise ValueError(f"need 0 < alarms < span, got {alarms} and {span}")
    z = NormalDist().inv_cdf(1.0 - alarms / (2.0 * span))
    return float(np.sqrt(np.mean(clean_errors**2)) * z)


def segments(labels: np.ndarray) -> list[tuple[int, int]]:
    """The runs of 1s in ``labels`` (T,) as half-open ``(start, stop)`` intervals."""
    check_shape("labels", labels, {"T": None})
    padded = np.concatenate([[0], (np.asarray(labels) > 0).astype(np.int64), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2])]


def point_adjust(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mark a whole labelled segment as detected when any of its points is flagged; (T,) -> (T,) int64."""
    (T,) = check_shape("predicted", predicted, {"T": None})
    check_shape("labels", labels, {"T": T})
    adjusted = (np.asarray(predicted) > 0).astype(np.int64)
    for start, stop in segments(labels):
        if adjusted[start:stop].any():
            adjusted[start:stop] = 1
    return adjusted


@dataclass(frozen=True)
class Scores:
    """Point-wise counts and rates; a rate with an empty denominator is 0."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float


def precision_recall_f1(predicted: np.ndarray, labels: np.ndarray) -> Scores:
    """Point-wise precision, recall and F1 of ``predicted`` against ``labels``, both (T,) in {0, 1}."""
    (T,) = check_shape("predicted", predicted, {"T": None})
    check_shape("labels", labels, {"T": T})
    p, y = np.asarray(predicted) > 0, np.asarray(labels) > 0
    tp, fp, fn = int(np.sum(p & y)), int(np.sum(p & ~y)), int(np.sum(~p & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(tp, fp, fn, precision, recall, f1)


def scores_with_and_without_adjustment(predicted: np.ndarray, labels: np.ndarray) -> dict[str, Scores]:
    """``{"plain": ..., "point-adjusted": ...}``: the two ways of scoring the same flags."""
    return {
        "plain": precision_recall_f1(predicted, labels),
        "point-adjusted": precision_recall_f1(point_adjust(predicted, labels), labels),
    }
