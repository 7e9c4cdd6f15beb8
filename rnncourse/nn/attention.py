"""Attention over an encoder's states, with a padding mask: additive and multiplicative.

A decoder at step t holds a query ``q`` (its state, shape (N, Hq)); the
encoder left one key per source position, ``K`` (N, S, Hk), of which the
first ``lengths[n]`` are real (``mask`` (N, S) is True there). Attention is

    e_{n,s}     = score(q_n, k_{n,s})                       (N, S)
    a_{n,s}     = exp(e_{n,s}) / sum_{s' real} exp(e_{n,s'})  zero at padding
    c_n         = sum_s a_{n,s} k_{n,s}                      (N, Hk)

with two scores:

- additive (Bahdanau, Cho and Bengio 2015): ``score(q, k) = v^T tanh(W_q q + W_k k)``,
  ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,): a one-hidden-layer network of A units;
- multiplicative (Luong, Pham and Manning 2015, "general"): ``score(q, k) = q^T W k``,
  ``W`` (Hq, Hk); with ``W = I`` it is the plain dot product.

The mask is applied to the *scores* (padding gets -inf, so exp gives exactly
0) before the softmax; masking the weights after the softmax would leave
real weights that sum to less than one, and a softmax over padding gives
padded keys (the encoder's states after ``<eos>``, or zeros) a share of the
context. A row with no real position at all is an error, not a NaN.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnncourse.checks import check_shape


def masked_softmax(scores: Tensor, mask: Tensor | None) -> Tensor:
    """Softmax over the last axis of ``scores`` (N, S), zero where ``mask`` (N, S) is False.

    Raises:
        ValueError: if a row of ``mask`` has no True entry (nothing to attend to).
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    check_shape("mask", mask, {"N": scores.shape[0], "S": scores.shape[1]})
    mask = mask.bool()
    if not bool(mask.any(dim=-1).all()):
        raise ValueError("mask has a row with no real position: every source needs at least one token")
    return torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)


def _check(query: Tensor, keys: Tensor, query_size: int, key_size: int) -> None:
    N, _, _ = check_shape("keys", keys, {"N": None, "S": None, "Hk": key_size})
    check_shape("query", query, {"N": N, "Hq": query_size})


def additive_scores(query: Tensor, keys: Tensor, W_q: Tensor, W_k: Tensor, v: Tensor) -> Tensor:
    """Bahdanau scores ``v^T tanh(W_q q + W_k k)``: query (N, Hq), keys (N, S, Hk) -> (N, S).

    ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,). ``W_q q`` (N, A) is broadcast over
    the S keys: (N, 1, A) + (N, S, A).
    """
    hidden = torch.tanh((query @ W_q.T)[:, None, :] + keys @ W_k.T)  # (N, S, A)
    return hidden @ v  # (N, S)


def multiplicative_scores(query: Tensor, keys: Tensor, W: Tensor) -> Tensor:
    """Luong's general scores ``q^T W k``: query (N, Hq), keys (N, S, Hk), W (Hq, Hk) -> (N, S)."""
    return torch.einsum("nq,qk,nsk->ns", query, W, keys)


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention with a padding mask.

    Args:
        query_size: Hq, the decoder state's size.
        key_size: Hk, the size of each encoder state.
        attention_size: A, the hidden units of the score network.

    Parameters ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,), uniform in ±1/sqrt(fan-in).
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int) -> None:
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W_q = nn.Parameter(
            torch.empty(attention_size, query_size).uniform_(-1, 1) / math.sqrt(query_size)
        )
        self.W_k = nn.Parameter(torch.empty(attention_size, key_size).uniform_(-1, 1) / math.sqrt(key_size))
        self.v = nn.Parameter(torch.empty(attention_size).uniform_(-1, 1) / math.sqrt(attention_size))

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Context (N, Hk) and weights (N, S) for query (N, Hq), keys (N, S, Hk), mask (N, S)."""
        _check(query, keys, self.query_size, self.key_size)
        weights = masked_softmax(additive_scores(query, keys, self.W_q, self.W_k, self.v), mask)
        return torch.einsum("ns,nsk->nk", weights, keys), weights


class MultiplicativeAttention(nn.Module):
    """Multiplicative (Luong "general") attention with a padding mask.

    Args:
        query_size: Hq; key_size: Hk. Parameter ``W`` (Hq, Hk), uniform in ±1/sqrt(Hk).
    """

    def __init__(self, query_size: int, key_size: int) -> None:
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.W = nn.Parameter(torch.empty(query_size, key_size).uniform_(-1, 1) / math.sqrt(key_size))

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Context (N, Hk) and weights (N, S) for query (N, Hq), keys (N, S, Hk), mask (N, S)."""
        _check(query, keys, self.query_size, self.key_size)
        weights = masked_softmax(multiplicative_scores(query, keys, self.W), mask)
        return torch.einsum("ns,nsk->nk", weights, keys), weights
