"""The NumPy GRU: numerical gradients, torch.nn.GRU/GRUCell, dtypes, shapes."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.gru import (
    GRUStepCache,
    from_keras,
    gru_backward,
    gru_forward,
    gru_reset_before_step_backward,
    gru_reset_before_step_forward,
    gru_step_backward,
    gru_step_forward,
    keras_gru_step,
    to_keras,
)
from tests.scratch.torch_helpers import (
    assert_float32_close_to_float64,
    assert_gradients_match_torch,
    check_step_in_float32,
    for_any_sequence_shape,
    make_module,
    numpy_params,
    run_torch,
)

PARAMS = ("W_xh", "W_hh", "b_xh", "b_hh")
TORCH_NAMES = {"W_xh": "weight_ih", "W_hh": "weight_hh", "b_xh": "bias_ih", "b_hh": "bias_hh"}
# torch's names for what gru_backward returns, in its order.
TORCH_GRADIENTS = ("x", "h0", *(TORCH_NAMES[k] for k in PARAMS))


def random_problem(rng: np.random.Generator, N: int, T: int, D: int, H: int) -> dict:
    """Inputs, weights and upstream gradients, float64, of moderate scale."""
    scale = 2 / np.sqrt(H)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "W_xh": rng.uniform(-scale, scale, (3 * H, D)),
        "W_hh": rng.uniform(-scale, scale, (3 * H, H)),
        "b_xh": rng.uniform(-1, 1, 3 * H),
        "b_hh": rng.uniform(-1, 1, 3 * H),
        "dh": rng.standard_normal((N, T, H)),
    }


def sequence_output(p: dict) -> np.ndarray:
    h, _ = gru_forward(p["x"], p["h0"], *(p[k] for k in PARAMS))
    return h


def sequence_gradients(p: dict) -> dict[str, np.ndarray]:
    _, cache = gru_forward(p["x"], p["h0"], *(p[k] for k in PARAMS))
    return dict(zip(("x", "h0", *PARAMS), gru_backward(p["dh"], cache), strict=True))


def step_loop(p: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The sequence run with the reference step functions, forward and backward."""
    T = p["x"].shape[1]
    h_t, caches, hs = p["h0"], [], []
    for t in range(T):
        h_t, cache = gru_step_forward(p["x"][:, t], h_t, *(p[k] for k in PARAMS))
        caches.append(cache)
        hs.append(h_t)
    dh_next = np.zeros_like(h_t)
    grads = {k: np.zeros_like(p[k]) for k in ("x", *PARAMS)}
    for t in reversed(range(T)):
        dx_t, dh_next, *dparams = gru_step_backward(p["dh"][:, t] + dh_next, caches[t])
        grads["x"][:, t] = dx_t
        for k, d in zip(PARAMS, dparams, strict=True):
            grads[k] += d
    grads["h0"] = dh_next
    return np.stack(hs, axis=1), grads


# --- numerical gradients ----------------------------------------------------


def step_inputs(p: dict) -> dict[str, np.ndarray]:
    return {"x_t": p["x"][:, 0].copy(), "h_prev": p["h0"]} | {k: p[k] for k in PARAMS}


def test_step_backward_matches_numerical_gradients() -> None:
    rng = np.random.default_rng(10)
    N, D, H = 3, 4, 5
    inputs = step_inputs(random_problem(rng, N, 1, D, H))
    dh_t = rng.standard_normal((N, H))
    _, cache = gru_step_forward(*inputs.values())
    analytic = dict(zip(inputs, gru_step_backward(dh_t, cache), strict=True))
    check_gradients(lambda: gru_step_forward(*inputs.values())[0], inputs, analytic, dh_t)


def test_sequence_backward_matches_numerical_gradients() -> None:
    p = random_problem(np.random.default_rng(11), 2, 4, 3, 4)
    inputs = {k: p[k] for k in ("x", "h0", *PARAMS)}
    check_gradients(lambda: sequence_output(p), inputs, sequence_gradients(p), p["dh"])


# --- torch ------------------------------------------------------------------


def test_step_matches_torch_gru_cell() -> None:
    rng = np.random.default_rng(12)
    N, D, H = 4, 3, 5
    cell = make_module("gru", D, H, seed=12, cell=True)
    w = numpy_params(cell)
    x_t = rng.standard_normal((N, D))
    h_prev, dh_t = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    (h_ref,), ref = run_torch(cell, x_t, [h_prev], [dh_t])

    h_t, cache = gru_step_forward(x_t, h_prev, *(w[TORCH_NAMES[k]] for k in PARAMS))
    assert rel_error(h_t, h_ref) < 1e-10
    assert_gradients_match_torch(gru_step_backward(dh_t, cache), TORCH_GRADIENTS, ref)


def check_against_torch(N: int, T: int, D: int, H: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gru = make_module("gru", D, H, seed=seed)
    w = numpy_params(gru)
    x, dh = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    h0 = rng.standard_normal((N, H))
    (h_ref, _), ref = run_torch(gru, x, [h0], [dh, None])

    h, cache = gru_forward(x, h0, *(w[TORCH_NAMES[k]] for k in PARAMS))
    assert rel_error(h, h_ref) < 1e-10
    assert_gradients_match_torch(gru_backward(dh, cache), TORCH_GRADIENTS, ref)


def test_sequence_matches_torch_gru() -> None:
    check_against_torch(N=3, T=7, D=4, H=5, seed=13)


@for_any_sequence_shape()
def test_sequence_matches_torch_gru_for_any_shape(N: int, T: int, D: int, H: int, seed: int) -> None:
    check_against_torch(N, T, D, H, seed)


# --- the fast sequence code against the reference step code -----------------


@for_any_sequence_shape()
def test_sequence_functions_equal_a_loop_of_step_functions(N: int, T: int, D: int, H: int, seed: int) -> None:
    p = random_problem(np.random.default_rng(seed), N, T, D, H)
    h_steps, grads_steps = step_loop(p)
    h = sequence_output(p)
    assert h.shape == (N, T, H)
    assert rel_error(h, h_steps) < 1e-10
    for name, g in sequence_gradients(p).items():
        assert g.shape == p[name].shape, name
        assert rel_error(g, grads_steps[name]) < 1e-10, name


# --- dtypes -----------------------------------------------------------------


def test_float32_in_float32_out_close_to_float64() -> None:
    """Relative error measured against each array's largest entry (see scaled_error)."""
    p64 = random_problem(np.random.default_rng(14), 4, 6, 5, 7)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    assert_float32_close_to_float64({"h": sequence_output(p32)}, {"h": sequence_output(p64)})
    assert_float32_close_to_float64(sequence_gradients(p32), sequence_gradients(p64))
    check_step_in_float32(
        gru_step_forward, gru_step_backward, list(step_inputs(p32).values()), [p32["dh"][:, 0]]
    )


# --- tests that must be able to fail ----------------------------------------


def test_checker_rejects_a_reset_gate_gradient_without_b_hn() -> None:
    """dr = da_n ⊙ (W_hn h_{t-1} + b_hn); leaving b_hn out (as if the two
    biases could be merged, as in the LSTM) is a mistake the check must catch."""
    rng = np.random.default_rng(15)
    N, D, H = 3, 4, 5
    inputs = step_inputs(random_problem(rng, N, 1, D, H))
    dh_t = rng.standard_normal((N, H))
    _, cache = gru_step_forward(*inputs.values())
    broken = cache._replace(hn=cache.hn - inputs["b_hh"][2 * H :])
    assert isinstance(broken, GRUStepCache)
    analytic = dict(zip(inputs, gru_step_backward(dh_t, broken), strict=True))
    with pytest.raises(AssertionError, match="db_hh"):
        check_gradients(lambda: gru_step_forward(*inputs.values())[0], inputs, analytic, dh_t)


def test_torch_comparison_notices_merged_biases() -> None:
    """Unlike the LSTM's, the GRU's two biases cannot be summed into one."""
    rng = np.random.default_rng(16)
    N, T, D, H = 2, 5, 3, 4
    gru = make_module("gru", D, H, seed=16)
    w = numpy_params(gru)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    (h_ref, _), _ = run_torch(gru, x, [h0], [np.zeros((N, T, H)), None])
    merged = w["bias_ih"] + w["bias_hh"]
    h, _ = gru_forward(x, h0, w["weight_ih"], w["weight_hh"], merged, np.zeros_like(merged))
    assert rel_error(h, h_ref) > 1e-3


def test_backward_consumes_its_cache() -> None:
    p = random_problem(np.random.default_rng(17), 2, 3, 2, 3)
    _, cache = gru_forward(p["x"], p["h0"], *(p[k] for k in PARAMS))
    gru_backward(p["dh"], cache)
    assert cache.work.gates is None and cache.work.hn is None  # released
    with pytest.raises(RuntimeError, match="already used"):
        gru_backward(p["dh"], cache)


def test_forward_and_backward_leave_their_inputs_alone() -> None:
    """The fast code works in place on its own buffers, never on the caller's arrays."""
    p = random_problem(np.random.default_rng(18), 3, 4, 2, 3)
    before = {k: v.copy() for k, v in p.items()}
    _, cache = gru_forward(p["x"], p["h0"], *(p[k] for k in PARAMS))
    gru_backward(p["dh"], cache)
    for name, value in before.items():
        assert np.array_equal(p[name], value), name


# --- the reset-before variant (Cho et al. 2014) -------------------------------


def test_reset_before_step_backward_matches_numerical_gradients() -> None:
    rng = np.random.default_rng(20)
    N, D, H = 3, 4, 5
    inputs = step_inputs(random_problem(rng, N, 1, D, H))
    dh_t = rng.standard_normal((N, H))
    _, cache = gru_reset_before_step_forward(*inputs.values())
    analytic = dict(zip(inputs, gru_reset_before_step_backward(dh_t, cache), strict=True))
    check_gradients(lambda: gru_reset_before_step_forward(*inputs.values())[0], inputs, analytic, dh_t)


def test_reset_before_matches_its_equation_written_per_unit() -> None:
    """n_j = tanh(x W_xn[j] + b_xn[j] + sum_k W_hn[j, k] r_k h_k + b_hn[j]), one example, loops."""
    rng = np.random.default_rng(21)
    D, H = 3, 4
    p = random_problem(rng, 1, 1, D, H)
    x, h = p["x"][0, 0], p["h0"][0]
    W_xh, W_hh, b_xh, b_hh = (p[k] for k in PARAMS)

    def sig(v: float) -> float:
        return 1 / (1 + np.exp(-v))

    r = [sig(W_xh[j] @ x + b_xh[j] + W_hh[j] @ h + b_hh[j]) for j in range(H)]
    z = [sig(W_xh[H + j] @ x + b_xh[H + j] + W_hh[H + j] @ h + b_hh[H + j]) for j in range(H)]
    expected = []
    for j in range(H):
        inner = sum(W_hh[2 * H + j, k] * r[k] * h[k] for k in range(H))
        n_j = np.tanh(W_xh[2 * H + j] @ x + b_xh[2 * H + j] + inner + b_hh[2 * H + j])
        expected.append((1 - z[j]) * n_j + z[j] * h[j])
    h_t, _ = gru_reset_before_step_forward(p["x"][:, 0], p["h0"], W_xh, W_hh, b_xh, b_hh)
    assert rel_error(h_t[0], np.array(expected)) < 1e-12


def test_the_two_variants_are_different_functions() -> None:
    """Same weights, different outputs (and they agree when r = 1 and b_hn = 0)."""
    p = random_problem(np.random.default_rng(22), 4, 1, 3, 5)
    args = [p["x"][:, 0], p["h0"], *(p[k] for k in PARAMS)]
    after, _ = gru_step_forward(*args)
    before, _ = gru_reset_before_step_forward(*args)
    assert rel_error(after, before) > 1e-2
    # Force r = 1 (a huge reset bias) and b_hn = 0: then both candidates are tanh(... + W_hn h).
    H = p["h0"].shape[1]
    b_hh = p["b_hh"].copy()
    b_hh[:H], b_hh[2 * H :] = 50.0, 0.0
    args[5] = b_hh
    assert rel_error(gru_step_forward(*args)[0], gru_reset_before_step_forward(*args)[0]) < 1e-12


def test_reset_before_rejects_wrong_shapes() -> None:
    p = random_problem(np.random.default_rng(23), 2, 1, 3, 4)
    with pytest.raises(ValueError, match="W_hh"):
        gru_reset_before_step_forward(p["x"][:, 0], p["h0"], p["W_xh"], p["W_hh"][:8], p["b_xh"], p["b_hh"])


# --- Keras's layout -------------------------------------------------------------


def test_torch_weights_ported_to_keras_reset_after_give_torch_output() -> None:
    """torch.nn.GRUCell's weights, moved to Keras's layout, run through Keras's equations."""
    rng = np.random.default_rng(24)
    N, D, H = 3, 4, 5
    cell = make_module("gru", D, H, seed=24, cell=True)
    w = numpy_params(cell)
    x_t, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    (h_ref,), _ = run_torch(cell, x_t, [h_prev], [np.zeros((N, H))])
    keras = to_keras(*(w[TORCH_NAMES[k]] for k in PARAMS), reset_after=True)
    assert keras.kernel.shape == (D, 3 * H) and keras.recurrent_kernel.shape == (H, 3 * H)
    assert keras.bias.shape == (2, 3 * H)
    assert rel_error(keras_gru_step(x_t, h_prev, keras, reset_after=True), h_ref) < 1e-10
    # Keras's first block is the update gate z, torch's second.
    assert np.array_equal(keras.kernel[:, :H], w["weight_ih"][H : 2 * H].T)


def test_reset_before_weights_ported_to_keras_reset_after_false() -> None:
    p = random_problem(np.random.default_rng(25), 3, 1, 4, 5)
    params = [p[k] for k in PARAMS]
    expected, _ = gru_reset_before_step_forward(p["x"][:, 0], p["h0"], *params)
    keras = to_keras(*params, reset_after=False)
    assert keras.bias.shape == (15,)
    assert rel_error(keras_gru_step(p["x"][:, 0], p["h0"], keras, reset_after=False), expected) < 1e-12
    # ... and the same weights in the other Keras variant are another function.
    wrong = keras_gru_step(p["x"][:, 0], p["h0"], to_keras(*params, reset_after=True), reset_after=True)
    assert rel_error(wrong, expected) > 1e-2


def test_from_keras_undoes_to_keras() -> None:
    p = random_problem(np.random.default_rng(26), 1, 1, 3, 4)
    params = [p[k] for k in PARAMS]
    for back, original in zip(from_keras(*to_keras(*params)), params, strict=True):
        assert np.array_equal(back, original)
    W_xh, W_hh, b_xh, b_hh = from_keras(*to_keras(*params, reset_after=False))
    assert np.array_equal(W_xh, params[0]) and np.array_equal(W_hh, params[1])
    assert rel_error(b_xh, params[2] + params[3]) < 1e-15 and not b_hh.any()
