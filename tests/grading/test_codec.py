"""The codec that carries a learner's answers out of the sandbox keeps values and drops tricks."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from rnncourse.grading import _codec


def _round_trip(value: object) -> object:
    arrays: dict[str, np.ndarray] = {}
    structure = _codec.encode(value, arrays)
    # Through JSON and .npz exactly as the sandbox sends them.
    return _codec.decode(json.loads(json.dumps(structure)), arrays)


class AlwaysEqual(np.ndarray):
    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return True

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return False


class SlyInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


def test_plain_values_come_back_equal_and_with_their_types() -> None:
    value = {
        "h": np.arange(6.0).reshape(2, 3),
        "lengths": np.array([3, 1], dtype=np.int64),
        "pair": (1, 2.5),
        "words": ["a", "b", None, True],
        "vocab": {"<pad>": 0, "love": 1},
    }
    back = _round_trip(value)
    assert isinstance(back, dict)
    np.testing.assert_array_equal(back["h"], value["h"])
    assert back["lengths"].dtype == np.int64
    assert back["pair"] == (1, 2.5) and isinstance(back["pair"], tuple)
    assert back["words"] == ["a", "b", None, True]
    assert back["vocab"] == {"<pad>": 0, "love": 1}


def test_an_always_equal_array_comes_back_as_a_plain_array_with_its_values() -> None:
    sly = np.zeros(3).view(AlwaysEqual)
    assert sly == np.ones(3)  # the trick works on the learner's side
    back = _round_trip(sly)
    assert type(back) is np.ndarray
    assert not np.array_equal(back, np.ones(3))
    np.testing.assert_array_equal(back, np.zeros(3))


def test_subclassed_and_numpy_scalars_become_exact_python_numbers() -> None:
    back = _round_trip([SlyInt(3), np.float64(0.5), np.int64(7), np.bool_(True)])
    assert back == [3, 0.5, 7, True]
    assert [type(item) for item in back] == [int, float, int, bool]  # type: ignore[union-attr]
    assert back[0] != 4  # type: ignore[index]


def test_what_cannot_cross_is_described_not_pickled() -> None:
    back = _round_trip([np.array([object()], dtype=object), {1: "int key"}, lambda x: x])
    assert isinstance(back, list)
    assert [item["unsupported"].split()[0] for item in back] == ["ndarray", "dict", "function"]
    assert all(len(item["repr"]) <= _codec.REPR_CHARS for item in back)


def test_deep_and_huge_values_are_cut_quickly() -> None:
    deep: list[object] = []
    for _ in range(10_000):
        deep = [deep]
    huge = [[0] * 1000 for _ in range(2000)]  # two million items
    start = time.monotonic()
    back_deep, back_huge = _round_trip(deep), _round_trip(huge)
    assert time.monotonic() - start < 5.0
    level = back_deep
    for _ in range(_codec.MAX_DEPTH + 1):
        level = level[0]  # type: ignore[index]
    assert "nested too deeply" in level["unsupported"]  # type: ignore[index]
    assert isinstance(back_huge, list) and len(back_huge) < 2000
    assert "too many items" in json.dumps(back_huge)


def test_an_exception_is_plain_text() -> None:
    try:
        raise ValueError("shapes (2,3) and (4,) not aligned")
    except ValueError as error:
        encoded = _codec.encode_error(error, "h = W @ x")
    assert encoded == {
        "error": "ValueError",
        "message": "shapes (2,3) and (4,) not aligned",
        "line": "h = W @ x",
    }


@pytest.mark.parametrize(
    "structure",
    [{"array": "missing"}, {"array": "a0", "extra": 1}, {"tuple": "no"}, {"weird": 1}, b"bytes"],
)
def test_malformed_structures_are_refused(structure: object) -> None:
    with pytest.raises(ValueError):
        _codec.decode(structure, {"a0": np.zeros(1)})
