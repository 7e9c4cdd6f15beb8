"""The LSTM variants: numerical gradients, the equations that distinguish them, shapes."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.lstm import lstm_step_forward
from rnncourse.scratch.lstm_variants import (
    VARIANT_GATES,
    count_params,
    init_variant_params,
    variant_step_backward,
    variant_step_forward,
)

N, D, H = 3, 4, 5


def problem(variant: str, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = init_variant_params(variant, D, H, rng)  # type: ignore[arg-type]
    params = {name: 3 * value for name, value in params.items()}  # away from the linear regime
    arrays = {
        "x_t": rng.normal(size=(N, D)),
        "h_prev": rng.normal(size=(N, H)),
        "c_prev": rng.normal(size=(N, H)),
    }
    return params, arrays


@pytest.mark.parametrize("variant", sorted(VARIANT_GATES))
def test_backward_matches_numerical_gradients(variant: str) -> None:
    params, arrays = problem(variant, 1)
    rng = np.random.default_rng(2)
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))

    def f() -> np.ndarray:
        h, c, _ = variant_step_forward(variant, arrays["x_t"], arrays["h_prev"], arrays["c_prev"], params)  # type: ignore[arg-type]
        return np.concatenate([h, c], axis=1)

    _, _, cache = variant_step_forward(variant, arrays["x_t"], arrays["h_prev"], arrays["c_prev"], params)  # type: ignore[arg-type]
    dx, dh_prev, dc_prev, grads = variant_step_backward(dh, dc, cache)
    analytic = {"x_t": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads}
    check_gradients(f, {**arrays, **params}, analytic, np.concatenate([dh, dc], axis=1))


def test_no_forget_cell_only_accumulates() -> None:
    params, a = problem("no_forget", 3)
    _, c, cache = variant_step_forward("no_forget", a["x_t"], a["h_prev"], a["c_prev"], params)
    assert rel_error(c, a["c_prev"] + cache.gates["i"] * cache.gates["g"]) < 1e-14
    # Along the cell path the gradient passes unchanged: dc_{t-1} = dc_t when dh_t = 0.
    dc = np.random.default_rng(4).normal(size=(N, H))
    assert rel_error(variant_step_backward(np.zeros((N, H)), dc, cache)[2], dc) < 1e-14


def test_coupled_forget_gate_is_one_minus_input_gate() -> None:
    params, a = problem("coupled", 5)
    _, c, cache = variant_step_forward("coupled", a["x_t"], a["h_prev"], a["c_prev"], params)
    i, g = cache.gates["i"], cache.gates["g"]
    assert rel_error(c, (1 - i) * a["c_prev"] + i * g) < 1e-14


def test_peephole_with_zero_peepholes_is_the_vanilla_lstm() -> None:
    params, a = problem("peephole", 6)
    params["p"] = np.zeros((3, H))
    h, c, _ = variant_step_forward("peephole", a["x_t"], a["h_prev"], a["c_prev"], params)
    h_ref, c_ref, _ = lstm_step_forward(
        a["x_t"], a["h_prev"], a["c_prev"], params["W_xh"], params["W_hh"], params["b"]
    )
    assert rel_error(h, h_ref) < 1e-14 and rel_error(c, c_ref) < 1e-14
    params["p"] = np.ones((3, H))  # and peepholes change it
    assert (
        rel_error(variant_step_forward("peephole", a["x_t"], a["h_prev"], a["c_prev"], params)[0], h_ref)
        > 1e-3
    )


def test_parameter_counts() -> None:
    # G H (D + H + 1): counted by hand for D = 4, H = 5.
    assert count_params("vanilla", 4, 5) == 4 * 5 * 10
    assert count_params("no_forget", 4, 5) == count_params("coupled", 4, 5) == 3 * 5 * 10
    assert count_params("peephole", 4, 5) == 4 * 5 * 10 + 15


def test_wrong_shapes_and_variants_are_named() -> None:
    params, a = problem("coupled", 7)
    with pytest.raises(ValueError, match="W_hh"):
        variant_step_forward(
            "coupled", a["x_t"], a["h_prev"], a["c_prev"], {**params, "W_hh": params["W_hh"][:4]}
        )
    with pytest.raises(ValueError, match="variant must be one of"):
        variant_step_forward("gru", a["x_t"], a["h_prev"], a["c_prev"], params)  # type: ignore[arg-type]
    peep, _ = problem("peephole", 7)
    with pytest.raises(ValueError, match="p has shape"):
        variant_step_forward("peephole", a["x_t"], a["h_prev"], a["c_prev"], {**peep, "p": np.zeros((2, H))})
