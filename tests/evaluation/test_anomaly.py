"""Thresholds and the two ways of scoring a detector (rnncourse.evaluation.anomaly)."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.evaluation import anomaly


def test_segments_and_point_adjustment() -> None:
    labels = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 1])
    assert anomaly.segments(labels) == [(1, 4), (6, 8), (9, 10)]
    flags = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    assert np.array_equal(anomaly.point_adjust(flags, labels), [0, 1, 1, 1, 0, 1, 0, 0, 0, 0])


def test_scores_by_hand() -> None:
    labels = np.array([0, 1, 1, 1, 1, 0, 0, 0])
    flags = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    plain = anomaly.precision_recall_f1(flags, labels)
    assert (plain.tp, plain.fp, plain.fn) == (1, 1, 3)
    assert plain.precision == pytest.approx(0.5) and plain.recall == pytest.approx(0.25)
    assert plain.f1 == pytest.approx(1 / 3)
    both = anomaly.scores_with_and_without_adjustment(flags, labels)
    adjusted = both["point-adjusted"]
    assert (adjusted.tp, adjusted.fp, adjusted.fn) == (4, 1, 0)
    assert adjusted.f1 == pytest.approx(2 * 0.8 / 1.8)
    assert anomaly.precision_recall_f1(np.zeros(3), np.zeros(3)).f1 == 0.0


def test_point_adjustment_inflates_random_flags() -> None:
    # One long anomaly and a detector that flags 2% of the points at random.
    rng = np.random.default_rng(3)
    labels = np.zeros(2000, dtype=np.int64)
    labels[1000:1300] = 1
    flags = (rng.random(2000) < 0.02).astype(np.int64)
    both = anomaly.scores_with_and_without_adjustment(flags, labels)
    assert both["plain"].f1 < 0.1 < 0.7 < both["point-adjusted"].f1


def test_thresholds_and_errors() -> None:
    clean = np.arange(101.0)
    assert anomaly.quantile_threshold(clean, 0.99) == pytest.approx(99.0)
    assert anomaly.sigma_threshold(np.array([1.0, 3.0]), 2.0) == pytest.approx(4.0)
    assert np.array_equal(anomaly.prediction_errors(np.array([1.0, 2.0]), np.array([3.0, 2.0])), [2.0, 0.0])
    with pytest.raises(ValueError, match="expected"):
        anomaly.prediction_errors(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        anomaly.quantile_threshold(clean, 0.0)


def test_budget_threshold_keeps_its_false_alarm_budget_on_gaussian_errors() -> None:
    """On errors that really are Gaussian, the rule raises about ``alarms`` false alarms per span."""
    rng = np.random.default_rng(11)
    clean = np.abs(rng.normal(0.0, 2.0, size=20_000))
    span = 1_000
    tau = anomaly.budget_threshold(clean, span, alarms=1.0)
    # z for a two-sided 1/1000 tail is 3.29; sigma is estimated from mean(e^2), here 2
    assert tau == pytest.approx(2.0 * 3.2905, rel=0.03)
    scans = np.abs(rng.normal(0.0, 2.0, size=(400, span)))
    alarms_per_scan = (scans > tau).sum(axis=1).mean()
    assert 0.7 < alarms_per_scan < 1.3
    # a larger budget sets a lower threshold
    assert anomaly.budget_threshold(clean, span, alarms=10.0) < tau


def test_budget_threshold_refuses_an_impossible_budget() -> None:
    with pytest.raises(ValueError, match="0 < alarms < span"):
        anomaly.budget_threshold(np.ones(5), span=10, alarms=10.0)
