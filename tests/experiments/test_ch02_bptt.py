"""Chapter 2's experiment code: the two notations agree, truncation and its errors behave as the page says."""

from __future__ import annotations

import numpy as np
import torch

from rnncourse.experiments import ch02_bptt as experiments
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.scratch.tbptt import rnn_lm_loss_and_grads


def _one_sequence(seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    H, D, C, T = 5, 3, 4, 7
    params = {
        "W_xh": rng.normal(size=(H, D)),
        "W_hh": 0.6 * rng.normal(size=(H, H)),
        "b_h": 0.1 * rng.normal(size=H),
        "W_hy": rng.normal(size=(C, H)),
        "b_y": np.zeros(C),
    }
    return params, rng.normal(size=(T, D)), rng.integers(0, C, T), 0.5 * rng.normal(size=H)


def test_adjoint_and_double_sum_are_the_true_gradient_and_the_short_formula_is_not() -> None:
    params, x, y, h0 = _one_sequence(0)
    adjoint = experiments.dW_hh_adjoint(params, x, y, h0)
    numeric = numerical_gradient(
        lambda: np.array(rnn_lm_loss_and_grads(params, x[None], y[None], None, h0[None])[0]),
        params["W_hh"],
        np.array(1.0),
    )
    assert rel_error(adjoint, numeric) < 1e-7
    assert rel_error(experiments.dW_hh_double_sum(params, x, y, h0), adjoint) < 1e-12
    assert rel_error(experiments.dW_hh_double_sum(params, x, y, h0, inner=False), adjoint) > 0.1
    assert not experiments.dW_hh_double_sum(params, x, y, np.zeros(5), inner=False).any()


def test_detach_bounds_the_backward_and_retain_graph_does_not() -> None:
    assert experiments.steps_reached_by_backward(chunks=4, k=3, detach=True) == [3, 3, 3, 3]
    assert experiments.steps_reached_by_backward(chunks=4, k=3, detach=False) == [3, 6, 9, 12]
    errors = experiments.boundary_errors()
    assert "backward through the graph a second time" in errors["no detach"]
    assert "modified by an inplace operation" in errors["retain_graph=True"]


def test_sum_loss_scales_the_gradient_by_the_number_of_terms() -> None:
    measured = experiments.sum_versus_mean(seed=1, B=3, T=4)
    assert abs(measured["grad_norm_ratio"] - 12.0) < 1e-9
    assert measured["adam_step_difference"] < 0.05


def test_truncated_memory_is_flat_and_full_memory_grows() -> None:
    torch.manual_seed(0)
    full = [experiments.bptt_cost(T, None, B=2, H=8, V=5)["saved_bytes"] for T in (20, 40)]
    truncated = [experiments.bptt_cost(T, 10, B=2, H=8, V=5)["saved_bytes"] for T in (20, 40)]
    assert full[1] > 1.9 * full[0]
    assert truncated[0] == truncated[1] < full[0]


def test_clipping_angles_on_a_known_gradient() -> None:
    angles = experiments.clipping_angles({"w": np.array([3.0, 4.0])}, 1.0)
    assert abs(angles["norm"] - 5.0) < 1e-12
    assert angles["global_norm_angle"] < 1e-6 and abs(angles["global_norm_norm"] - 1.0) < 1e-12
    assert abs(angles["elementwise_angle"] - (53.13010235415598 - 45.0)) < 1e-9  # (1, 1) against (3, 4)


def test_saved_memory_counts_a_weight_saved_at_every_step_once() -> None:
    W = torch.randn(100, 100, requires_grad=True)  # float32: 40,000 bytes
    h = torch.randn(1, 100)
    with experiments.saved_bytes() as kept:
        for _ in range(10):
            h = h @ W  # each product saves its h (400 bytes) and, from the second on, W again
    assert kept[0] == 40_000 + 10 * 400
    with experiments.saved_bytes([W]) as without_weights:
        for _ in range(10):
            h = h @ W
    assert without_weights[0] == 10 * 400
