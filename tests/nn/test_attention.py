"""Tests of additive and multiplicative attention with a padding mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import rel_error
from rnncourse.nn.attention import (
    AdditiveAttention,
    MultiplicativeAttention,
    masked_softmax,
)


def _inputs(seed: int, N: int = 3, S: int = 5, Hq: int = 4, Hk: int = 6):
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(N, Hq, generator=g, dtype=torch.float64)
    keys = torch.randn(N, S, Hk, generator=g, dtype=torch.float64)
    lengths = torch.tensor([S, 2, 1][:N])
    mask = torch.arange(S)[None, :] < lengths[:, None]
    return query, keys, mask


def test_additive_matches_the_formula_written_as_loops() -> None:
    torch.manual_seed(0)
    query, keys, mask = _inputs(1)
    attention = AdditiveAttention(4, 6, 3).double()
    context, weights = attention(query, keys, mask)
    W_q, W_k, v = (p.detach().numpy() for p in (attention.W_q, attention.W_k, attention.v))
    q, k, m = query.numpy(), keys.numpy(), mask.numpy()
    for n in range(3):
        real = [s for s in range(5) if m[n, s]]
        scores = np.array([v @ np.tanh(W_q @ q[n] + W_k @ k[n, s]) for s in real])
        a = np.exp(scores - scores.max())
        a /= a.sum()
        assert rel_error(weights[n, real].detach().numpy(), a) < 1e-12
        assert np.all(weights[n, ~m[n]].detach().numpy() == 0)
        assert rel_error(context[n].detach().numpy(), a @ k[n, real]) < 1e-12


def test_multiplicative_matches_torch_scaled_dot_product_attention() -> None:
    """Luong's q^T W k with the mask is torch's attention with scale 1 on the query W^T q."""
    torch.manual_seed(0)
    query, keys, mask = _inputs(2, Hq=6, Hk=6)
    attention = MultiplicativeAttention(6, 6).double()
    context, _ = attention(query, keys, mask)
    projected = (query @ attention.W)[:, None, :]  # (N, 1, Hk): q^T W
    theirs = torch.nn.functional.scaled_dot_product_attention(
        projected, keys, keys, attn_mask=mask[:, None, :], scale=1.0
    )[:, 0]
    assert rel_error(context.detach().numpy(), theirs.detach().numpy()) < 1e-12


@pytest.mark.parametrize("kind", ["additive", "multiplicative"])
def test_gradients_match_numerical_and_padding_gets_none(kind: str) -> None:
    torch.manual_seed(3)
    query, keys, mask = _inputs(3)
    attention = (
        AdditiveAttention(4, 6, 3).double() if kind == "additive" else MultiplicativeAttention(4, 6).double()
    )
    query.requires_grad_()
    keys.requires_grad_()
    assert torch.autograd.gradcheck(lambda q, k: attention(q, k, mask)[0], (query, keys))
    attention(query, keys, mask)[0].sum().backward()
    assert torch.all(keys.grad[~mask] == 0)  # padded keys neither count nor learn


def test_padding_values_do_not_change_the_context() -> None:
    torch.manual_seed(4)
    query, keys, mask = _inputs(4)
    attention = AdditiveAttention(4, 6, 3).double()
    changed = keys.clone()
    changed[~mask] = 1e3
    assert (
        rel_error(
            attention(query, keys, mask)[0].detach().numpy(),
            attention(query, changed, mask)[0].detach().numpy(),
        )
        < 1e-12
    )


def test_clear_errors() -> None:
    attention = AdditiveAttention(4, 6, 3)
    with pytest.raises(ValueError, match=r"query has shape \(3, 5\); expected \(N, Hq\) = \(3, 4\)"):
        attention(torch.zeros(3, 5), torch.zeros(3, 2, 6))
    with pytest.raises(ValueError, match="no real position"):
        masked_softmax(torch.zeros(2, 3), torch.tensor([[True, False, False], [False, False, False]]))
