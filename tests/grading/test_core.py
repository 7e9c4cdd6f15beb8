"""The shared comparison: what it says about a wrong array when no named mistake explains it."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.grading.core import (
    FLOAT32_FLOOR,
    TOLERANCE,
    GradingFailure,
    compare,
    describe_difference,
    run_learner_code,
)

RIGHT = np.random.default_rng(5).normal(size=(3, 6, 4))


def failure(result: np.ndarray, tolerance: float = TOLERANCE) -> str:
    with pytest.raises(GradingFailure) as raised:
        compare(result, RIGHT, "f", {}, tolerance)
    return str(raised.value)


@pytest.mark.parametrize("relative", [3e-10, 3e-9])
def test_float64_that_loses_a_few_digits_is_not_told_it_used_float32(relative: float) -> None:
    message = failure(RIGHT * (1 + relative))
    assert "float32 arithmetic" not in message and "too close for float32" in message
    assert "loses digits" in message and "stable form" in message


def test_float32_arithmetic_is_named_with_the_other_cause_it_could_be() -> None:
    rounded = RIGHT.astype(np.float32).astype(np.float64)
    message = failure(rounded)
    assert "float32 arithmetic" in message and "loses digits" in message
    assert float(np.max(np.abs(rounded - RIGHT)) / np.max(np.abs(RIGHT))) >= FLOAT32_FLOOR


def test_a_stated_tolerance_is_the_one_applied() -> None:
    compare(RIGHT * (1 + 5e-9), RIGHT, "f", {}, tolerance=1e-8)  # accepted: within what was stated
    assert "tolerance 1e-08" in failure(RIGHT * (1 + 1e-3), tolerance=1e-8)


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (-RIGHT, "opposite sign"),
        (0.25 * RIGHT, "times 0.25 everywhere"),
        (RIGHT + 0.5, "plus the constant 0.5"),
        (
            np.concatenate([RIGHT[:, :2], RIGHT[:, 2:] + 1.0], axis=1),
            "axis 1 (of length 6) at indices 0..1 and wrong from index 2 on",
        ),
        (
            np.concatenate([RIGHT[:, :4] * 3, RIGHT[:, 4:]], axis=1),
            "wrong along axis 1 (of length 6) at indices 0..3 and right from index 4 on",
        ),
    ],
)
def test_the_fallback_says_how_a_wrong_array_relates_to_the_right_one(wrong: np.ndarray, words: str) -> None:
    message = failure(wrong)
    assert words in message and message.endswith("term by term.")


def test_the_transpose_is_named_and_unrelated_values_are_not_described() -> None:
    square = np.random.default_rng(1).normal(size=(5, 5))
    assert describe_difference(square.T, square) == "it is the transpose of the right answer"
    unrelated = np.random.default_rng(2).normal(size=RIGHT.shape)
    assert describe_difference(unrelated, RIGHT) == ""
    assert describe_difference(np.array(3.0), np.array(2.0)) == ""  # one number is a multiple of any other


def test_a_collection_starting_inside_the_learners_call_is_not_blamed_on_it() -> None:
    """Finalizers and gc callbacks other code left behind (a harness's, a database pool's) may use any
    library; an automatic collection must not run them inside the learner's call."""
    import gc
    import weakref

    import torch

    def harness_callback(phase: str, info: dict[str, int]) -> None:
        torch.zeros(1)  # a library no part allows, called by the harness, not by the learner

    class Pooled:  # cyclic garbage with a finalizer, as a connection pool leaves it
        def __init__(self) -> None:
            self.me = self

    def learner(n: int) -> int:
        containers = [[[]] for _ in range(50 * gc.get_threshold()[0])]  # enough to start a collection
        del containers
        return n + 1

    gc.collect()
    gc.callbacks.append(harness_callback)
    leftover = Pooled()
    weakref.finalize(leftover, torch.zeros, 1)
    del leftover
    try:
        assert run_learner_code(learner, 1) == 2
    finally:
        gc.callbacks.remove(harness_callback)
    assert gc.isenabled()
    gc.collect()


def test_a_collection_the_learner_starts_runs_as_the_learners_code() -> None:
    """A finalizer of the learner's own, run by their gc.collect(), is no way around the monitor."""
    import gc
    import weakref

    import torch

    def cheat(n: int) -> int:
        class Cyclic:
            def __init__(self) -> None:
                self.me = self

        garbage = Cyclic()
        weakref.finalize(garbage, torch.zeros, 1)
        del garbage
        gc.collect()
        return n + 1

    with pytest.raises(GradingFailure, match="torch"):
        run_learner_code(cheat, 1)

    def direct(n: int) -> int:
        torch.zeros(1)
        return n + 1

    with pytest.raises(GradingFailure, match="torch"):
        run_learner_code(direct, 1)
