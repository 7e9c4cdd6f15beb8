"""The numerical gradient checker: it accepts right gradients and rejects wrong ones."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, numerical_gradient, rel_error
from rnncourse.scratch.recurrent import RecurrentLayer
from rnncourse.scratch.rnn import rnn_forward


def test_numerical_gradient_of_a_known_function() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    upstream = rng.normal(size=(3, 4))
    # d/dx sum(sin(x) * u) = cos(x) * u, known in closed form.
    numeric = numerical_gradient(lambda: np.sin(x), x, upstream)
    assert rel_error(numeric, np.cos(x) * upstream) < 1e-8


def test_inputs_are_restored() -> None:
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    before = x.copy()
    numerical_gradient(lambda: x**3, x, np.ones_like(x))
    assert np.array_equal(x, before)


def test_a_wrong_gradient_is_rejected() -> None:
    rng = np.random.default_rng(1)
    W = rng.normal(size=(4, 3))
    x = rng.normal(size=(5, 3))
    upstream = rng.normal(size=(5, 4))
    right = upstream.T @ x
    check_gradients(lambda: x @ W.T, {"W": W}, {"W": right}, upstream)
    with pytest.raises(AssertionError, match="dW"):
        check_gradients(lambda: x @ W.T, {"W": W}, {"W": right.T.T * 1.001}, upstream)


def test_rel_error_is_relative_and_rejects_shape_mismatch() -> None:
    assert rel_error(np.array([1e-9]), np.array([1e-9])) == 0.0
    assert rel_error(np.array([1e6]), np.array([1e6 + 1])) < 1e-6
    with pytest.raises(ValueError, match="shapes"):
        rel_error(np.zeros(3), np.zeros(4))


def test_integer_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="floating"):
        numerical_gradient(lambda: np.zeros(2), np.arange(2), np.ones(2))


# --- typical wrong backwards of BPTT are rejected at the default tolerance ----------

N, T, D, H = 3, 5, 3, 4


def _rnn_problem(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    return {
        "x": rng.normal(size=(N, T, D)),
        "h0": rng.normal(size=(N, H)),
        "W_xh": rng.uniform(-bound, bound, (H, D)),
        "W_hh": rng.uniform(-bound, bound, (H, H)),
        "b_h": rng.uniform(-bound, bound, H),
        "dh": rng.normal(size=(N, T, H)),
    }


def _bptt(p: dict[str, np.ndarray], mistake: str) -> dict[str, np.ndarray]:
    """Backpropagation through time for a tanh RNN, written out, with one deliberate ``mistake``."""
    h, _ = rnn_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])
    h_prev = np.concatenate([p["h0"][:, None], h[:, :-1]], axis=1)
    grads = {name: np.zeros_like(p[name]) for name in ("x", "h0", "W_xh", "W_hh", "b_h")}
    dh_next = np.zeros((N, H))
    last = T - 2 if mistake == "forgot the last step" else T - 1
    for t in range(last, -1, -1):
        dh_t = p["dh"][:, t] + (0 if mistake == "missing dh_next" else dh_next)
        da = dh_t if mistake == "dropped tanh'" else dh_t * (1 - h[:, t] ** 2)
        grads["x"][:, t] = da @ p["W_xh"]
        grads["W_xh"] += da.T @ p["x"][:, t]
        grads["W_hh"] += da.T @ h_prev[:, t]
        grads["b_h"] += da.sum(axis=0)
        dh_next = da @ (p["W_hh"].T if mistake == "transposed W_hh" else p["W_hh"])
    grads["h0"] = dh_next
    if mistake == "sign flip":
        grads["b_h"] = -grads["b_h"]
    return grads


def _check_rnn(p: dict[str, np.ndarray], analytic: dict[str, np.ndarray]) -> dict[str, float]:
    inputs = {name: p[name] for name in analytic}
    return check_gradients(
        lambda: rnn_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])[0], inputs, analytic, p["dh"]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_written_out_bptt_is_accepted(seed: int) -> None:
    p = _rnn_problem(seed)
    _check_rnn(p, _bptt(p, ""))


@pytest.mark.parametrize(
    "mistake", ["dropped tanh'", "transposed W_hh", "missing dh_next", "sign flip", "forgot the last step"]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_typical_bptt_mistakes_are_rejected(mistake: str, seed: int) -> None:
    p = _rnn_problem(seed)
    with pytest.raises(AssertionError, match="analytic gradients disagree"):
        _check_rnn(p, _bptt(p, mistake))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_gate_order_swap_is_rejected(kind: str) -> None:
    """The gradients of the first two gate blocks exchanged (i and f, or r and z)."""
    rng = np.random.default_rng(3)
    layer = RecurrentLayer(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    dh = rng.normal(size=(N, T, H))
    _, _, cache = layer.forward(x)
    _, _, grads = layer.backward(dh, cache)
    swapped = {}
    for name, g in grads.items():
        blocks = np.split(g, g.shape[0] // H, axis=0)
        blocks[0], blocks[1] = blocks[1], blocks[0]
        swapped[name] = np.concatenate(blocks, axis=0)
    with pytest.raises(AssertionError, match="W_xh"):
        check_gradients(lambda: layer.forward(x)[0], dict(layer.params), swapped, dh)


def test_the_default_tolerance_sits_between_the_floor_and_a_mistake() -> None:
    """Measured (see rnncourse.gradcheck): worst correct error 3.1e-9, mildest mistake 3e-2."""
    default = inspect.signature(check_gradients).parameters["tolerance"].default
    assert 100 * 3.1e-9 < default < 3e-2 / 100
