"""Splits of a list of items into training and test parts.

A split in order keeps the items' order and tests on the end: for items that
come in an order that matters (tunes of one collection, verses book by book),
the test part is then what a model trained on the beginning has not seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = ["split_in_order"]

T = TypeVar("T")


def split_in_order(items: Sequence[T], test_fraction: float) -> tuple[list[T], list[T]]:
    """(train, test): the last ``test_fraction`` of ``items`` (at least one) for testing, in order."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    cut = len(items) - max(1, round(test_fraction * len(items)))
    return list(items[:cut]), list(items[cut:])
