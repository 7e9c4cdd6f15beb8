"""The counting language a^n b^n: strings, next-token targets, and the test of counting.

A string of the language is n letters ``a`` followed by n letters ``b``
(n >= 1). A network reads it one symbol at a time, after a start symbol
``^``, and at every step predicts the next symbol; after the last ``b``
the next symbol is the end marker ``$``:

    input   ^ a a a b b b
    target  a a a b b b $

Most of the targets are guesses: after an ``a`` the next symbol may be
another ``a`` or the first ``b``, whatever the network knows. The others
are **determined**: after ``^`` comes an ``a``; once the first ``b`` has
been read, n is known, and the rest (the remaining b's, then ``$``) follows.
A network *accepts* a string when its most likely next symbol is right at
every determined step (Gers and Schmidhuber 2001). Getting the last ``b``
and the ``$`` right needs a count of the a's: no finite-state shortcut
works for every n, which is why the language tests whether a recurrent
cell can count, and whether it keeps counting for n longer than any it was
trained on (Weiss, Goldberg and Yahav 2018).

Symbols are integers: 0 ``<pad>``, 1 ``^``, 2 ``a``, 3 ``b``, 4 ``$``
(``SYMBOLS``). A string with count n has 2n + 1 input steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SYMBOLS: tuple[str, ...] = ("<pad>", "^", "a", "b", "$")
PAD, START, A, B, END = range(len(SYMBOLS))
VOCAB_SIZE = len(SYMBOLS)


@dataclass(frozen=True)
class CountingBatch:
    """Strings a^n b^n, padded at the end to the longest.

    Attributes:
        n: (N,) int64, the count of each string.
        inputs: (N, T) int64 symbols read, T = 2 max(n) + 1, padded with 0.
        targets: (N, T) int64 next symbols, padded with 0.
        mask: (N, T) bool, True at the 2n + 1 real steps of each string.
        determined: (N, T) bool, True where the next symbol is forced:
            step 0 (after ``^``) and steps n + 1 .. 2n (after the first b).
    """

    n: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    determined: np.ndarray

    def __len__(self) -> int:
        return int(self.n.shape[0])


def anbn_string(n: int) -> str:
    """``"^" + "a" * n + "b" * n``: the symbols read for count n (the target adds ``"$"``)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return "^" + "a" * n + "b" * n


def counting_batch(ns: Sequence[int] | np.ndarray) -> CountingBatch:
    """Inputs, next-symbol targets and masks for the strings a^n b^n, n in ``ns``.

    Args:
        ns: N counts, each >= 1.

    Returns:
        A ``CountingBatch`` of N strings padded to T = 2 max(ns) + 1 steps.
    """
    n = np.asarray(ns, dtype=np.int64).reshape(-1)
    if n.size == 0:
        raise ValueError("ns is empty: give at least one count")
    if (n < 1).any():
        raise ValueError(f"every n must be at least 1, got {n.min()}")
    T = int(2 * n.max() + 1)
    steps = np.arange(T)[None, :]  # (1, T)
    count = n[:, None]  # (N, 1)
    # Step t reads ^ at t = 0, a at 1..n, b at n+1..2n; it must predict the symbol of step t + 1.
    inputs = np.where(steps == 0, START, np.where(steps <= count, A, np.where(steps <= 2 * count, B, PAD)))
    targets = np.where(
        steps < count, A, np.where(steps < 2 * count, B, np.where(steps == 2 * count, END, PAD))
    )
    mask = steps <= 2 * count
    determined = (steps == 0) | ((steps > count) & mask)
    return CountingBatch(n, inputs.astype(np.int64), targets.astype(np.int64), mask, determined)


def sample_counts(size: int, n_max: int, seed: int, n_min: int = 1) -> np.ndarray:
    """``size`` counts drawn uniformly from n_min..n_max with ``default_rng(seed)``: (size,) int64."""
    if not 1 <= n_min <= n_max:
        raise ValueError(f"need 1 <= n_min <= n_max, got n_min={n_min}, n_max={n_max}")
    return np.random.default_rng(seed).integers(n_min, n_max + 1, size=size).astype(np.int64)


def accepted(logits: np.ndarray, batch: CountingBatch) -> np.ndarray:
    """Which strings a model accepts: the arg max is right at every determined step.

    Args:
        logits: (N, T, VOCAB_SIZE) scores of the next symbol (any monotone
            transform of the probabilities will do).
        batch: the strings they were computed on.

    Returns:
        (N,) bool.
    """
    expected = (len(batch), batch.inputs.shape[1], VOCAB_SIZE)
    if logits.shape != expected:
        raise ValueError(f"logits has shape {logits.shape}; expected (N, T, VOCAB_SIZE) = {expected}")
    right = logits.argmax(axis=-1) == batch.targets
    return np.all(right | ~batch.determined, axis=1)


def largest_counted(ns: Sequence[int] | np.ndarray, accepted_by_n: Sequence[bool] | np.ndarray) -> int:
    """The largest n such that every count 1..n in ``ns`` is accepted (0 if count 1 fails).

    The usual measure of generalisation: a model trained on n <= 10 that
    accepts every n up to 60 counts to 60, even if it also accepts, by
    luck, some larger n after its first failure.

    Args:
        ns: the counts tested, increasing from 1 without gaps.
        accepted_by_n: whether each was accepted.
    """
    counts = np.asarray(ns, dtype=np.int64)
    ok = np.asarray(accepted_by_n, dtype=bool)
    if (
        counts.shape != ok.shape
        or counts.size == 0
        or not np.array_equal(counts, np.arange(1, counts.size + 1))
    ):
        raise ValueError("ns must be 1, 2, ..., K and accepted_by_n must give one bool per count")
    failures = np.flatnonzero(~ok)
    return int(counts.size if failures.size == 0 else failures[0])
