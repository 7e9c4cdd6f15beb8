"""Attention over an encoder's states with a padding mask, in NumPy: the forward of chapter 7.

The torch twin, which the models train with, is ``rnncourse.nn.attention``;
this one reads a trained model's weights where torch is not at hand (exercise
7 decodes a stored model with it). A decoder's query ``q`` (N, Hq) reads the
keys ``K`` (N, S, Hk), of which ``mask`` (N, S) marks the real positions:

    e_{n,s} = score(q_n, k_{n,s})                          (N, S)
    a_{n,s} = exp(e_{n,s}) / sum_{s' real} exp(e_{n,s'})    0 at padding
    c_n     = sum_s a_{n,s} k_{n,s}                         (N, Hk)

    additive:        score(q, k) = v . tanh(W_q q + W_k k)   W_q (A, Hq), W_k (A, Hk), v (A,)
    multiplicative:  score(q, k) = q . W k                   W (Hq, Hk)

The padded scores become -inf before the softmax, so their weights are
exactly 0 and the real ones sum to 1.
"""

from __future__ import annotations

import numpy as np

from rnncourse.checks import check_shape
from rnncourse.scratch.activations import softmax


def masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of ``scores`` (N, S), exactly 0 where ``mask`` (N, S) is False.

    Raises:
        ValueError: if a row of ``mask`` has no real position.
    """
    check_shape("mask", mask, {"N": scores.shape[0], "S": scores.shape[1]})
    real = np.asarray(mask, dtype=bool)
    if not real.any(axis=-1).all():
        raise ValueError("mask has a row with no real position: every source needs at least one token")
    return softmax(np.where(real, scores, -np.inf), axis=-1)


def _key_and_query_sizes(query: np.ndarray, keys: np.ndarray) -> tuple[int, int]:
    """Hk and Hq, once keys (N, S, Hk) and query (N, Hq) agree on N."""
    N, _, Hk = check_shape("keys", keys, {"N": None, "S": None, "Hk": None})
    return Hk, check_shape("query", query, {"N": N, "Hq": None})[1]


def _attend(scores: np.ndarray, keys: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weights = masked_softmax(scores, mask)
    return np.einsum("ns,nsk->nk", weights, keys), weights


def additive_attention(
    query: np.ndarray, keys: np.ndarray, mask: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bahdanau's attention: context (N, Hk) and weights (N, S).

    Args:
        query: (N, Hq); keys: (N, S, Hk); mask: (N, S) True (or 1) at real positions.
        W_q: (A, Hq); W_k: (A, Hk); v: (A,).
    """
    Hk, Hq = _key_and_query_sizes(query, keys)
    A = check_shape("W_k", W_k, {"A": None, "Hk": Hk})[0]
    check_shape("W_q", W_q, {"A": A, "Hq": Hq})
    check_shape("v", v, {"A": A})
    hidden = np.tanh((query @ W_q.T)[:, None, :] + keys @ W_k.T)  # (N, S, A)
    return _attend(hidden @ v, keys, mask)


def multiplicative_attention(
    query: np.ndarray, keys: np.ndarray, mask: np.ndarray, W: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Luong's "general" attention: context (N, Hk) and weights (N, S); W is (Hq, Hk)."""
    Hk, Hq = _key_and_query_sizes(query, keys)
    check_shape("W", W, {"Hq": Hq, "Hk": Hk})
    return _attend(np.einsum("nq,qk,nsk->ns", query, W, keys), keys, mask)
