"""Greedy and beam search over a step function, with GNMT's length normalisation.

A decoder is a *step function*: given the last token of K hypotheses and
their states, it returns the log-probabilities of every next token and the
new states,

    step(tokens (K,), state) -> (log_probs (K, V), state')

and ``select(state, index)`` keeps the states of the hypotheses ``index``
(K',) (default ``state[index]``, which NumPy arrays and torch tensors do).
A hypothesis ``y = y_1 .. y_m`` (``<bos>`` not counted, ``<eos>`` counted if
it was produced) has the log-probability ``log p(y) = sum_t log p(y_t | y_<t)``.

Greedy search takes the most probable token at every step. Beam search keeps
the ``beam_size`` most probable prefixes: at every step it extends each live
prefix by every token, keeps the ``beam_size`` best extensions by
log-probability, and moves those that end in ``<eos>`` to the finished list
(the live beam shrinks by as many). It stops when no prefix is live or after
``max_len`` tokens (live prefixes then finish without ``<eos>``).

:class:`PrefixDecoder` reads a step function through whole prefixes instead
of states, ``log_probs([<bos>, y_1, .., y_t])`` -> (V,): how exercise 7's
decoding parts read a decoder, a score table or a trained network alike.

Length normalisation. ``log p(y)`` only falls as y grows, so the
most probable finished hypothesis is biased towards short ones. GNMT (Wu et
al. 2016) ranks finished hypotheses by

    score(y) = log p(y) / lp(y),   lp(y) = ((5 + |y|) / 6) ** alpha

``lp`` grows with |y| (lp = 1 at |y| = 1 and at alpha = 0), and dividing a
*negative* number by a larger one brings it closer to zero: the division
raises the score of long hypotheses relative to short ones, so a larger
alpha favours longer outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

State = TypeVar("State")
Step = Callable[[np.ndarray, Any], tuple[np.ndarray, Any]]


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ``lp = ((5 + length) / 6) ** alpha``; the score is log p / lp."""
    return float(((5.0 + length) / 6.0) ** alpha)


@dataclass(frozen=True)
class Hypothesis:
    """A finished output: tokens (without ``<bos>``), its log-probability and its normalised score."""

    tokens: tuple[int, ...]
    log_prob: float
    score: float


def _select(state: Any, index: np.ndarray) -> Any:
    return state[index]


def greedy_search(step: Step, state: Any, bos: int, eos: int, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding of a batch of N sources at once.

    Args:
        step: the step function; state: the N sources' first states.
        bos, eos: token ids; max_len: most tokens generated per row.

    Returns:
        tokens: (N, max_len) int64, each row's tokens up to and including its
        first ``<eos>``, then ``eos`` repeated (rows stop changing after ``<eos>``);
        log_probs: (N,) the log-probability of each row's tokens up to its ``<eos>``.
    """
    N = _batch_size(state)
    tokens = np.full(N, bos, dtype=np.int64)
    total = np.zeros(N)
    done = np.zeros(N, dtype=bool)
    out = np.full((N, max_len), eos, dtype=np.int64)
    for t in range(max_len):
        log_probs, state = step(tokens, state)
        # A finished row keeps emitting <eos> and adds nothing to its log-probability.
        tokens = np.where(done, eos, log_probs.argmax(axis=-1))
        total = total + np.where(done, 0.0, log_probs[np.arange(N), tokens])
        done = done | (tokens == eos)
        out[:, t] = tokens
        if done.all():
            break
    return out, total


def _batch_size(state: Any) -> int:
    """N of a state: the length of its first array (a dataclass's first field, a tuple's first item)."""
    if hasattr(state, "__dataclass_fields__"):
        return _batch_size(getattr(state, next(iter(state.__dataclass_fields__))))
    if isinstance(state, (tuple, list)):
        return _batch_size(state[0])
    return int(state.shape[0])


def beam_search(
    step: Step,
    state: Any,
    bos: int,
    eos: int,
    beam_size: int,
    max_len: int,
    alpha: float = 0.0,
    select: Callable[[Any, np.ndarray], Any] | None = None,
) -> list[Hypothesis]:
    """Beam search for one source.

    Args:
        step: the step function; state: the source's first state, batch of 1.
        bos, eos: token ids; beam_size: k >= 1; max_len: most tokens per hypothesis.
        alpha: GNMT's length-normalisation exponent (0: rank by log-probability).
        select: ``select(state, index)``, the states of the hypotheses ``index``;
            ``state.select(index)`` if the state has that method, else ``state[index]``.

    Returns:
        The finished hypotheses, best score first (ties: the one finished first).
    """
    if beam_size < 1 or max_len < 1:
        raise ValueError(f"beam_size and max_len must be >= 1, got {beam_size} and {max_len}")
    if select is None:
        select = (lambda s, i: s.select(i)) if hasattr(state, "select") else _select
    prefixes: list[tuple[int, ...]] = [()]
    totals = np.zeros(1)
    last = np.array([bos], dtype=np.int64)
    finished: list[tuple[tuple[int, ...], float]] = []
    for _ in range(max_len):
        log_probs, state = step(last, state)
        candidates = (totals[:, None] + log_probs).ravel()  # (K * V,), row-major: hypothesis, then token
        best = np.argsort(-candidates, kind="stable")[:beam_size]
        V = log_probs.shape[1]
        keep, new_prefixes, new_totals = [], [], []
        for flat in best:
            k, token = divmod(int(flat), V)
            prefix = prefixes[k] + (token,)
            if token == eos:
                finished.append((prefix, float(candidates[flat])))
            else:
                keep.append(k)
                new_prefixes.append(prefix)
                new_totals.append(float(candidates[flat]))
        if not keep:
            break
        prefixes, totals = new_prefixes, np.array(new_totals)
        state = select(state, np.array(keep, dtype=np.int64))
        last = np.array([p[-1] for p in prefixes], dtype=np.int64)
    else:
        finished.extend(zip(prefixes, totals.tolist()))
    ranked = [Hypothesis(p, lp, lp / length_penalty(len(p), alpha)) for p, lp in finished]
    return sorted(ranked, key=lambda h: -h.score)


class PrefixDecoder:
    """A step function read through whole prefixes: ``log_probs(tokens)`` -> (V,).

    ``log_probs([bos, y_1, ..., y_t])`` is ``log p(y_{t+1} | y_1..y_t)``. A
    recurrent decoder needs the state those tokens led to; this keeps the state
    after every prefix it has been asked about, so that each new token costs
    one step, in whatever order a search asks for the prefixes.

    Args:
        step: the step function (batch of one row is enough); state: the source's first state.
    """

    def __init__(self, step: Step, state: Any) -> None:
        self._step = step
        self._after: dict[tuple[int, ...], Any] = {(): state}  # the state once a prefix is read
        self._log_probs: dict[tuple[int, ...], np.ndarray] = {}

    def log_probs(self, tokens: Sequence[int]) -> np.ndarray:
        """Log-probabilities (V,) of the token after ``tokens`` (``<bos>`` first)."""
        key = tuple(int(token) for token in tokens)
        if not key:
            raise ValueError("tokens must hold at least <bos>, the decoder's first input")
        if key not in self._log_probs:
            if key[:-1] not in self._after:
                self.log_probs(key[:-1])
            log_probs, state = self._step(np.array([key[-1]], dtype=np.int64), self._after[key[:-1]])
            self._log_probs[key] = np.asarray(log_probs, dtype=np.float64)[0]
            self._after[key] = state
        return self._log_probs[key].copy()
