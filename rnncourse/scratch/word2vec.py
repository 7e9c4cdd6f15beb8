"""word2vec in NumPy: skip-gram and CBOW with negative sampling (Mikolov et al. 2013).

Two embedding matrices: ``W_in`` (V, E) holds the vector ``v_w`` a word has as
the *centre* (input), ``W_out`` (V, E) the vector ``u_w`` it has as a
*context* (output). Skip-gram predicts each context word ``o`` within a
window around the centre ``c``; instead of a softmax over all V words,
negative sampling makes it a logistic regression: tell the true context
apart from K "noise" words ``n_1..n_K`` drawn from a noise distribution.
Per (centre, context) pair, with sigma the logistic sigmoid:

    loss = -log sigma(u_o . v_c) - sum_k log sigma(-u_{n_k} . v_c)

    d loss / d v_c     = (sigma(u_o . v_c) - 1) u_o + sum_k sigma(u_{n_k} . v_c) u_{n_k}
    d loss / d u_o     = (sigma(u_o . v_c) - 1) v_c
    d loss / d u_{n_k} = sigma(u_{n_k} . v_c) v_c

CBOW swaps the roles: the input is the mean ``h`` of the C context words'
``W_in`` vectors, and the word to tell apart from the noise is the centre.
The exact gradient of the mean gives each context vector ``dh / C``
(``cbow_mean_backward``). word2vec's reference code (``word2vec.c``, with
its default ``-cbow 1`` and mean) adds the whole ``dh`` to every context
vector instead (``cbow_word2vec_backward``): the gradient of a *sum* of the
context vectors, used with the mean's forward. That is C times the exact
step, in effect a C-times larger learning rate for ``W_in``; with the same
rate, the exact gradient moves CBOW's input vectors C times less per example.

The noise distribution is the unigram distribution raised to 3/4 and
renormalised, ``P_n(w) = f(w)^0.75 / sum_w' f(w')^0.75``: rarer words are
drawn more often than their frequency, frequent ones less. Frequent words
are also *subsampled*: each occurrence of w is kept with probability
``min(1, sqrt(t / f(w)))`` (t ~ 1e-5 to 1e-3), which both speeds training up
and stops "the" from dominating every window.

Shapes: V vocabulary, E vector size, N pairs in a batch, K negatives per
pair, C context positions in a CBOW window (2 * window).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_floating, check_shape
from rnncourse.scratch.activations import sigmoid

#: The exponent of the noise distribution (Mikolov et al. 2013, found by trying).
NOISE_POWER = 0.75


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    # log sigma(x) = -log(1 + e^{-x}), stable for large negative x.
    return -np.logaddexp(0.0, -x)


# -- the noise distribution and subsampling ----------------------------------------


def noise_distribution(counts: np.ndarray, power: float = NOISE_POWER) -> np.ndarray:
    """P_n(w) = counts[w]^power / sum counts^power: (V,) counts -> (V,) probabilities."""
    counts = np.asarray(counts, dtype=np.float64)
    check_shape("counts", counts, {"V": None})
    if np.any(counts < 0) or counts.sum() == 0:
        raise ValueError("counts must be non-negative and not all zero")
    weights = counts**power
    return weights / weights.sum()


def keep_probabilities(counts: np.ndarray, threshold: float = 1e-4) -> np.ndarray:
    """Chance that subsampling keeps one occurrence of each word: min(1, sqrt(t / f(w))), (V,).

    ``f(w)`` is the word's share of the corpus. A word with f(w) <= t is always
    kept; "the", with f ~ 0.03 and t = 1e-4, keeps ~6% of its occurrences.
    """
    counts = np.asarray(counts, dtype=np.float64)
    frequencies = counts / counts.sum()
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, np.sqrt(threshold / frequencies))


def subsample(ids: np.ndarray, keep: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The token ids (T,) with each occurrence of w kept with probability keep[w], in order."""
    return ids[rng.random(len(ids)) < keep[ids]]


def sample_negatives(noise: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Word ids of the given shape, drawn independently from the noise distribution (V,)."""
    # Inverse-CDF sampling: one uniform number per draw, O(log V) each.
    cumulative = np.cumsum(noise)
    draws = rng.random(shape) * cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, draws, side="right"), len(noise) - 1)


# -- training examples from a token stream -----------------------------------------


def skipgram_pairs(ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (centre, context) pair at distance 1..window in the token stream ids (T,).

    Returns:
        centres (P,) and contexts (P,), P = sum over distances d of 2 (T - d).
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    centres, contexts = [], []
    for d in range(1, window + 1):
        # Context d positions to the right, then to the left, of every centre that has one.
        centres += [ids[:-d], ids[d:]]
        contexts += [ids[d:], ids[:-d]]
    return np.concatenate(centres), np.concatenate(contexts)


def cbow_windows(ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Each position with ``window`` words on both sides: centres (P,), contexts (P, 2 window).

    Positions too close to either end are left out, so every row is full.
    """
    T = len(ids)
    if 2 * window >= T:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2 * window), dtype=np.int64)
    centre_positions = np.arange(window, T - window)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    return ids[centre_positions], ids[centre_positions[:, None] + offsets]


# -- the negative-sampling loss: forward and backward --------------------------------


class SgnsCache(NamedTuple):
    """What ``sgns_backward`` needs from ``sgns_forward``."""

    v: np.ndarray  # (N, E) input vectors
    u_pos: np.ndarray  # (N, E) output vectors of the true words
    u_neg: np.ndarray  # (N, K, E) output vectors of the noise words
    sig_pos: np.ndarray  # (N,) sigma(u_pos . v)
    sig_neg: np.ndarray  # (N, K) sigma(u_neg . v)


def sgns_forward(v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray) -> tuple[np.ndarray, SgnsCache]:
    """Negative-sampling loss of each pair: -log sigma(u_pos . v) - sum_k log sigma(-u_neg_k . v).

    Args:
        v: (N, E) input vectors (skip-gram: the centre's; CBOW: the context mean).
        u_pos: (N, E) output vectors of the word to predict.
        u_neg: (N, K, E) output vectors of the K noise words.

    Returns:
        loss: (N,) one loss per pair, and the cache.
    """
    check_floating("v", v)
    N, E = check_shape("v", v, {"N": None, "E": None})
    check_shape("u_pos", u_pos, {"N": N, "E": E})
    check_shape("u_neg", u_neg, {"N": N, "K": None, "E": E})
    score_pos = np.sum(u_pos * v, axis=1)  # (N,)
    score_neg = np.einsum("nke,ne->nk", u_neg, v)  # (N, K)
    loss = -_log_sigmoid(score_pos) - _log_sigmoid(-score_neg).sum(axis=1)
    return loss, SgnsCache(v, u_pos, u_neg, sigmoid(score_pos), sigmoid(score_neg))


def sgns_backward(dloss: np.ndarray, cache: SgnsCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of sum(dloss * loss): dv (N, E), du_pos (N, E), du_neg (N, K, E).

    dloss is (N,): all ones for the summed loss, 1/N for the mean.
    """
    v, u_pos, u_neg, sig_pos, sig_neg = cache
    d_pos = dloss * (sig_pos - 1.0)  # (N,): d loss / d score_pos
    d_neg = dloss[:, None] * sig_neg  # (N, K): d loss / d score_neg
    dv = d_pos[:, None] * u_pos + np.einsum("nk,nke->ne", d_neg, u_neg)
    du_pos = d_pos[:, None] * v
    du_neg = d_neg[:, :, None] * v[:, None, :]
    return dv, du_pos, du_neg


# -- CBOW's input: the mean of the context vectors -----------------------------------


def cbow_mean_forward(v_context: np.ndarray) -> tuple[np.ndarray, int]:
    """h = mean of the C context vectors: (N, C, E) -> (N, E); the cache is C."""
    check_floating("v_context", v_context)
    check_shape("v_context", v_context, {"N": None, "C": None, "E": None})
    return v_context.mean(axis=1), v_context.shape[1]


def cbow_mean_backward(dh: np.ndarray, C: int) -> np.ndarray:
    """The exact gradient of the mean: each context vector gets dh / C, (N, E) -> (N, C, E)."""
    return np.repeat(dh[:, None, :] / C, C, axis=1)


def cbow_word2vec_backward(dh: np.ndarray, C: int) -> np.ndarray:
    """word2vec's CBOW update: each context vector gets the whole dh, (N, E) -> (N, C, E).

    Not the gradient of ``cbow_mean_forward`` (that is ``dh / C``) but C times
    it, as ``word2vec.c`` adds its accumulated error to every context word.
    """
    return np.repeat(dh[:, None, :], C, axis=1)
