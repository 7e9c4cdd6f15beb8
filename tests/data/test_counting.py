"""The a^n b^n language: strings, targets, determined steps, acceptance, generalisation."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.data.counting import (
    SYMBOLS,
    VOCAB_SIZE,
    accepted,
    anbn_string,
    counting_batch,
    largest_counted,
    sample_counts,
)


def decode(row: np.ndarray) -> str:
    return "".join(SYMBOLS[i] for i in row if i != 0)


def test_string_and_targets_spelled_out() -> None:
    batch = counting_batch([3, 1])
    assert anbn_string(3) == "^aaabbb"
    assert batch.inputs.shape == (2, 7)
    assert decode(batch.inputs[0]) == "^aaabbb" and decode(batch.targets[0]) == "aaabbb$"
    assert decode(batch.inputs[1]) == "^ab" and decode(batch.targets[1]) == "ab$"
    assert batch.mask.sum(axis=1).tolist() == [7, 3]
    # Determined: after ^, and after the first b (the last two b's and $ for n = 3).
    assert batch.determined[0].tolist() == [True, False, False, False, True, True, True]
    assert batch.determined[1].tolist() == [True, False, True, False, False, False, False]


def test_targets_are_inputs_shifted_by_one() -> None:
    batch = counting_batch(sample_counts(20, 9, seed=1))
    for row in range(len(batch)):
        length = int(batch.mask[row].sum())
        assert np.array_equal(batch.targets[row, : length - 1], batch.inputs[row, 1:length])


def perfect_logits(batch) -> np.ndarray:
    return np.eye(VOCAB_SIZE)[batch.targets]


def test_a_perfect_counter_is_accepted_and_one_wrong_step_rejects() -> None:
    batch = counting_batch(np.arange(1, 6))
    logits = perfect_logits(batch)
    assert accepted(logits, batch).all()
    # A guess after an a (not determined) does not matter ...
    logits[4, 2] = np.eye(VOCAB_SIZE)[3]
    assert accepted(logits, batch).all()
    # ... predicting $ one b too early (the count is off by one) does.
    logits[4, 8] = np.eye(VOCAB_SIZE)[4]
    assert accepted(logits, batch).tolist() == [True, True, True, True, False]


def test_a_counter_that_stops_at_five_generalises_to_five() -> None:
    ns = np.arange(1, 12)
    batch = counting_batch(ns)
    logits = perfect_logits(batch)
    logits[ns > 5, 0] = 0.0  # after ^, every symbol scored alike ...
    logits[ns > 5, 0, 3] = 1.0  # ... but b wins: wrong for every n > 5
    ok = accepted(logits, batch)
    assert largest_counted(ns, ok) == 5
    ok[7] = True  # a lucky success after the first failure does not count
    assert largest_counted(ns, ok) == 5
    assert largest_counted(ns, np.ones(11, bool)) == 11 and largest_counted(ns, np.zeros(11, bool)) == 0


def test_sample_counts_is_seeded_and_in_range() -> None:
    a, b = sample_counts(500, 10, seed=3), sample_counts(500, 10, seed=3)
    assert np.array_equal(a, b) and a.min() == 1 and a.max() == 10
    assert not np.array_equal(a, sample_counts(500, 10, seed=4))


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        counting_batch([2, 0])
    with pytest.raises(ValueError, match="logits has shape"):
        accepted(np.zeros((1, 3, 4)), counting_batch([1]))
    with pytest.raises(ValueError, match=r"1, 2, \.\.\., K"):
        largest_counted([2, 3], [True, True])
