"""Gradient flow through time: the backward recursion against numerical gradients and torch,
the bound, the spectrum, the verdicts, and the non-normal matrix's transient growth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.scratch.gradient_flow import (
    EXPLODES,
    GAMMA,
    GROWS_THEN_VANISHES,
    NEUTRAL,
    VANISHES,
    diagnose,
    flow_backward,
    flow_forward,
    gradient_norms,
    jacobian_bound,
    measure_gradient_flow,
    non_normal_matrix,
    power_norms,
    spectrum,
    step_jacobians,
    two_by_two_power_norms,
    with_spectral_radius,
)

ACTIVATIONS = ("tanh", "sigmoid", "relu")


def _inputs(seed: int, N: int = 3, T: int = 6, D: int = 2, H: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "W_xh": rng.standard_normal((H, D)),
        "W_hh": rng.standard_normal((H, H)),
        "b_h": rng.standard_normal(H) * 0.1,
        "g": rng.standard_normal((N, H)),
    }


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_state_gradients_match_numerical_gradients(activation: str) -> None:
    p = _inputs(1)
    _, cache = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], activation)
    grads = flow_backward(p["g"], cache)
    T = p["x"].shape[1]
    assert grads.shape == (3, T + 1, 4)
    for t in range(T + 1):
        # L = g . h_T as a function of h_t alone: run the remaining steps from h_t.
        h_t = p["h0"].copy() if t == 0 else cache.h[:, t - 1].copy()

        def last_state(h_t: np.ndarray = h_t, t: int = t) -> np.ndarray:
            if t == T:
                return h_t
            h, _ = flow_forward(p["x"][:, t:], h_t, p["W_xh"], p["W_hh"], p["b_h"], activation)
            return h[:, -1]

        numerical = numerical_gradient(last_state, h_t, p["g"])
        assert rel_error(grads[:, t], numerical) < 1e-6, (activation, t)


@pytest.mark.parametrize("activation", ("tanh", "relu"))
def test_state_gradients_agree_with_torch_autograd(activation: str) -> None:
    p = _inputs(2, N=2, T=9, D=3, H=5)
    _, cache = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], activation)
    ours = flow_backward(p["g"], cache)
    rnn = torch.nn.RNN(3, 5, nonlinearity=activation, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b_h"]))
        rnn.bias_hh_l0.zero_()
    h0 = torch.from_numpy(p["h0"]).requires_grad_()
    states = [h0]
    h = h0
    for t in range(9):  # one step at a time, to read every state's gradient
        _, h_n = rnn(torch.from_numpy(p["x"][:, t : t + 1]), h[None])
        h = h_n[0]
        h.retain_grad()
        states.append(h)
    (h * torch.from_numpy(p["g"])).sum().backward()
    theirs = np.stack([s.grad.numpy() for s in states], axis=1)
    assert rel_error(ours, theirs) < 1e-12


def test_gradient_norms_is_the_frobenius_norm_per_step() -> None:
    grads = np.zeros((2, 3, 2))
    grads[0, 1] = [3.0, 0.0]
    grads[1, 1] = [0.0, 4.0]
    assert np.allclose(gradient_norms(grads), [0.0, 5.0, 0.0])


def test_step_jacobians_are_the_derivatives_of_one_step() -> None:
    p = _inputs(3, N=1, T=2)
    h, _cache = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], "tanh")
    J = step_jacobians(h, p["W_hh"])[0, 1]  # dh_2/dh_1
    h1 = h[:, 0].copy()
    numerical = np.empty((4, 4))
    for i in range(4):
        unit = np.zeros((1, 4))
        unit[0, i] = 1.0

        def second(h1: np.ndarray = h1) -> np.ndarray:
            return flow_forward(p["x"][:, 1:], h1, p["W_xh"], p["W_hh"], p["b_h"])[0][:, 0]

        numerical[i] = numerical_gradient(second, h1, unit)[0]  # row i: d h_2[i] / d h_1
    assert rel_error(J, numerical) < 1e-6


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bound_holds_for_every_distance(activation: str) -> None:
    rng = np.random.default_rng(4)
    W = rng.standard_normal((6, 6)) * 0.6
    ratios = measure_gradient_flow(W, steps=30, batch=8, activation=activation, seed=5)
    bound = jacobian_bound(spectrum(W).sigma_max, GAMMA[activation], np.arange(31))
    # Per example ||dL/dh_{T-k}|| <= bound_k ||g|| and ||g|| = 1; so does the mean.
    assert np.all(ratios <= bound * (1 + 1e-12))
    assert ratios[0] == pytest.approx(1.0)


def test_spectrum_of_known_matrices() -> None:
    rotation = np.array([[0.0, -2.0], [2.0, 0.0]])  # eigenvalues +-2i: the real parts are 0
    assert spectrum(rotation) == pytest.approx((2.0, 2.0))
    shear = non_normal_matrix(3, 0.5, 4.0)
    sigma, rho = spectrum(shear)
    assert rho == pytest.approx(0.5) and sigma > 4.0


def test_spectrum_refuses_a_non_square_matrix() -> None:
    with pytest.raises(ValueError, match=r"W has shape \(2, 3\)"):
        spectrum(np.ones((2, 3)))


@pytest.mark.parametrize(
    ("W", "gamma", "verdict"),
    [
        (0.5 * np.eye(3), 1.0, VANISHES),
        (non_normal_matrix(4, 0.9, 2.0), 1.0, GROWS_THEN_VANISHES),
        (1.5 * np.eye(2), 1.0, EXPLODES),
        (1.5 * np.eye(2), 0.25, VANISHES),  # a sigmoid network: gamma = 1/4
        (np.array([[0.0, -1.2], [1.2, 0.0]]), 1.0, EXPLODES),  # complex eigenvalues of modulus 1.2
        (np.eye(5), 1.0, NEUTRAL),  # the IRNN's W_hh
        (4 * np.eye(3), 0.25, NEUTRAL),  # a sigmoid network at the boundary
        (np.array([[1.0, 1.0], [0.0, 1.0]]), 1.0, NEUTRAL),  # a Jordan block: polynomial growth only
        (np.array([[0.0, 1.0], [0.0, 0.0]]), 1.0, VANISHES),  # sigma_max = 1, rho = 0: W^2 = 0
    ],
)
def test_diagnose(W: np.ndarray, gamma: float, verdict: str) -> None:
    sigma, rho, said = diagnose(W, gamma)
    assert said == verdict
    assert sigma >= rho - 1e-12


def _orthogonal(seed: int, size: int) -> np.ndarray:
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    return Q


@pytest.mark.parametrize("seed", range(20))
def test_an_orthogonal_matrix_is_neutral_whatever_its_rounding(seed: int) -> None:
    # Chapter 3's remedy: rho and sigma_max are 1 up to a few ulp, above or below; the verdict holds.
    for W in (_orthogonal(seed, 3 + seed), np.eye(1 + seed)):
        sigma, rho, verdict = diagnose(W)
        assert verdict == NEUTRAL and abs(rho - 1) < 1e-12 and abs(sigma - 1) < 1e-12
        assert np.allclose(power_norms(W, 50), 1.0)  # what neutral means: the norm stays 1


def test_the_boundary_has_the_stated_width() -> None:
    for offset, verdict in ((-2e-6, VANISHES), (-5e-7, NEUTRAL), (5e-7, NEUTRAL), (2e-6, EXPLODES)):
        assert diagnose((1 + offset) * np.eye(2))[2] == verdict, offset
    assert diagnose(0.5 * np.eye(2), tolerance=0.6)[2] == NEUTRAL


def test_diagnose_agrees_with_the_powers_it_predicts() -> None:
    for W, gamma in ((non_normal_matrix(6, 0.9, 1.5), 1.0), (0.8 * np.eye(3), 1.0), (1.1 * np.eye(2), 1.0)):
        norms = power_norms(W, 1000, gamma)
        verdict = diagnose(W, gamma)[2]
        if verdict == VANISHES:
            assert np.all(np.diff(norms) < 0)
        elif verdict == GROWS_THEN_VANISHES:
            assert norms.max() > 1.0 and norms[-1] < 1e-3
        else:
            assert norms[-1] > 1e6


def test_non_normal_matrix_grows_by_orders_of_magnitude_before_it_decays() -> None:
    W = non_normal_matrix(10, 0.9, 2.0)
    assert spectrum(W).spectral_radius == pytest.approx(0.9)
    norms = power_norms(W, 400)
    assert norms.max() > 1e4  # transient growth by orders of magnitude
    assert norms[-1] < 1e-3 * norms.max()  # and the limit is decay
    # The eigenvalue alone would predict 0.9^k: compare at the peak.
    peak = int(np.argmax(norms))
    assert norms[peak] > 1e6 * 0.9**peak


def test_with_spectral_radius() -> None:
    rng = np.random.default_rng(6)
    W = with_spectral_radius(rng.standard_normal((8, 8)), 1.5)
    assert spectrum(W).spectral_radius == pytest.approx(1.5)


@pytest.mark.parametrize(("radius", "expected"), [(0.5, "vanish"), (1.5, "grow")])
def test_measured_flow_vanishes_or_grows_with_the_radius(radius: float, expected: str) -> None:
    # A linear regime: tiny inputs keep tanh near 0, so f' ~ 1 and rho decides.
    W = with_spectral_radius(np.random.default_rng(7).standard_normal((16, 16)), radius)
    ratios = measure_gradient_flow(W, steps=20, batch=8, input_scale=1e-6, seed=8)
    if expected == "vanish":
        assert ratios[-1] < 1e-3
    else:
        assert ratios[-1] > 1e2


def test_wrong_shapes_are_named() -> None:
    p = _inputs(9)
    with pytest.raises(ValueError, match="h0 has shape"):
        flow_forward(p["x"], p["h0"][:1], p["W_xh"], p["W_hh"], p["b_h"])
    _, cache = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])
    with pytest.raises(ValueError, match="dh_last has shape"):
        flow_backward(p["g"].T, cache)
    with pytest.raises(ValueError, match="activation must be"):
        flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], "gelu")  # type: ignore[arg-type]


def test_non_normal_blocks_end_the_growth_sooner() -> None:
    whole, blocks = non_normal_matrix(8, 0.9, 2.0), non_normal_matrix(8, 0.9, 2.0, block=4)
    assert blocks[3, 4] == 0.0 and blocks[2, 3] == 2.0 and whole[3, 4] == 2.0
    assert spectrum(blocks).spectral_radius == pytest.approx(0.9)
    # Degree 3 instead of 7: the peak of ||W^k|| comes earlier and is lower.
    assert np.argmax(power_norms(blocks, 300)) < np.argmax(power_norms(whole, 300))
    assert power_norms(blocks, 300).max() < power_norms(whole, 300).max()


@pytest.mark.parametrize(("radius", "coupling"), [(0.9, 2.0), (0.5, -3.0), (-0.95, 0.4), (1.1, 1.0)])
def test_the_two_by_two_closed_form_equals_the_matrix_powers(radius: float, coupling: float) -> None:
    powers = np.arange(120)
    closed = two_by_two_power_norms(radius, coupling, powers)
    assert rel_error(closed, power_norms(non_normal_matrix(2, radius, coupling), 119)) < 1e-12
    assert closed[0] == pytest.approx(1.0)


def test_the_two_by_two_peak_sits_near_minus_one_over_log_radius() -> None:
    norms = two_by_two_power_norms(0.9, 2.0, np.arange(200))
    assert abs(int(np.argmax(norms)) + 1 / np.log(0.9)) < 1.5  # -1 / ln 0.9 = 9.5
    assert norms.max() > 5 and norms[-1] < 1e-6  # grows about sevenfold, then decays
