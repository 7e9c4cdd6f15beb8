"""The proof every exercise owes, through real nbgrader (CHAPTER.md, "The exercise").

A chapter's test module subclasses :class:`ExerciseProof` (its fixtures, ``course``,
``source``, ``release``, ``submissions`` and ``graded``, are in ``tests/grading/conftest.py``), names its
assignment and its answers module, and adds its own tests (the messages of
its named mistakes). One temporary course per chapter holds every kind of
submission, and the batch grader of `make grade` grades them all in one run:

- the source notebook and the release filled with its solutions: full marks;
- the untouched release: zero;
- a correct solution written differently (``answers.ALTERNATIVE``): full marks;
- one typical mistake per part (``answers.WRONG``): loses exactly that part;
- a part that calls the course's own implementation (``answers.CHEAT``): loses exactly that part;
- the committed release is what nbgrader generates today, and hides every solution and hidden test.

The answers module maps each answer cell's grade_id to a complete cell
source, in ``ALTERNATIVE``, ``WRONG`` and ``CHEAT``; test cells follow their
answer cells in order, so the n-th answer cell is graded by the n-th test cell.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbgrader.api import Gradebook

from tests.grading.notebooks import filled, grade_ids, points, solution_sources

Submissions = dict[str, nbformat.NotebookNode | str]


#: The hand-in advice of every exercise's introduction, the same in all eight.
HAND_IN = (
    "**Before you hand in:** *Kernel > Restart Kernel and Run All Cells*, then click *Validate* in the "
    "notebook's toolbar, or run `make validate NB=work/exercises/{id}/{id}.ipynb` in a terminal: "
    "both list each part as passed or failed, with its points."
)


def standard_submissions(
    source: nbformat.NotebookNode, release: nbformat.NotebookNode, answers: ModuleType
) -> Submissions:
    """The submissions of the proof, by student name."""
    correct = solution_sources(source)
    result: Submissions = {
        "solution": source,
        "untouched": release,
        "filled": filled(release, correct),
        "alternative": filled(release, correct | answers.ALTERNATIVE),
    }
    for part in grade_ids(source, "solution"):
        result[f"wrong-{part}"] = filled(release, correct | {part: answers.WRONG[part]})
        result[f"cheat-{part}"] = filled(release, correct | {part: answers.CHEAT[part]})
    return result


def grade_class(
    course: Path, assignment: str, submissions: Submissions, env: dict[str, str], cell_timeout: float
) -> str:
    """Write the submissions in nbgrader's layout and run `make grade`'s batch grader; its log."""
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        path = folder / f"{assignment}.ipynb"
        if isinstance(notebook, str):
            path.write_text(notebook)
        else:
            nbformat.write(notebook, path)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnncourse.autograder.batch",
            "--assignment",
            assignment,
            "--cell-timeout",
            str(cell_timeout),
        ],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    return run.stdout + run.stderr


def scores(course: Path, assignment: str, student: str) -> dict[str, float]:
    """The gradebook's score of every test cell of one student's notebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {grade.name: grade.score for grade in notebook.grades}


def feedback_html(course: Path, assignment: str, student: str) -> str:
    """The feedback page `make grade` wrote for one student."""
    return (course / "feedback" / student / assignment / f"{assignment}.html").read_text()


def feedback_text(course: Path, assignment: str, student: str) -> str:
    """What the learner reads on that page: its text, HTML entities decoded."""
    return BeautifulSoup(feedback_html(course, assignment, student), features="html.parser").get_text()


class ExerciseProof:
    """Tests shared by every exercise; subclass as ``TestChNNExercise`` and set the class variables."""

    ASSIGNMENT: ClassVar[str]
    ANSWERS: ClassVar[ModuleType]
    TOTAL_POINTS: ClassVar[float]
    CELL_TIMEOUT: ClassVar[float] = 20.0  # seconds per cell while grading

    def extra_submissions(self, source: nbformat.NotebookNode, release: nbformat.NotebookNode) -> Submissions:
        """More submissions a chapter wants graded in the same run (override)."""
        return {}

    def scores(self, course: Path, student: str) -> dict[str, float]:
        return scores(course, self.ASSIGNMENT, student)

    def test_release_equals_what_nbgrader_generates_today(self, repo: Path, release) -> None:
        committed = json.loads(
            (repo / "exercises" / self.ASSIGNMENT / f"{self.ASSIGNMENT}.ipynb").read_text()
        )
        assert committed == json.loads(nbformat.writes(release)), "exercises/ is stale: run `make release`"

    def test_release_hides_solutions_and_hidden_tests(self, release) -> None:
        text = nbformat.writes(release)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text
        stubs = [
            cell
            for cell in release.cells
            if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source
        ]
        assert len(stubs) == len(grade_ids(release, "solution"))

    def test_hand_in_advice_is_the_courses_one_sentence(self, release) -> None:
        """Every exercise says the same: Validate or make validate (never `nbgrader validate`)."""
        text = "\n".join(cell.source for cell in release.cells if cell.cell_type == "markdown")
        advice = HAND_IN.format(id=self.ASSIGNMENT)
        assert text.count("**Before you hand in:**") == 1 and advice in text
        assert "nbgrader validate" not in text

    def test_ungraded_cells_that_call_parts_wait_for_them(self, release) -> None:
        """A cell outside the parts that calls a part's function starts with %%try_it (grading.lab)."""
        functions = {part.function for part in import_module(f"rnncourse.grading.{self.ASSIGNMENT}").PARTS}
        for cell in release.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or meta.get("grade") or meta.get("solution"):
                continue
            called = {name for name in functions if re.search(rf"\b{name}\(", cell.source)}
            if called:
                assert cell.source.startswith("%%try_it\n"), (called, cell.source[:200])

    def test_parts_and_points(self, source) -> None:
        table = points(source)
        assert len(table) >= 4 and sum(table.values()) == self.TOTAL_POINTS
        assert all(value > 0 for value in table.values())
        assert len(grade_ids(source, "solution")) == len(table), "one answer cell per test cell"

    def test_answers_cover_every_part(self, source) -> None:
        parts = set(grade_ids(source, "solution"))
        for kind in ("ALTERNATIVE", "WRONG", "CHEAT"):
            assert set(getattr(self.ANSWERS, kind)) == parts, kind

    def test_solution_earns_full_marks(self, graded, source) -> None:
        course, log = graded
        assert self.scores(course, "solution") == points(source), log

    def test_filled_release_earns_full_marks(self, graded, source) -> None:
        course, log = graded
        assert self.scores(course, "filled") == points(source), log

    def test_untouched_release_earns_nothing(self, graded) -> None:
        course, log = graded
        assert sum(self.scores(course, "untouched").values()) == 0, log

    def test_differently_written_solution_earns_full_marks(self, graded, source) -> None:
        course, log = graded
        assert self.scores(course, "alternative") == points(source), log

    @pytest.mark.parametrize("kind", ["wrong", "cheat"])
    def test_one_part_wrong_or_copied_loses_exactly_that_part(self, graded, source, kind: str) -> None:
        course, log = graded
        full = points(source)
        for part, test in zip(grade_ids(source, "solution"), grade_ids(source, "grade"), strict=True):
            assert self.scores(course, f"{kind}-{part}") == full | {test: 0.0}, f"{kind}-{part}\n{log}"

    def test_copied_parts_are_told_why(self, graded, source) -> None:
        course, _log = graded
        for part in grade_ids(source, "solution"):
            assert "not available while grading" in feedback_html(course, self.ASSIGNMENT, f"cheat-{part}"), (
                part
            )

    def test_feedback_shows_a_wrong_part_as_one_short_box(self, graded, source) -> None:
        """The part's title and the check's message, as in the lab: no traceback, no grader's frame."""
        course, _log = graded
        part = grade_ids(source, "solution")[0]
        page = feedback_html(course, self.ASSIGNMENT, f"wrong-{part}")
        assert re.search(r"FAILED  Part 1: [^<]*</span>", page), part
        assert (
            "most recent call last" not in page
            and "site-packages" not in page
            and "GradingFailure:" not in page
        )

    def test_grades_csv_lists_every_graded_submission(self, graded, submissions: Submissions) -> None:
        course, log = graded
        with (course / "grades.csv").open(newline="") as handle:
            # a notebook that could not be graded has a row without a score (its status says why)
            rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle) if row["score"]}
        expected = {name for name, notebook in submissions.items() if not isinstance(notebook, str)}
        assert expected <= set(rows), log
        assert rows["solution"] == self.TOTAL_POINTS and rows["untouched"] == 0
