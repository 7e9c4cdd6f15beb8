"""Hidden cases in tests: drawn from the tests' own secret, as the grader draws them from a course's."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from rnncourse.grading.parts import Case, HiddenKey, Part, Verdict, run_part_in_process

#: Not a course's secret: any course creates its own with `make secret`.
TEST_SECRET = b"the tests' own grading secret, never a course's"


def key(assignment: str, secret: bytes = TEST_SECRET) -> HiddenKey:
    return HiddenKey(secret, assignment)


def assignment_of(part: Part) -> str:
    """The assignment of a part: the name of the chapter module whose ``PARTS`` hold it."""
    for name, module in list(sys.modules.items()):
        if name.startswith("rnncourse.grading.ch") and part in getattr(module, "PARTS", ()):
            return name.rsplit(".", 1)[-1]
    raise LookupError(f"{part.grade_id} is in no chapter's PARTS")


def hidden_cases(part: Part, secret: bytes = TEST_SECRET) -> list[Case]:
    return part.hidden_cases(key(assignment_of(part), secret))


def graded_cases(part: Part, secret: bytes = TEST_SECRET) -> list[Case]:
    """Visible then hidden cases, as the grader runs them."""
    return part.graded_cases(key(assignment_of(part), secret))


def run_hidden(
    part: Part, function: Mapping[str, Any] | Callable[..., Any], secret: bytes = TEST_SECRET
) -> Verdict:
    """The part's hidden cases run in process, as the lab runs its visible ones; raises on a failure."""
    return run_part_in_process(part, function, cases=hidden_cases(part, secret))
