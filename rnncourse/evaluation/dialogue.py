"""How chat replies are judged when there is no single right reply.

BLEU against one reference reply scores 0 for most good replies ("Hi" and
"Hello there" share no word), so a chatbot is measured by what moves:

==========================  ==================================================================
``distinct_n``              distinct n-grams / all n-grams of a set of replies (Li et al. 2016):
                            low when the bot says the same few things to everyone
``top_reply_share``         the most frequent reply and the share of prompts that get it
``sequence_log_probs``      ``log p(y | x)`` of each target from a teacher-forced model's logits
``perplexity``              ``exp`` of the mean negative log-probability per token
``candidate_sets``          for each prompt, its true reply and k - 1 replies to other prompts
``recall_at_1``             how often the true reply scores highest among its k candidates
                            (response selection, Lowe et al. 2015)
``mmi_scores``              maximum mutual information re-ranking (Li et al. 2016):
                            ``(log p(r | prompt) - lambda log p(r)) / |r|``
==========================  ==================================================================

Does the chatbot use the prompt? Compare the perplexity of held-out reference
replies under the model that reads the prompt with that under a language
model of replies alone: if the prompt carries information about the reply,
the first is lower.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "candidate_sets",
    "distinct_n",
    "mmi_scores",
    "perplexity",
    "recall_at_1",
    "sequence_log_probs",
    "top_reply_share",
]


def distinct_n(replies: Sequence[Sequence[str]], n: int) -> float:
    """Distinct n-grams over all n-grams of ``replies`` (token lists), in [0, 1]; 0 if there are none.

    Counted over the whole set (Li et al. 2016): a bot that gives everyone the
    same reply has distinct-n near 1 / (number of replies).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    grams = [tuple(r[i : i + n]) for r in replies for i in range(len(r) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def top_reply_share(replies: Sequence[str]) -> tuple[str, float]:
    """The most frequent reply (the first seen on ties) and the share of replies equal to it."""
    if not replies:
        raise ValueError("no replies to count")
    top, count = Counter(replies).most_common(1)[0]
    return top, count / len(replies)


def sequence_log_probs(logits: Tensor, targets: Tensor, lengths: Tensor) -> Tensor:
    """``log p(y | x) = sum_t log softmax(logits_t)[y_t]`` over each row's first ``lengths`` steps.

    Args:
        logits: (N, T, V) scores of a teacher-forced model (step t predicts ``targets[:, t]``).
        targets: (N, T) int64 target ids (padding after each row's length is ignored).
        lengths: (N,) int64 real tokens per row (``<eos>`` included), each in [1, T].

    Returns:
        (N,) float64 summed log-probabilities. ``-sum / sum(lengths)`` is the mean
        cross-entropy per token, and :func:`perplexity` its ``exp``.
    """
    if logits.dim() != 3 or targets.shape != logits.shape[:2] or lengths.shape != logits.shape[:1]:
        raise ValueError(
            f"expected logits (N, T, V), targets (N, T), lengths (N,); got {tuple(logits.shape)}, "
            f"{tuple(targets.shape)}, {tuple(lengths.shape)}"
        )
    if bool((lengths < 1).any()) or bool((lengths > targets.shape[1]).any()):
        raise ValueError(f"every length must be in [1, {targets.shape[1]}], got {lengths.tolist()}")
    log_p = torch.log_softmax(logits.double(), dim=-1).gather(-1, targets[..., None])[..., 0]  # (N, T)
    real = torch.arange(targets.shape[1])[None, :] < lengths[:, None]
    return (log_p * real).sum(dim=1)


def perplexity(log_probs: np.ndarray, lengths: np.ndarray) -> float:
    """``exp(-sum(log_probs) / sum(lengths))``: the per-token perplexity of a set of sequences.

    Args:
        log_probs: (n,) summed log-probabilities of each sequence (natural log).
        lengths: (n,) tokens in each sequence.
    """
    total = float(np.sum(lengths))
    if total <= 0:
        raise ValueError("no tokens: the lengths must sum to a positive number")
    return math.exp(-float(np.sum(log_probs)) / total)


def candidate_sets(replies: Sequence[str], k: int, rng: np.random.Generator) -> np.ndarray:
    """(n, k) indices into ``replies``: row i is ``i`` (the true reply), then k - 1 distractors.

    The distractors of prompt i are the replies of k - 1 other prompts, drawn
    without repeats among those whose text differs from reply i's (a corpus
    that answers many prompts alike would otherwise hide the true reply among
    copies of itself), as in the response-selection test of Lowe et al. (2015).
    """
    n = len(replies)
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    rows = []
    for i in range(n):
        others = np.array([j for j in range(n) if replies[j] != replies[i]], dtype=np.int64)
        if len(others) < k - 1:
            raise ValueError(
                f"reply {i} has only {len(others)} other replies unlike it; k - 1 = {k - 1} are needed"
            )
        rows.append([i, *rng.choice(others, size=k - 1, replace=False)])
    return np.array(rows, dtype=np.int64).reshape(n, k)


def recall_at_1(scores: np.ndarray) -> float:
    """Share of rows whose first column (the true reply) scores strictly highest.

    Args:
        scores: (n, k) a score per candidate, the true reply in column 0. A tie
            with a distractor counts as a miss: a scorer that cannot tell them
            apart has not found the reply (so a constant scorer gets 0, not 1/k).
    """
    if scores.ndim != 2 or scores.shape[1] < 2 or scores.shape[0] < 1:
        raise ValueError(f"scores must be (n, k) with n >= 1 and k >= 2, got shape {scores.shape}")
    return float(np.mean(scores[:, 0] > scores[:, 1:].max(axis=1)))


def mmi_scores(
    log_p_given_prompt: np.ndarray, log_p_reply: np.ndarray, lengths: np.ndarray, weight: float
) -> np.ndarray:
    """``(log p(r | prompt) - weight * log p(r)) / |r|``: likelihood minus what the reply is worth anywhere.

    A generic reply ("I don't know") is likely after any prompt, so its
    ``log p(r)`` is high and its penalty large; a reply that fits only this
    prompt keeps its score. ``weight = 0`` is plain likelihood per token;
    ``weight = 1`` is the pointwise mutual information of prompt and reply.

    Args:
        log_p_given_prompt, log_p_reply, lengths: (n,) each: log-probabilities
            summed over the reply's tokens under the chatbot and under a
            language model of replies, and the number of those tokens.
    """
    if not (np.shape(log_p_given_prompt) == np.shape(log_p_reply) == np.shape(lengths)):
        raise ValueError(
            f"shapes differ: {np.shape(log_p_given_prompt)}, {np.shape(log_p_reply)}, {np.shape(lengths)}"
        )
    if np.any(np.asarray(lengths) < 1):
        raise ValueError("every reply has at least one token (its <eos>)")
    return (np.asarray(log_p_given_prompt) - weight * np.asarray(log_p_reply)) / np.asarray(lengths)
