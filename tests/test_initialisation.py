"""Initialisations of W_hh: orthogonality, uniqueness of the sign convention, torch agreement,
the spectral radius, and the in-place initialisation of torch modules gate by gate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import rel_error
from rnncourse.initialisation import (
    from_matrix,
    identity,
    init_recurrent_,
    orthogonal,
    orthogonal_matrix,
    recurrent_block,
    scaled_to_radius,
    set_forget_bias_,
)
from rnncourse.scratch.gradient_flow import power_norms, spectrum


@pytest.mark.parametrize("size", [1, 2, 7, 32])
def test_orthogonal_is_orthogonal_and_the_q_of_a_qr_with_positive_diagonal(size: int) -> None:
    A = np.random.default_rng(size).standard_normal((size, size))
    Q = orthogonal(A)
    assert rel_error(Q.T @ Q, np.eye(size)) < 1e-12
    R = Q.T @ A  # A = QR, so R = Q^T A
    assert rel_error(np.triu(R), R) < 1e-12  # upper triangular, to rounding
    assert np.all(np.diag(R) > 0)


def test_orthogonal_agrees_with_torch() -> None:
    # torch.nn.init.orthogonal_ draws a normal matrix, takes its QR and fixes the signs of Q
    # by diag(R): the same draw must give the same matrix.
    torch.manual_seed(11)
    A = torch.empty(6, 6, dtype=torch.float64).normal_(0, 1)
    torch.manual_seed(11)
    W = torch.nn.init.orthogonal_(torch.empty(6, 6, dtype=torch.float64), gain=0.7)
    assert rel_error(orthogonal(A.numpy(), gain=0.7), W.numpy()) < 1e-12


def test_orthogonal_keeps_every_norm() -> None:
    Q = orthogonal_matrix(12, seed=3)
    norms = power_norms(Q, 100)
    assert np.allclose(norms, 1.0, atol=1e-10)
    sigma, rho = spectrum(Q)
    assert sigma == pytest.approx(1.0) and rho == pytest.approx(1.0)


def test_identity_and_radius() -> None:
    assert np.array_equal(identity(3, 0.5), 0.5 * np.eye(3))
    A = np.random.default_rng(2).standard_normal((9, 9))
    W = scaled_to_radius(A, 0.9)
    assert spectrum(W).spectral_radius == pytest.approx(0.9)
    assert rel_error(W / A, np.full_like(A, W[0, 0] / A[0, 0])) < 1e-12  # only rescaled


def test_unknown_scheme_and_non_square_are_refused() -> None:
    with pytest.raises(ValueError, match="scheme must be"):
        recurrent_block("xavier", 3, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"A has shape \(2, 3\)"):
        orthogonal(np.ones((2, 3)))
    with pytest.raises(ValueError, match="scheme must be"):
        init_recurrent_(torch.nn.RNN(2, 3), "xavier", seed=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("module_class", [torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU])
def test_torch_modules_get_one_orthogonal_block_per_gate(module_class: type) -> None:
    torch.manual_seed(0)
    module = module_class(3, 5, num_layers=2)
    before_ih = module.weight_ih_l0.detach().clone()
    init_recurrent_(module, "orthogonal", seed=4)
    for layer in (0, 1):
        W = getattr(module, f"weight_hh_l{layer}").detach().numpy().astype(np.float64)
        for start in range(0, W.shape[0], 5):
            block = W[start : start + 5]
            assert rel_error(block.T @ block, np.eye(5)) < 1e-6  # float32 parameters
    assert torch.equal(module.weight_ih_l0, before_ih)  # input weights untouched


def test_irnn_recipe_in_torch() -> None:
    module = torch.nn.RNN(2, 4, nonlinearity="relu")
    init_recurrent_(module, "identity", seed=0, zero_bias=True)
    assert torch.equal(module.weight_hh_l0, torch.eye(4))
    assert torch.count_nonzero(module.bias_ih_l0) == 0 and torch.count_nonzero(module.bias_hh_l0) == 0
    # With zero biases, identity W_hh and positive states, a step adds the input's projection.
    x = torch.ones(1, 1, 2)
    h0 = torch.full((1, 1, 4), 0.5)
    with torch.no_grad():
        _, h1 = module(x, h0)
        expected = torch.relu(h0 + x @ module.weight_ih_l0.T)
    assert torch.allclose(h1, expected)


def test_spectral_scheme_in_torch() -> None:
    module = torch.nn.RNN(2, 8)
    init_recurrent_(module, "spectral", seed=1, gain=1.5)
    W = module.weight_hh_l0.detach().numpy().astype(np.float64)
    assert spectrum(W).spectral_radius == pytest.approx(1.5, rel=1e-5)


def test_from_matrix_dispatches_to_each_scheme() -> None:
    A = np.random.default_rng(9).standard_normal((5, 5))
    assert rel_error(from_matrix(A, "orthogonal", 0.5), orthogonal(A, 0.5)) == 0.0
    assert np.array_equal(from_matrix(A, "identity", 2.0), 2.0 * np.eye(5))
    assert spectrum(from_matrix(A, "spectral", 0.7)).spectral_radius == pytest.approx(0.7)


def test_set_forget_bias_sets_the_sum_of_both_biases_in_every_layer_and_direction() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(2, 4, num_layers=2, bidirectional=True)
    assert set_forget_bias_(lstm, 1.0) is lstm
    for suffix in ("_l0", "_l1", "_l0_reverse", "_l1_reverse"):
        total = (getattr(lstm, "bias_ih" + suffix) + getattr(lstm, "bias_hh" + suffix)).detach().numpy()
        assert np.all(total[4:8] == 1.0)  # rows H..2H: the forget gate (i, f, g, o)
        assert not np.any(total[:4] == 1.0) and not np.any(total[8:] == 1.0)  # the others untouched


def test_set_forget_bias_refuses_a_layer_without_forget_gate() -> None:
    with pytest.raises(ValueError, match="forget gate belongs to an LSTM"):
        set_forget_bias_(torch.nn.GRU(2, 4), 1.0)
