"""Activations: values against their textbook definitions, derivatives against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.activations import activate, activation_backward, sigmoid, softmax


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_sigmoid_is_the_logistic_function_and_never_overflows(rng: np.random.Generator) -> None:
    a = rng.normal(scale=5, size=(4, 6))
    assert rel_error(sigmoid(a.copy()), 1 / (1 + np.exp(-a))) < 1e-14
    extreme = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0])
    with np.errstate(over="raise"):
        values = sigmoid(extreme)
    assert np.all(np.isfinite(values)) and values[2] == 0.5
    assert values[0] == 0.0 and values[-1] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_the_dtype_and_works_in_place(dtype: type) -> None:
    a = np.linspace(-3, 3, 7, dtype=dtype)
    expected = 1 / (1 + np.exp(-a.astype(np.float64)))
    out = sigmoid(a, out=a)
    assert out is a and a.dtype == dtype
    assert rel_error(a, expected) < (1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_activation_backward_is_the_derivative(activation: str, rng: np.random.Generator) -> None:
    # Keep pre-activations away from 0, where relu has no derivative.
    a = rng.uniform(0.1, 2.0, size=(3, 5)) * rng.choice([-1.0, 1.0], size=(3, 5))
    dy = rng.normal(size=a.shape)
    y = activate(a, activation)  # type: ignore[arg-type]
    analytic = activation_backward(dy, y, activation)  # type: ignore[arg-type]
    check_gradients(lambda: activate(a, activation), {"a": a}, {"a": analytic}, dy)  # type: ignore[arg-type]


def test_the_derivative_of_sigmoid_is_y_times_one_minus_y(rng: np.random.Generator) -> None:
    a = rng.normal(size=(2, 4))
    dy = rng.normal(size=a.shape)
    y = sigmoid(a.copy())
    check_gradients(lambda: sigmoid(a.copy()), {"a": a}, {"a": dy * y * (1 - y)}, dy)


def test_an_unknown_activation_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'sigmoid'"):
        activate(np.zeros(2), "sigmoid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'gelu'"):
        activation_backward(np.zeros(2), np.zeros(2), "gelu")  # type: ignore[arg-type]


def test_softmax_is_a_distribution_on_every_row_at_any_scale() -> None:
    logits = np.array([[1000.0, 1001.0, 999.0], [-1e-3, 0.0, 1e-3], [-1000.0, -1002.0, -1001.0]])
    probabilities = softmax(logits)
    assert np.all(np.isfinite(probabilities))
    assert rel_error(probabilities.sum(axis=1), np.ones(3)) < 1e-15
    # Shifting a row by a constant leaves its softmax unchanged: compare with the
    # textbook formula on rows brought near zero by hand.
    centred = logits - logits.mean(axis=1, keepdims=True)
    textbook = np.exp(centred) / np.exp(centred).sum(axis=1, keepdims=True)
    assert rel_error(probabilities, textbook) < 1e-14


def test_softmax_works_along_any_axis(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(3, 4, 5))
    assert rel_error(softmax(logits, axis=1), np.swapaxes(softmax(np.swapaxes(logits, 1, 2)), 1, 2)) < 1e-15
    assert rel_error(softmax(logits, axis=1).sum(axis=1), np.ones((3, 5))) < 1e-15
