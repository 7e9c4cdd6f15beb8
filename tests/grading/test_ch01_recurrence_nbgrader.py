"""Exercise 1 through real nbgrader: release, autograde, scores, feedback, export.

One temporary course holds every kind of submission; the batch grader of
`make grade` grades them all in one run, and each test reads its scores.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.grading import ch01_recurrence_answers
from tests.grading.notebooks import filled, grade_ids, points, read, released_course, solution_sources

ASSIGNMENT = "ch01_recurrence"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]) -> Path:
    """A course directory with the repository's config and solutions, freshly released."""
    root = tmp_path_factory.mktemp("course")
    released_course(root, repo, tool_env, ASSIGNMENT)
    return root


@pytest.fixture(scope="module")
def source(course: Path) -> nbformat.NotebookNode:
    return read(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def release(course: Path) -> nbformat.NotebookNode:
    return read(course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def submissions(
    source: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> dict[str, nbformat.NotebookNode | str]:
    correct = solution_sources(source)
    result: dict[str, nbformat.NotebookNode | str] = {
        "solution": source,
        "untouched": release,
        "filled": filled(release, correct),
        "alternative": filled(release, ch01_recurrence_answers.ALTERNATIVE),
    }
    for part in grade_ids(source, "solution"):
        result[f"wrong-{part}"] = filled(release, correct | {part: ch01_recurrence_answers.WRONG[part]})
        result[f"cheat-{part}"] = filled(release, correct | {part: ch01_recurrence_answers.CHEAT[part]})
    endless = correct | {"softmax": "def softmax(logits):\n    while True:\n        pass\nsoftmax(None)\n"}
    result["endless-loop"] = filled(release, endless)
    result["not-a-notebook"] = "this is not JSON {"
    return result


@pytest.fixture(scope="module")
def graded(course: Path, source, release, tool_env: dict[str, str]) -> tuple[Path, str]:
    for student, notebook in submissions(source, release).items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        path = folder / f"{ASSIGNMENT}.ipynb"
        if isinstance(notebook, str):
            path.write_text(notebook)
        else:
            nbformat.write(notebook, path)
    run = subprocess.run(
        [sys.executable, "-m", "rnncourse.grading.batch", "--cell-timeout", "2"],
        cwd=course,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    return course, run.stdout + run.stderr


def scores(course: Path, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {grade.name: grade.score for grade in notebook.grades}


def test_release_equals_what_nbgrader_generates_today(repo: Path, release: nbformat.NotebookNode) -> None:
    committed = json.loads((repo / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    assert committed == json.loads(nbformat.writes(release)), "exercises/ is stale: run `make release`"


def test_release_hides_solutions_and_hidden_tests(release: nbformat.NotebookNode) -> None:
    text = nbformat.writes(release)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    stubs = [
        cell
        for cell in release.cells
        if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source
    ]
    assert len(stubs) == len(grade_ids(release, "solution"))


def test_parts_and_points(source: nbformat.NotebookNode) -> None:
    table = points(source)
    assert len(table) >= 4 and sum(table.values()) == 15
    assert all(value > 0 for value in table.values())


def test_solution_earns_full_marks(graded, source) -> None:
    course, log = graded
    assert scores(course, "solution") == points(source), log


def test_filled_release_earns_full_marks(graded, source) -> None:
    course, log = graded
    assert scores(course, "filled") == points(source), log


def test_untouched_release_earns_nothing(graded, source) -> None:
    course, log = graded
    assert sum(scores(course, "untouched").values()) == 0, log


def test_differently_written_solution_earns_full_marks(graded, source) -> None:
    course, log = graded
    assert scores(course, "alternative") == points(source), log


@pytest.mark.parametrize("kind", ["wrong", "cheat"])
def test_one_part_wrong_or_copied_loses_exactly_that_part(graded, source, kind: str) -> None:
    course, log = graded
    full = points(source)
    for part, test in zip(grade_ids(source, "solution"), grade_ids(source, "grade"), strict=True):
        expected = full | {test: 0.0}
        assert scores(course, f"{kind}-{part}") == expected, f"{kind}-{part}\n{log}"


def test_feedback_names_the_likely_mistake(graded) -> None:
    course, log = graded
    feedback = course / "feedback" / "wrong-rnn_cell_forward" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert feedback.exists(), log
    assert "the bias b_h is missing" in feedback.read_text()
    cheat = (course / "feedback" / "cheat-rnn_forward" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "not available while grading" in cheat
    padding = (course / "feedback" / "wrong-classify" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "read the state after the padding" in padding


def test_bad_submissions_do_not_stop_the_others(graded) -> None:
    course, log = graded
    assert "not-a-notebook" in log and "not a valid notebook" in log
    # The endless loop is stopped by the cell timeout and graded like any failure.
    endless = scores(course, "endless-loop")
    assert endless["test_softmax"] == 0 and endless["test_classify"] == 3, log


def test_grades_csv_lists_every_graded_submission(graded, source, release) -> None:
    course, log = graded
    with (course / "grades.csv").open(newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    expected = {name for name, nb in submissions(source, release).items() if not isinstance(nb, str)}
    assert expected <= set(rows), log
    assert rows["solution"] == 15 and rows["untouched"] == 0
