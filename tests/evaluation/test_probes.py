"""Linear probes and single units (rnncourse.evaluation.probes): they find what is planted, and only that."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.evaluation import probes


def planted(rng: np.random.Generator, L: int, H: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Noise states (L, H), and their projection (L,) on a random direction spread over every unit."""
    states = rng.normal(size=(L, H))
    w = rng.normal(size=H)
    return states, states @ w / np.linalg.norm(w)


def test_correlations_equal_numpys_and_a_constant_unit_has_none() -> None:
    rng = np.random.default_rng(1)
    states = rng.normal(size=(300, 5))
    states[:, 2] = 4.0
    values = states[:, 0] - 0.5 * states[:, 3] + rng.normal(size=300)
    r = probes.correlations(states, values)
    for j in (0, 1, 3, 4):
        assert r[j] == pytest.approx(np.corrcoef(states[:, j], values)[0, 1], abs=1e-12)
    assert r[2] == 0.0


def test_best_unit_finds_a_planted_unit_with_its_sign() -> None:
    rng = np.random.default_rng(2)
    feature = (rng.random(500) < 0.3).astype(float)
    states = rng.normal(size=(500, 6))
    states[:, 4] = -2.0 * feature + 0.1 * rng.normal(size=500)
    unit, r = probes.best_unit(states, feature)
    assert unit == 4 and r < -0.95


def test_the_logistic_probe_reaches_the_minimum_torch_finds() -> None:
    """Same objective minimised by torch's L-BFGS: the same weights (an independent solver)."""
    rng = np.random.default_rng(3)
    states, s = planted(rng, 400, H=6)
    labels = (s + rng.normal(size=400) > 0).astype(float)
    probe = probes.fit_logistic_probe(states, labels, l2=2.0)
    x = torch.from_numpy((states - states.mean(axis=0)) / states.std(axis=0))
    y = torch.from_numpy(labels)
    w = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS(
        [w, b], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe"
    )

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y, reduction="sum")
        value = value + 1.0 * (w**2).sum()  # l2 / 2 |w|^2 with l2 = 2
        value.backward()
        return value

    optimiser.step(loss)
    weights, bias = w.detach().numpy(), float(b.detach())
    scale = np.abs(weights).max()
    assert np.abs(probe.weights - weights).max() < 1e-6 * scale
    assert abs(probe.bias - bias) < 1e-6 * scale


def test_a_probe_recovers_a_property_spread_over_every_unit_that_no_single_unit_holds() -> None:
    rng = np.random.default_rng(4)
    states, s = planted(rng, 4000)
    labels = (s > 0.3).astype(float)  # linearly encoded: no noise on the label
    unit, _ = probes.best_unit(states[:2000], labels[:2000])
    scores = probes.probe_property(states[:2000], labels[:2000], states[2000:], labels[2000:], "binary", unit)
    share = labels[2000:].mean()
    assert scores.metric == "accuracy" and scores.unit == unit
    assert scores.baseline == pytest.approx(max(share, 1 - share))  # the majority class, here 0
    assert scores.probe > 0.97
    # One unit holds about |w_j| / |w| of the signal: far below the probe of all 20.
    assert scores.one_unit < scores.probe - 0.1


def test_a_probe_of_noise_stays_at_the_baseline() -> None:
    rng = np.random.default_rng(5)
    states = rng.normal(size=(6000, 20))
    labels = (rng.random(6000) < 0.3).astype(float)  # independent of the states
    values = rng.normal(size=6000)
    unit, _ = probes.best_unit(states[:3000], labels[:3000])
    binary = probes.probe_property(states[:3000], labels[:3000], states[3000:], labels[3000:], "binary", unit)
    # 3,000 held-out labels: one standard error of an accuracy is about 0.008.
    assert abs(binary.probe - binary.baseline) < 0.03
    numeric = probes.probe_property(states[:3000], values[:3000], states[3000:], values[3000:], "numeric", 0)
    assert numeric.metric == "R^2" and abs(numeric.probe) < 0.03 and abs(numeric.baseline) < 0.01


def test_a_linear_probe_recovers_a_numeric_property_and_the_mean_scores_zero() -> None:
    rng = np.random.default_rng(6)
    states, s = planted(rng, 2000)
    values = 3.0 * s + 10.0 + 0.1 * rng.normal(size=2000)  # R^2 about 1 - 0.01 / 9
    unit, _ = probes.best_unit(states[:1000], values[:1000])
    scores = probes.probe_property(
        states[:1000], values[:1000], states[1000:], values[1000:], "numeric", unit
    )
    assert scores.probe > 0.99
    assert abs(scores.baseline) < 0.01  # the training mean predicts the held-out mean
    assert 0.0 < scores.one_unit < 0.5
    # Unpenalised, the probe is ordinary least squares with an intercept on the raw states.
    probe = probes.fit_linear_probe(states, values, l2=0.0)
    design = np.hstack([states, np.ones((2000, 1))])
    coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
    assert np.abs(probe.predict(states) - design @ coefficients).max() < 1e-9 * values.std()


def test_scores_by_hand() -> None:
    assert probes.accuracy(np.array([1.0, 0.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0, 0.0])) == 0.5
    assert probes.r_squared(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == 1.0
    # predicting the mean everywhere: SSE = SST
    assert probes.r_squared(np.full(3, 2.0), np.array([1.0, 2.0, 3.0])) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: probes.correlations(np.zeros(5), np.zeros(5)), "states must be"),
        (lambda: probes.correlations(np.zeros((5, 2)), np.zeros(4)), "one per row"),
        (lambda: probes.fit_logistic_probe(np.eye(4), np.array([0, 1, 2, 1.0])), "0 or 1"),
        (lambda: probes.fit_logistic_probe(np.eye(4), np.ones(4)), "both classes"),
        (lambda: probes.r_squared(np.zeros(3), np.ones(3)), "constant"),
        (
            lambda: probes.probe_property(
                np.eye(4), np.array([0, 1, 0, 1.0]), np.eye(4), np.ones(4), "binary", 7
            ),
            "not one of the 4 units",
        ),
        (lambda: probes.probe_property(np.eye(4), np.ones(4), np.eye(4), np.ones(4), "count", 0), "kind"),
    ],
)
def test_bad_input_gets_a_message_that_says_what_is_wrong(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
