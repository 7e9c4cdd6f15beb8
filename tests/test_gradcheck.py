"""The numerical gradient checker: it accepts right gradients and rejects wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, numerical_gradient, rel_error


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
