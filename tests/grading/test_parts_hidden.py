"""Hidden cases come from the instructor's secret: the same secret draws the same cases, nobody else can.

Every exercise's parts are checked here: hidden cases are named once, drawn
anew for another secret, another assignment or another part, and answers
tabulated from the public package (the course's solutions run on every case
anyone could compute: the visible ones, and hidden ones drawn with secrets
one could guess) earn nothing on the hidden cases of a secret they did not know.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnncourse.grading import _codec
from rnncourse.grading.parts import HiddenKey, Part, plain, verify_part
from tests.grading.hidden import TEST_SECRET
from tests.grading.notebooks import read, solution_sources

CHAPTERS = tuple(sorted(path.name for path in (Path(__file__).resolve().parents[2] / "solutions").iterdir()))
PARTS = [
    (chapter, part)
    for chapter in CHAPTERS
    for part in importlib.import_module(f"rnncourse.grading.{chapter}").PARTS
]
IDS = [part.grade_id.removeprefix("test_") for _, part in PARTS]
OTHER_SECRET = b"another course's secret, 0123456789"


def _same(a: object, b: object) -> bool:
    return digest(a) == digest(b)


def digest(value: object) -> str:
    """A fingerprint of plain data (what a table of answers would be keyed by)."""
    arrays: dict[str, np.ndarray] = {}
    structure = json.dumps(_codec.encode(value, arrays), sort_keys=True)
    hasher = hashlib.sha256(structure.encode())
    for name in sorted(arrays):
        hasher.update(f"{name} {arrays[name].dtype.str} {arrays[name].shape}".encode())
        hasher.update(np.ascontiguousarray(arrays[name]).tobytes())
    return hasher.hexdigest()


@pytest.mark.parametrize(("chapter", "part"), PARTS, ids=IDS)
def test_the_same_secret_draws_the_same_cases_and_another_draws_others(chapter: str, part: Part) -> None:
    key = HiddenKey(TEST_SECRET, chapter)
    first, again = part.hidden_cases(key), part.hidden_cases(HiddenKey(TEST_SECRET, chapter))
    assert [c.name for c in first] == list(part.hidden) and all(c.hidden for c in first)
    assert all(_same(a.args, b.args) for a, b in zip(first, again, strict=True))
    visible = part.visible()
    assert visible and not any(c.hidden for c in visible)
    names = [c.name for c in visible] + [c.name for c in first]
    assert len(set(names)) == len(names), "the grader keys values by case name"
    other = part.hidden_cases(HiddenKey(OTHER_SECRET, chapter))
    changed = [not _same(a.args, b.args) for a, b in zip(first, other, strict=True)]
    # A case with nothing to draw (no sentences at all) is the same for everyone; every other one differs.
    assert sum(changed) >= len(changed) - 1 and any(changed), [
        c.name for c, d in zip(first, changed) if not d
    ]
    for case in first:
        assert _same(across_the_codec(case.args), case.args), "hidden inputs cross the codec unchanged"


def across_the_codec(value: object) -> object:
    arrays: dict[str, np.ndarray] = {}
    return _codec.decode(json.loads(json.dumps(_codec.encode(value, arrays))), arrays)


def test_the_generator_depends_on_the_secret_the_assignment_the_part_and_the_case() -> None:
    def first_draw(secret: bytes, assignment: str, grade_id: str, case: str) -> float:
        return float(HiddenKey(secret, assignment).generator(grade_id, case).random())

    base = first_draw(TEST_SECRET, "ch01_recurrence", "test_softmax", "one")
    assert base == first_draw(TEST_SECRET, "ch01_recurrence", "test_softmax", "one")
    assert base != first_draw(OTHER_SECRET, "ch01_recurrence", "test_softmax", "one")
    assert base != first_draw(TEST_SECRET, "ch02_bptt", "test_softmax", "one")
    assert base != first_draw(TEST_SECRET, "ch01_recurrence", "test_classify", "one")
    assert base != first_draw(TEST_SECRET, "ch01_recurrence", "test_softmax", "two")


def test_a_short_secret_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match="make secret"):
        HiddenKey(b"short", "ch01_recurrence")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_part_substitutes_only_earlier_parts(chapter: str) -> None:
    """The grader sends a part's substitutes when it checks that part: they must hold nothing of a later one."""
    parts = importlib.import_module(f"rnncourse.grading.{chapter}").PARTS
    functions = [part.function for part in parts]
    for index, part in enumerate(parts):
        later = set(functions[index:])
        assert not later & set(part.substitutes), part.grade_id


# -- a table of answers computed from the public package earns nothing -----------------


def notebook_namespace(chapter: str) -> dict[str, Any]:
    """The solution notebook's namespace after its code cells (test cells left out)."""
    notebook = read(f"solutions/{chapter}/{chapter}.ipynb")
    solutions = solution_sources(notebook)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
                continue
            source = solutions[meta["grade_id"]] if meta.get("solution") else cell.source
            if meta.get("solution") or meta.get("locked"):
                exec(compile(source, f"<{chapter} cell>", "exec"), namespace)
    return namespace


def tabulated(table: dict[str, object]) -> Callable[..., object]:
    """An answer that computes nothing: it looks its arguments up in ``table``."""

    def answer(*args: object) -> object:
        return table.get(digest(args))

    return answer


#: Secrets a learner could try: none at all, the word "secret", the tests' own.
GUESSES = (b"", b"secret", TEST_SECRET)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_answers_tabulated_from_the_public_package_earn_nothing(chapter: str) -> None:
    namespace = notebook_namespace(chapter)
    parts = importlib.import_module(f"rnncourse.grading.{chapter}").PARTS
    guessed = [HiddenKey(secret.ljust(16, b"\0"), chapter) for secret in GUESSES]
    course = HiddenKey(b"the course's own secret, unknown to learners", chapter)
    for part in parts:
        solution = namespace[part.function]
        public = part.visible() + [case for key in guessed for case in part.hidden_cases(key)]
        with np.errstate(all="ignore"):
            table = {digest(case.args): plain(solution(*copy.deepcopy(case.args))) for case in public}
        answer = tabulated(table)
        # The table is right wherever it was computed: graded with a guessed secret, it passes ...
        cases = part.graded_cases(guessed[-1])
        assert verify_part(part, [answer(*case.args) for case in cases], cases).passed, part.grade_id
        # ... and with the course's secret it fails, on a hidden case.
        cases = part.graded_cases(course)
        verdict = verify_part(part, [answer(*case.args) for case in cases], cases)
        assert verdict.failure is not None and verdict.failure.startswith("Hidden check"), part.grade_id
