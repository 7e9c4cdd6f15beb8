"""One recurrent layer of any kind behind one interface: construction, gradients, padding.

Numerical gradients (float64, within ``check_gradients``' default tolerance)
of dx, the initial state and every parameter, through the outputs and the
final state, on ordinary seeds; a backward with a plausible bug is rejected.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.kinds import KINDS
from rnncourse.scratch.recurrent import RecurrentLayer, init_params, reverse_padded
from rnncourse.scratch.stacked import StackedRecurrent
from tests.scratch.layer_helpers import gradcheck_model, mixed_lengths, random_state

N, T, D, H = 3, 5, 3, 4


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_shapes_bounds_and_dtype(kind: str, dtype: type) -> None:
    params = init_params(kind, 5, 7, np.random.default_rng(0), dtype)
    G = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}[kind]
    assert params["W_xh"].shape == (G * 7, 5) and params["W_hh"].shape == (G * 7, 7)
    for name, p in params.items():
        assert p.dtype == dtype
        assert np.all(np.abs(p) <= 1 / np.sqrt(7)), name
        if name.startswith("b"):
            assert p.shape == (G * 7,)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        RecurrentLayer("elman", 2, 3)
    layer = RecurrentLayer("gru", 2, 3)
    with pytest.raises(KeyError):
        RecurrentLayer("lstm", 2, 3, params=layer.params)
    bad = dict(layer.params, W_hh=np.zeros((9, 4)))
    with pytest.raises(ValueError):
        RecurrentLayer("gru", 2, 3, params=bad)
    x = np.zeros((2, 4, 2))
    with pytest.raises(ValueError):
        layer.forward(x, lengths=np.array([5, 1]))
    with pytest.raises(ValueError):
        layer.forward(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError):
        StackedRecurrent("gru", 2, 3, num_layers=0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_single_layer_gradients(kind: str, padded: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer = RecurrentLayer(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    state = random_state(layer, N, rng)
    gradcheck_model(layer, x, state, mixed_lengths(N, T) if padded else None, rng)


class _ForgetsTheFinalState(RecurrentLayer):
    """A plausible bug: the gradient of the final state is never used."""

    def backward(self, dh_seq, cache, dfinal=None):
        return super().backward(dh_seq, cache, None)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm"])
def test_a_backward_that_drops_the_final_state_gradient_is_caught(kind: str) -> None:
    rng = np.random.default_rng(14)
    layer = _ForgetsTheFinalState(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    with pytest.raises(AssertionError):
        gradcheck_model(layer, x, random_state(layer, N, rng), mixed_lengths(N, T), rng)


def test_reverse_padded_is_its_own_inverse_and_keeps_padding_in_place() -> None:
    x = np.arange(2 * 5).reshape(2, 5, 1)
    lengths = np.array([3, 5])
    r = reverse_padded(x, lengths)
    np.testing.assert_array_equal(r[0, :, 0], [2, 1, 0, 3, 4])
    np.testing.assert_array_equal(r[1, :, 0], [9, 8, 7, 6, 5])
    np.testing.assert_array_equal(reverse_padded(r, lengths), x)
    np.testing.assert_array_equal(reverse_padded(x, None), x[:, ::-1])
