"""Splits in order keep the end of a list for testing."""

from __future__ import annotations

import pytest

from rnncourse.data.splits import split_in_order


def test_split_in_order_keeps_the_last_part_for_testing() -> None:
    train, test = split_in_order(list(range(10)), 0.2)
    assert train == list(range(8)) and test == [8, 9]
    assert split_in_order([1, 2, 3], 0.01)[1] == [3]  # at least one test item
    assert split_in_order("abcd", 0.5) == (["a", "b"], ["c", "d"])  # any sequence, lists back


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_a_fraction_outside_zero_to_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        split_in_order([1, 2], fraction)
