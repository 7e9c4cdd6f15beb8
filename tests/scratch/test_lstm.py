"""The NumPy LSTM: numerical gradients, torch.nn.LSTM/LSTMCell, dtypes, shapes."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.activations import sigmoid
from rnncourse.scratch.lstm import (
    LSTMStepCache,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
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

# torch's names for what lstm_backward returns; b stands for both of torch's biases.
TORCH_GRADIENTS = ("x", "h0", "c0", "weight_ih", "weight_hh", ("bias_ih", "bias_hh"))


def random_problem(rng: np.random.Generator, N: int, T: int, D: int, H: int) -> dict:
    """Inputs, states, weights and upstream gradients, float64, of moderate scale."""
    scale = 1 / np.sqrt(H)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "c0": rng.standard_normal((N, H)),
        "W_xh": rng.uniform(-scale, scale, (4 * H, D)) * 2,
        "W_hh": rng.uniform(-scale, scale, (4 * H, H)) * 2,
        "b": rng.uniform(-1, 1, 4 * H),
        "dh": rng.standard_normal((N, T, H)),
        "dc_T": rng.standard_normal((N, H)),
    }


def sequence_outputs(p: dict) -> tuple[np.ndarray, np.ndarray]:
    h, c_T, _ = lstm_forward(p["x"], p["h0"], p["c0"], p["W_xh"], p["W_hh"], p["b"])
    return h, c_T


def sequence_gradients(p: dict, dc_T: np.ndarray | None) -> dict[str, np.ndarray]:
    _, _, cache = lstm_forward(p["x"], p["h0"], p["c0"], p["W_xh"], p["W_hh"], p["b"])
    grads = lstm_backward(p["dh"], cache, dc_T)
    return dict(zip(("x", "h0", "c0", "W_xh", "W_hh", "b"), grads, strict=True))


def step_loop(p: dict) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The sequence run with the reference step functions, forward and backward."""
    T = p["x"].shape[1]
    h_t, c_t, caches, hs = p["h0"], p["c0"], [], []
    for t in range(T):
        h_t, c_t, cache = lstm_step_forward(p["x"][:, t], h_t, c_t, p["W_xh"], p["W_hh"], p["b"])
        caches.append(cache)
        hs.append(h_t)
    dh_next, dc_next = np.zeros_like(h_t), p["dc_T"]
    dx = np.zeros_like(p["x"])
    dW_xh, dW_hh, db = (np.zeros_like(p[k]) for k in ("W_xh", "W_hh", "b"))
    for t in reversed(range(T)):
        dx_t, dh_next, dc_next, dWx, dWh, db_t = lstm_step_backward(
            p["dh"][:, t] + dh_next, dc_next, caches[t]
        )
        dx[:, t] = dx_t
        dW_xh += dWx
        dW_hh += dWh
        db += db_t
    grads = {"x": dx, "h0": dh_next, "c0": dc_next, "W_xh": dW_xh, "W_hh": dW_hh, "b": db}
    return np.stack(hs, axis=1), c_t, grads


# --- numerical gradients ----------------------------------------------------


def step_problem(
    seed: int, N: int = 3, D: int = 4, H: int = 5
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The inputs of one step, by argument name, and upstream gradients dh_t and dc_t."""
    rng = np.random.default_rng(seed)
    p = random_problem(rng, N, 1, D, H)
    inputs = {"x_t": p["x"][:, 0].copy(), "h_prev": p["h0"], "c_prev": p["c0"]}
    inputs |= {k: p[k] for k in ("W_xh", "W_hh", "b")}
    dh_t, dc_t = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    return inputs, dh_t, dc_t


def both_step_outputs(inputs: dict[str, np.ndarray]) -> np.ndarray:
    """h_t and c_t stacked, so a gradient check covers both upstream gradients."""
    h_t, c_t, _ = lstm_step_forward(*inputs.values())
    return np.stack([h_t, c_t])


def test_step_backward_matches_numerical_gradients() -> None:
    inputs, dh_t, dc_t = step_problem(seed=0)
    _, _, cache = lstm_step_forward(*inputs.values())
    analytic = dict(zip(inputs, lstm_step_backward(dh_t, dc_t, cache), strict=True))
    check_gradients(lambda: both_step_outputs(inputs), inputs, analytic, np.stack([dh_t, dc_t]))


@pytest.mark.parametrize("with_dc_T", [True, False])
def test_sequence_backward_matches_numerical_gradients(with_dc_T: bool) -> None:
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 4, 3, 4
    p = random_problem(rng, N, T, D, H)
    inputs = {k: p[k] for k in ("x", "h0", "c0", "W_xh", "W_hh", "b")}
    dc_T = p["dc_T"] if with_dc_T else np.zeros((N, H))

    def f() -> np.ndarray:
        h, c_T = sequence_outputs(p)
        return np.concatenate([h.ravel(), c_T.ravel()])

    upstream = np.concatenate([p["dh"].ravel(), dc_T.ravel()])
    analytic = sequence_gradients(p, p["dc_T"] if with_dc_T else None)
    check_gradients(f, inputs, analytic, upstream)


# --- torch ------------------------------------------------------------------


def test_step_matches_torch_lstm_cell() -> None:
    rng = np.random.default_rng(2)
    N, D, H = 4, 3, 5
    cell = make_module("lstm", D, H, seed=2, cell=True)
    w = numpy_params(cell)
    x_t, h_prev, c_prev = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])
    dh_t, dc_t = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    (h_ref, c_ref), ref = run_torch(cell, x_t, [h_prev, c_prev], [dh_t, dc_t])

    b = w["bias_ih"] + w["bias_hh"]
    h_t, c_t, cache = lstm_step_forward(x_t, h_prev, c_prev, w["weight_ih"], w["weight_hh"], b)
    assert rel_error(h_t, h_ref) < 1e-10
    assert rel_error(c_t, c_ref) < 1e-10
    assert_gradients_match_torch(lstm_step_backward(dh_t, dc_t, cache), TORCH_GRADIENTS, ref)


def check_against_torch(N: int, T: int, D: int, H: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lstm = make_module("lstm", D, H, seed=seed)
    w = numpy_params(lstm)
    x = rng.standard_normal((N, T, D))
    h0, c0, dc_T = (rng.standard_normal((N, H)) for _ in range(3))
    dh = rng.standard_normal((N, T, H))
    (h_ref, _, c_T_ref), ref = run_torch(lstm, x, [h0, c0], [dh, None, dc_T])

    b = w["bias_ih"] + w["bias_hh"]
    h, c_T, cache = lstm_forward(x, h0, c0, w["weight_ih"], w["weight_hh"], b)
    assert rel_error(h, h_ref) < 1e-10
    assert rel_error(c_T, c_T_ref) < 1e-10
    assert_gradients_match_torch(lstm_backward(dh, cache, dc_T), TORCH_GRADIENTS, ref)


def test_sequence_matches_torch_lstm() -> None:
    check_against_torch(N=3, T=7, D=4, H=5, seed=3)


@for_any_sequence_shape()
def test_sequence_matches_torch_lstm_for_any_shape(N: int, T: int, D: int, H: int, seed: int) -> None:
    check_against_torch(N, T, D, H, seed)


# --- the fast sequence code against the reference step code -----------------


@for_any_sequence_shape()
def test_sequence_functions_equal_a_loop_of_step_functions(N: int, T: int, D: int, H: int, seed: int) -> None:
    p = random_problem(np.random.default_rng(seed), N, T, D, H)
    h_steps, c_steps, grads_steps = step_loop(p)
    h, c_T = sequence_outputs(p)
    grads = sequence_gradients(p, p["dc_T"])
    assert h.shape == (N, T, H) and c_T.shape == (N, H)
    assert rel_error(h, h_steps) < 1e-10
    assert rel_error(c_T, c_steps) < 1e-10
    for name, g in grads.items():
        assert g.shape == p[name].shape, name
        assert rel_error(g, grads_steps[name]) < 1e-10, name


# --- dtypes -----------------------------------------------------------------


def test_float32_in_float32_out_close_to_float64() -> None:
    """Relative error measured against each array's largest entry (see scaled_error)."""
    p64 = random_problem(np.random.default_rng(4), 4, 6, 5, 7)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    names = ("h", "c_T")
    assert_float32_close_to_float64(
        dict(zip(names, sequence_outputs(p32), strict=True)),
        dict(zip(names, sequence_outputs(p64), strict=True)),
    )
    assert_float32_close_to_float64(
        sequence_gradients(p32, p32["dc_T"]), sequence_gradients(p64, p64["dc_T"])
    )
    check_step_in_float32(
        lstm_step_forward,
        lstm_step_backward,
        [p32["x"][:, 0], p32["h0"], p32["c0"], p32["W_xh"], p32["W_hh"], p32["b"]],
        [p32["dh"][:, 0], p32["dc_T"]],
    )


# --- tests that must be able to fail ----------------------------------------


def test_checker_rejects_a_backward_that_forgets_the_path_through_h() -> None:
    """A classic mistake: dc = dc_t only, without dh_t ⊙ o ⊙ (1 - tanh^2 c_t)."""
    inputs, dh_t, dc_t = step_problem(seed=5)
    _, _, cache = lstm_step_forward(*inputs.values())
    # tanh_c = 0 removes exactly that path from the correct formula; do is then
    # wrong too, so several gradients are off.
    broken = LSTMStepCache(*cache[:-1], tanh_c=np.zeros_like(cache.tanh_c))
    analytic = dict(zip(inputs, lstm_step_backward(dh_t, dc_t, broken), strict=True))
    with pytest.raises(AssertionError, match="dW_hh"):
        check_gradients(lambda: both_step_outputs(inputs), inputs, analytic, np.stack([dh_t, dc_t]))


def test_torch_comparison_notices_a_wrong_gate_order() -> None:
    """Reading torch's weights as i, g, f, o (two blocks swapped) must not pass."""
    rng = np.random.default_rng(6)
    N, T, D, H = 2, 5, 3, 4
    lstm = make_module("lstm", D, H, seed=6)
    w = numpy_params(lstm)
    x = rng.standard_normal((N, T, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    (h_ref, _, _), _ = run_torch(lstm, x, [h0, c0], [np.zeros((N, T, H)), None, None])
    swap = np.r_[0:H, 2 * H : 3 * H, H : 2 * H, 3 * H : 4 * H]
    b = w["bias_ih"] + w["bias_hh"]
    h, _, _ = lstm_forward(x, h0, c0, w["weight_ih"][swap], w["weight_hh"][swap], b[swap])
    assert rel_error(h, h_ref) > 1e-3


def test_backward_consumes_its_cache() -> None:
    p = random_problem(np.random.default_rng(7), 2, 3, 2, 3)
    _, _, cache = lstm_forward(p["x"], p["h0"], p["c0"], p["W_xh"], p["W_hh"], p["b"])
    lstm_backward(p["dh"], cache)
    assert cache.work.gates is None and cache.work.c is None  # released
    with pytest.raises(RuntimeError, match="already used"):
        lstm_backward(p["dh"], cache)


def test_sigmoid_is_the_logistic_function_and_does_not_overflow() -> None:
    a = np.linspace(-40, 40, 801)
    reference = 1 / (1 + np.exp(-a))
    # Accurate to a few units in the last place of 1 (absolute), which is
    # what a gate multiplying an O(1) quantity needs; far from 0 and 1 the
    # relative error is tiny too.
    assert np.max(np.abs(sigmoid(a) - reference)) < 1e-15
    middle = np.abs(a) < 5
    assert rel_error(sigmoid(a[middle]), reference[middle]) < 1e-14
    with np.errstate(all="raise"):
        big = sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32))
    assert big.dtype == np.float32 and big[0] == 0 and big[1] == 1


def test_forward_and_backward_leave_their_inputs_alone() -> None:
    """The fast code works in place on its own buffers, never on the caller's arrays."""
    p = random_problem(np.random.default_rng(8), 3, 4, 2, 3)
    before = {k: v.copy() for k, v in p.items()}
    _, _, cache = lstm_forward(p["x"], p["h0"], p["c0"], p["W_xh"], p["W_hh"], p["b"])
    lstm_backward(p["dh"], cache, p["dc_T"])
    for name, value in before.items():
        assert np.array_equal(p[name], value), name
