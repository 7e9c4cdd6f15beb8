"""Choosing the next token from a model's logits: temperature, top-k and nucleus (top-p).

From logits ``z`` over V tokens:

    temperature tau:  p_i = softmax(z / tau)_i     tau < 1 sharpens, tau > 1 flattens,
                                                   tau -> 0 is greedy (argmax)
    top-k:            keep the k largest p_i, set the rest to 0, renormalise
    top-p (nucleus):  sort p descending, keep the smallest prefix whose sum
                      reaches p (the first token always), renormalise

Temperature is applied first, then top-k, then top-p (the order of the
common implementations). The randomness comes only from the generator
passed in, a ``numpy.random.Generator`` or a ``torch.Generator``, so a
sample is reproducible from its seed and never touches global state.

Shapes: logits (..., V): one distribution per leading index (e.g. (N, V)
for a batch); the sample has the leading shape (...).
"""

from __future__ import annotations

import numpy as np
import torch

Generator = np.random.Generator | torch.Generator


def _as_numpy(logits: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(logits, torch.Tensor):
        return logits.detach().to("cpu", torch.float64).numpy()
    return np.asarray(logits, dtype=np.float64)


def next_token_probs(
    logits: np.ndarray | torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """The distribution the next token is drawn from, float64 of shape (..., V).

    Args:
        logits: (..., V) scores, NumPy or torch.
        temperature: tau > 0; 0 puts all the mass on the argmax (greedy).
        top_k: keep only the k most probable tokens (1 <= k); None keeps all.
        top_p: keep the smallest set of most probable tokens whose total
            probability reaches top_p (0 < top_p <= 1); None keeps all.

    Returns:
        Probabilities; each row sums to 1 and is 0 outside the kept tokens.
    """
    z = _as_numpy(logits)
    if z.ndim < 1 or z.shape[-1] < 1:
        raise ValueError(f"logits has shape {z.shape}; expected (..., V) with V >= 1")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    V = z.shape[-1]
    if temperature == 0:
        return np.eye(V)[np.argmax(z, axis=-1)]
    scaled = z / temperature
    p = np.exp(scaled - scaled.max(axis=-1, keepdims=True))  # shifted: never overflows
    p /= p.sum(axis=-1, keepdims=True)
    # Rank of every token by probability, 0 for the most probable (a stable
    # sort: among equal probabilities the lower id ranks first).
    order = np.argsort(-p, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(V) + np.zeros_like(order), axis=-1)
    keep = np.ones_like(p, dtype=bool)
    if top_k is not None:
        keep &= rank < top_k
    if top_p is not None:
        p_sorted = np.take_along_axis(np.where(keep, p, 0.0), order, axis=-1)
        before = np.cumsum(p_sorted, axis=-1) - p_sorted  # mass of the better-ranked tokens
        kept_sorted = before < top_p * p_sorted.sum(axis=-1, keepdims=True)  # the first is always kept
        keep &= np.take_along_axis(kept_sorted, rank, axis=-1)
    p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def sample_next(
    logits: np.ndarray | torch.Tensor,
    generator: Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray | torch.Tensor:
    """Draw one token per distribution of ``logits`` (see :func:`next_token_probs`).

    Args:
        logits: (..., V) scores.
        generator: the only source of randomness: a ``numpy.random.Generator``
            (the result is a NumPy int64 array) or a ``torch.Generator`` (a torch
            int64 tensor).
        temperature, top_k, top_p: as :func:`next_token_probs`.

    Returns:
        Token ids of shape (...), int64.
    """
    p = next_token_probs(logits, temperature, top_k, top_p)
    rows = p.reshape(-1, p.shape[-1])
    if isinstance(generator, torch.Generator):
        drawn = torch.multinomial(torch.from_numpy(rows), 1, generator=generator)[:, 0]
        return drawn.reshape(p.shape[:-1])
    if isinstance(generator, np.random.Generator):
        # Inverse-CDF sampling, one uniform number per row.
        u = generator.random(rows.shape[0])[:, None]
        # The first id whose cumulative probability exceeds u has p > 0 (a zero
        # adds nothing to the sum); rounding can push u past the last sum, so
        # clamp to the last token with p > 0.
        ids = (np.cumsum(rows, axis=-1) < u * rows.sum(axis=-1, keepdims=True)).sum(axis=-1)
        last = rows.shape[-1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=-1)
        return np.minimum(ids, last).reshape(p.shape[:-1]).astype(np.int64)
    raise TypeError(
        f"generator must be a numpy.random.Generator or a torch.Generator, got {type(generator).__name__}"
    )
