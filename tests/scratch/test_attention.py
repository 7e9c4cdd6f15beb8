"""The NumPy attention of chapter 7 equals the torch twin the models train with, padding and all."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import rel_error
from rnncourse.nn.attention import AdditiveAttention, MultiplicativeAttention
from rnncourse.scratch.attention import additive_attention, masked_softmax, multiplicative_attention


def _inputs(seed: int, N: int = 3, S: int = 5, Hq: int = 4, Hk: int = 6):
    rng = np.random.default_rng(seed)
    query, keys = rng.normal(size=(N, Hq)), 3.0 * rng.normal(size=(N, S, Hk))  # padded keys are not zero
    mask = np.arange(S)[None, :] < np.array([S, 2, 1][:N])[:, None]
    return query, keys, mask


@pytest.mark.parametrize("kind", ["additive", "multiplicative"])
def test_numpy_attention_equals_the_torch_layer(kind: str) -> None:
    torch.manual_seed(0)
    query, keys, mask = _inputs(1)
    layer = (AdditiveAttention(4, 6, 3) if kind == "additive" else MultiplicativeAttention(4, 6)).double()
    theirs = [
        t.detach().numpy()
        for t in layer(torch.from_numpy(query), torch.from_numpy(keys), torch.from_numpy(mask))
    ]
    params = {name: p.detach().numpy() for name, p in layer.named_parameters()}
    if kind == "additive":
        ours = additive_attention(query, keys, mask, params["W_q"], params["W_k"], params["v"])
    else:
        ours = multiplicative_attention(query, keys, mask, params["W"])
    for mine, reference in zip(ours, theirs):
        assert rel_error(mine, reference) < 1e-12


def test_padding_gets_exactly_zero_and_real_weights_sum_to_one() -> None:
    query, keys, mask = _inputs(2)
    rng = np.random.default_rng(3)
    context, weights = additive_attention(
        query, keys, mask, rng.normal(size=(3, 4)), rng.normal(size=(3, 6)), rng.normal(size=3)
    )
    assert np.all(weights[~mask] == 0.0)
    assert np.abs(weights.sum(axis=1) - 1.0).max() < 1e-12
    assert rel_error(context[2], keys[2, 0]) < 1e-12  # one real position: the context is its key


def test_errors_name_the_argument() -> None:
    query, keys, mask = _inputs(4)
    with pytest.raises(ValueError, match="no real position"):
        masked_softmax(np.zeros((2, 3)), np.array([[True, False, False], [False, False, False]]))
    with pytest.raises(ValueError, match="W has shape"):
        multiplicative_attention(query, keys, mask, np.zeros((4, 5)))
    with pytest.raises(ValueError, match="query has shape"):
        additive_attention(query[:2], keys, mask, np.zeros((3, 4)), np.zeros((3, 6)), np.zeros(3))
