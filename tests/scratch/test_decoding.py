"""Tests of greedy and beam search on tables whose answers can be worked out by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rnncourse.scratch.decoding import beam_search, greedy_search, length_penalty

EOS = 0


def table_step(log_probs: np.ndarray):
    """A step whose next-token log-probs depend on the step t and the previous token: table[t, prev]."""

    def step(tokens: np.ndarray, t: np.ndarray):
        return log_probs[t, tokens], t + 1

    return step


def _table(seed: int, T: int, V: int) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(T, V, V)) * 2
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def _exhaustive(table: np.ndarray, bos: int, max_len: int, alpha: float):
    """Every sequence that ends at its first <eos> (or at max_len), by brute force: the best score."""
    best = (-math.inf, ())
    V = table.shape[-1]
    for length in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=length):
            if EOS in seq[:-1] or (length < max_len and seq[-1] != EOS):
                continue
            prev, total = bos, 0.0
            for t, y in enumerate(seq):
                total += table[t, prev, y]
                prev = y
            best = max(best, (total / ((5 + length) / 6) ** alpha, seq))
    return best


def test_length_penalty_is_gnmt() -> None:
    assert length_penalty(1, 0.7) == 1.0
    assert abs(length_penalty(7, 1.0) - 2.0) < 1e-15
    # Dividing a negative log-probability by a larger lp raises it: long outputs gain.
    assert -6.0 / length_penalty(7, 1.0) > -6.0


def test_a_beam_wider_than_every_path_finds_the_exact_best() -> None:
    table = _table(0, 4, 3)
    for alpha in (0.0, 0.6, 2.0):
        best = beam_search(table_step(table), np.zeros(1, dtype=int), 1, EOS, 27, 4, alpha)[0]
        score, seq = _exhaustive(table, 1, 4, alpha)
        assert best.tokens == seq and abs(best.score - score) < 1e-12


def test_greedy_is_beam_of_one_and_can_lose_to_a_wider_beam() -> None:
    # Hand-made: the first step prefers token 2 (-0.4 vs -1.1), but after it every
    # continuation is poor (-2.3), while after token 1 <eos> is almost sure (-0.01).
    table = np.full((2, 3, 3), -5.0)
    table[0, 1] = [-5.0, -1.1, -0.4]
    table[1, 2] = [-2.3, -2.4, -2.5]
    table[1, 1] = [-0.01, -5.0, -5.0]
    step = table_step(table)
    tokens, log_probs = greedy_search(step, np.zeros(1, dtype=int), 1, EOS, 2)
    assert tokens.tolist() == [[2, EOS]] and abs(log_probs[0] - (-2.7)) < 1e-12
    one = beam_search(step, np.zeros(1, dtype=int), 1, EOS, 1, 2)[0]
    assert one.tokens == (2, EOS)
    two = beam_search(step, np.zeros(1, dtype=int), 1, EOS, 2, 2)[0]
    assert two.tokens == (1, EOS) and abs(two.log_prob - (-1.11)) < 1e-12


def test_length_normalisation_favours_the_longer_output() -> None:
    # Short: <eos> at once, log p = -1.0. Long: 1 1 <eos>, log p = -1.2, lp(3) = 8/6 at alpha 1.
    table = np.full((3, 3, 3), -9.0)
    table[0, 1] = [-1.0, -0.4, -9.0]
    table[1, 1] = [-9.0, -0.4, -9.0]
    table[2, 1] = [-0.4, -9.0, -9.0]
    step = table_step(table)
    plain = beam_search(step, np.zeros(1, dtype=int), 1, EOS, 2, 3, alpha=0.0)[0]
    normalised = beam_search(step, np.zeros(1, dtype=int), 1, EOS, 2, 3, alpha=1.0)[0]
    assert plain.tokens == (EOS,)
    assert normalised.tokens == (1, 1, EOS)  # -1.2 / (8/6) = -0.9 beats -1.0 / 1
    assert abs(normalised.score - (-0.9)) < 1e-12


def test_greedy_batch_rows_stop_at_their_own_eos() -> None:
    table = _table(5, 6, 4)
    starts = np.zeros(3, dtype=int)
    step = table_step(table)
    tokens, _ = greedy_search(step, starts, 1, EOS, 6)
    row, _ = greedy_search(step, starts[:1], 1, EOS, 6)
    assert np.array_equal(tokens[0], row[0])
    for r in tokens:
        if EOS in r.tolist():
            assert np.all(r[r.tolist().index(EOS) :] == EOS)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(table_step(_table(0, 2, 3)), np.zeros(1, dtype=int), 1, EOS, 0, 3)
