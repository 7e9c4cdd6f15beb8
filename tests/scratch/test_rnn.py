"""The NumPy vanilla RNN: numerical gradients, torch.nn.RNN/RNNCell, dtypes, shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.rnn import (
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
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

ACTIVATIONS = ["tanh", "relu"]
PARAMS = ("W_xh", "W_hh", "b_h")
# torch's names for what rnn_backward returns; b_h stands for both of torch's biases.
TORCH_GRADIENTS = ("x", "h0", "weight_ih", "weight_hh", ("bias_ih", "bias_hh"))


def random_problem(rng: np.random.Generator, N: int, T: int, D: int, H: int) -> dict:
    """Inputs, weights and upstream gradients, float64, of moderate scale."""
    scale = 1 / np.sqrt(H)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "W_xh": rng.uniform(-scale, scale, (H, D)),
        "W_hh": rng.uniform(-scale, scale, (H, H)),
        "b_h": rng.uniform(-1, 1, H),
        "dh": rng.standard_normal((N, T, H)),
    }


def preactivations(p: dict, activation: str) -> np.ndarray:
    """Every a_t of the sequence, (N, T, H), from the hidden states it produced."""
    h, _ = rnn_forward(p["x"], p["h0"], *(p[k] for k in PARAMS), activation)
    h_prev = np.concatenate([p["h0"][:, None], h[:, :-1]], axis=1)
    return p["x"] @ p["W_xh"].T + h_prev @ p["W_hh"].T + p["b_h"]


def problem_away_from_the_kink(seed: int, N: int, T: int, D: int, H: int, activation: str) -> dict:
    """A problem whose pre-activations all stay clear of 0.

    ReLU has no derivative at 0; a central difference that straddles it
    measures neither side. Perturbations of 1e-5 move a pre-activation by
    far less than 1e-3, so no check crosses the kink.
    """
    rng = np.random.default_rng(seed)
    while True:
        p = random_problem(rng, N, T, D, H)
        if activation == "tanh" or np.min(np.abs(preactivations(p, activation))) > 1e-3:
            return p


def sequence_output(p: dict, activation: str) -> np.ndarray:
    return rnn_forward(p["x"], p["h0"], *(p[k] for k in PARAMS), activation)[0]


def sequence_gradients(p: dict, activation: str) -> dict[str, np.ndarray]:
    _, cache = rnn_forward(p["x"], p["h0"], *(p[k] for k in PARAMS), activation)
    return dict(zip(("x", "h0", *PARAMS), rnn_backward(p["dh"], cache), strict=True))


def step_inputs(p: dict) -> dict[str, np.ndarray]:
    return {"x_t": p["x"][:, 0].copy(), "h_prev": p["h0"]} | {k: p[k] for k in PARAMS}


# --- numerical gradients ----------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_backward_matches_numerical_gradients(activation: str) -> None:
    p = problem_away_from_the_kink(20, N=3, T=1, D=4, H=5, activation=activation)
    inputs = step_inputs(p)
    dh_t = p["dh"][:, 0]
    _, cache = rnn_step_forward(*inputs.values(), activation)
    analytic = dict(zip(inputs, rnn_step_backward(dh_t, cache), strict=True))

    def f() -> np.ndarray:
        return rnn_step_forward(*inputs.values(), activation)[0]

    check_gradients(f, inputs, analytic, dh_t)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_sequence_backward_matches_numerical_gradients(activation: str) -> None:
    p = problem_away_from_the_kink(21, N=2, T=5, D=3, H=4, activation=activation)
    inputs = {k: p[k] for k in ("x", "h0", *PARAMS)}
    analytic = sequence_gradients(p, activation)
    check_gradients(lambda: sequence_output(p, activation), inputs, analytic, p["dh"])


# --- torch ------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_matches_torch_rnn_cell(activation: str) -> None:
    rng = np.random.default_rng(22)
    N, D, H = 4, 3, 5
    cell = make_module("rnn", D, H, seed=22, cell=True, nonlinearity=activation)
    w = numpy_params(cell)
    x_t = rng.standard_normal((N, D))
    h_prev, dh_t = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    (h_ref,), ref = run_torch(cell, x_t, [h_prev], [dh_t])

    b_h = w["bias_ih"] + w["bias_hh"]  # they only appear summed
    h_t, cache = rnn_step_forward(x_t, h_prev, w["weight_ih"], w["weight_hh"], b_h, activation)
    assert rel_error(h_t, h_ref) < 1e-10
    assert_gradients_match_torch(rnn_step_backward(dh_t, cache), TORCH_GRADIENTS, ref)


def check_against_torch(N: int, T: int, D: int, H: int, seed: int, activation: str) -> None:
    rng = np.random.default_rng(seed)
    rnn = make_module("rnn", D, H, seed=seed, nonlinearity=activation)
    w = numpy_params(rnn)
    x, dh = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    h0 = rng.standard_normal((N, H))
    (h_ref, _), ref = run_torch(rnn, x, [h0], [dh, None])

    b_h = w["bias_ih"] + w["bias_hh"]
    h, cache = rnn_forward(x, h0, w["weight_ih"], w["weight_hh"], b_h, activation)
    assert rel_error(h, h_ref) < 1e-10
    assert_gradients_match_torch(rnn_backward(dh, cache), TORCH_GRADIENTS, ref)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_sequence_matches_torch_rnn(activation: str) -> None:
    check_against_torch(N=3, T=7, D=4, H=5, seed=23, activation=activation)


@for_any_sequence_shape(activation=st.sampled_from(ACTIVATIONS))
def test_sequence_matches_torch_rnn_for_any_shape(
    N: int, T: int, D: int, H: int, seed: int, activation: str
) -> None:
    check_against_torch(N, T, D, H, seed, activation)


@for_any_sequence_shape(activation=st.sampled_from(ACTIVATIONS))
def test_sequence_functions_equal_a_loop_of_step_functions(
    N: int, T: int, D: int, H: int, seed: int, activation: str
) -> None:
    p = random_problem(np.random.default_rng(seed), N, T, D, H)
    h = sequence_output(p, activation)
    assert h.shape == (N, T, H)
    h_t, caches = p["h0"], []
    for t in range(T):
        h_t, cache = rnn_step_forward(p["x"][:, t], h_t, *(p[k] for k in PARAMS), activation)
        assert rel_error(h[:, t], h_t) < 1e-10
        caches.append(cache)
    grads = sequence_gradients(p, activation)
    dh_next = np.zeros((N, H))
    summed = {k: np.zeros_like(p[k]) for k in PARAMS}
    for t in reversed(range(T)):
        dx_t, dh_next, *dparams = rnn_step_backward(p["dh"][:, t] + dh_next, caches[t])
        assert rel_error(grads["x"][:, t], dx_t) < 1e-10
        for k, d in zip(PARAMS, dparams, strict=True):
            summed[k] += d
    assert rel_error(grads["h0"], dh_next) < 1e-10
    for k in PARAMS:
        assert grads[k].shape == p[k].shape
        assert rel_error(grads[k], summed[k]) < 1e-10, k


# --- dtypes -----------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_in_float32_out_close_to_float64(activation: str) -> None:
    """Relative error measured against each array's largest entry (see scaled_error)."""
    p64 = random_problem(np.random.default_rng(24), 4, 6, 5, 7)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    assert_float32_close_to_float64(
        {"h": sequence_output(p32, activation)}, {"h": sequence_output(p64, activation)}
    )
    assert_float32_close_to_float64(sequence_gradients(p32, activation), sequence_gradients(p64, activation))
    check_step_in_float32(
        lambda *inputs: rnn_step_forward(*inputs, activation),
        rnn_step_backward,
        list(step_inputs(p32).values()),
        [p32["dh"][:, 0]],
    )


# --- tests that must be able to fail ----------------------------------------


def test_checker_rejects_the_wrong_activation_derivative() -> None:
    """The backward of a ReLU layer that uses tanh' = 1 - h^2 must fail."""
    p = problem_away_from_the_kink(25, N=3, T=1, D=4, H=5, activation="relu")
    inputs = step_inputs(p)
    dh_t = p["dh"][:, 0]
    _, cache = rnn_step_forward(*inputs.values(), "relu")
    wrong = rnn_step_backward(dh_t, cache._replace(activation="tanh"))
    analytic = dict(zip(inputs, wrong, strict=True))
    with pytest.raises(AssertionError, match="dW_xh"):
        check_gradients(lambda: rnn_step_forward(*inputs.values(), "relu")[0], inputs, analytic, dh_t)


def test_checker_rejects_hidden_states_read_one_step_off() -> None:
    """The off-by-one of BPTT: h_t where h_{t-1} belongs (in dW_hh and in f') must fail."""
    p = problem_away_from_the_kink(26, N=2, T=4, D=3, H=4, activation="tanh")
    inputs = {k: p[k] for k in ("x", "h0", *PARAMS)}
    _, cache = rnn_forward(p["x"], p["h0"], *(p[k] for k in PARAMS), "tanh")
    # Shift the hidden states by one step: h0 becomes h_1, h_t becomes h_{t+1}.
    shifted_h = np.concatenate([cache.h[:, 1:], cache.h[:, -1:]], axis=1)
    broken = cache._replace(h0=cache.h[:, 0], h=shifted_h)
    analytic = dict(zip(inputs, rnn_backward(p["dh"], broken), strict=True))
    with pytest.raises(AssertionError, match="dW_hh"):
        check_gradients(lambda: sequence_output(p, "tanh"), inputs, analytic, p["dh"])
