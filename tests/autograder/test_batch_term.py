"""An instructor's term with real nbgrader: a roster, a zip with attempts, a due date, late work, a re-grade.

One course, graded twice with `make grade`'s command:

1. the roster is imported with nbgrader's own ``nbgrader db student import``, the
   due date set in ``nbgrader_config.py`` (``c.Deadlines.due``), and a Blackboard
   zip collected: two attempts by ``ada_lovelace`` (the newer, full marks, comes
   first in the zip), a late ``ada.l``, a broken notebook from ``grace-hopper``,
   one part wrong from ``cy``, nothing from ``di``;
2. ``--student cy`` re-grades one learner after a resubmission, and nobody else.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from rnncourse.autograder import lateness
from tests.grading import ch01_recurrence_answers as answers
from tests.grading.notebooks import filled, points, released_course, solution_sources

pytestmark = pytest.mark.slow
ASSIGNMENT = "ch01_recurrence"
TITLE = "Exercise 1 Recurrence"
DUE = "2026-02-06 17:00:00 UTC"
ROSTER = ["ada_lovelace", "ada.l", "grace-hopper", "cy", "di"]


def member(student: str, when: str) -> str:
    """Blackboard's name for one attempt (Grade Centre, Assignment File Download)."""
    return f"{TITLE}_{student}_attempt_{when}_{ASSIGNMENT}.ipynb"


def grade(course: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rnncourse.autograder.batch", "--jobs", "2", "--cell-timeout", "20", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def sheet(course: Path, name: str = "grades.csv") -> list[dict[str, str]]:
    with (course / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def term(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]):
    course = tmp_path_factory.mktemp("term")
    source, release = released_course(course, repo, tool_env, ASSIGNMENT)
    correct = solution_sources(source)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.Deadlines.due = {{{ASSIGNMENT!r}: {DUE!r}}}\n")
    roster = course / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email\n" + "".join(f"{s},{s.title()},Doe,{s}@uni.test\n" for s in ROSTER)
    )
    imported = subprocess.run(
        [sys.executable, "-m", "nbgrader", "db", "student", "import", str(roster)],
        cwd=course,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stderr
    archive = course / "downloads.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(
            member("ada_lovelace", "2026-02-06-16-59-12"), nbformat.writes(filled(release, correct))
        )
        zipped.writestr(member("ada_lovelace", "2026-02-05-10-00-00"), nbformat.writes(release))
        zipped.writestr(member("ada.l", "2026-02-07-19-00-00"), nbformat.writes(filled(release, correct)))
        zipped.writestr(member("grace-hopper", "2026-02-06-12-00-00"), "{ this is not a notebook")
        wrong = filled(release, correct | {"softmax": answers.WRONG["softmax"]})
        zipped.writestr(member("cy", "2026-02-06-09-30-00"), nbformat.writes(wrong))
    first = grade(course, tool_env, "--zip", str(archive), "--assignment", ASSIGNMENT, "--title", TITLE)
    rows = {row["student_id"]: row for row in sheet(course)}
    parts = sheet(course, "grades_by_part.csv")
    feedback = {s: (course / "feedback" / s / ASSIGNMENT / f"{ASSIGNMENT}.html") for s in ROSTER}
    before = {s: path.stat().st_mtime_ns for s, path in feedback.items() if path.exists()}
    # cy resubmits, right this time; only cy is graded again
    nbformat.write(filled(release, correct), course / "submitted" / "cy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    again = grade(course, tool_env, "--student", "cy", "--assignment", ASSIGNMENT)
    return course, source, first, rows, parts, feedback, before, again


def test_the_newest_attempt_is_graded_and_the_replaced_one_reported(term) -> None:
    _, _, first, rows, *_ = term
    assert rows["ada_lovelace"]["score"] == "15", first.stdout + first.stderr
    replaced = [line for line in first.stderr.splitlines() if line.startswith("zip: replaced:")]
    assert len(replaced) == 1 and "2026-02-05-10-00-00" in replaced[0] and "ada_lovelace" in replaced[0]


def test_the_sheet_has_one_row_per_learner_with_a_status(term) -> None:
    _, source, first, rows, *_ = term
    assert sorted(rows) == sorted(ROSTER), first.stdout
    assert {s: rows[s]["status"] for s in ROSTER} == {
        "ada_lovelace": "graded",
        "ada.l": "graded",
        "grace-hopper": "not graded",
        "cy": "graded",
        "di": "not submitted",
    }
    assert "not a valid notebook" in rows["grace-hopper"]["reason"] and rows["grace-hopper"]["score"] == ""
    assert rows["di"]["score"] == "" and rows["di"]["reason"] == ""
    assert rows["cy"]["score"] == str(15 - int(points(source)["test_softmax"]))
    assert {rows[s]["duedate"][:16] for s in ROSTER} == {"2026-02-06 17:00"}
    assert rows["ada.l"]["email"] == "ada.l@uni.test"


def test_late_work_is_flagged_and_penalised_by_the_configured_policy(term) -> None:
    _, _, first, rows, _, feedback, *_ = term
    late = rows["ada.l"]
    assert float(late["seconds_late"]) == 26 * 3600 and late["late_by"] == "1 day 2 h"
    expected = lateness.penalty(15.0, 26 * 3600, 10.0, 7.0)
    assert expected == 3.0  # two started days at 10% of 15
    assert float(late["late_submission_penalty"]) == expected and float(late["score"]) == 15 - expected
    assert float(late["raw_score"]) == 15
    assert rows["ada_lovelace"]["late_by"] == "" and float(rows["ada_lovelace"]["seconds_late"]) == 0
    line = next(line for line in first.stdout.splitlines() if line.startswith("ada.l "))
    assert "12 / 15" in line and "late by 1 day 2 h (penalty 3)" in line
    assert "Late submission penalty" in feedback["ada.l"].read_text()


def test_a_per_part_sheet_is_written_beside_it(term) -> None:
    _, source, _, _, parts, *_ = term
    full = points(source)
    graded = [row for row in parts if row["student_id"] == "cy"]
    assert [row["grade_id"] for row in graded] == list(full)
    assert {row["grade_id"]: float(row["score"]) for row in graded} == full | {"test_softmax": 0.0}
    assert graded[0]["part"].startswith("Part 1")
    assert {row["student_id"] for row in parts} == {"ada_lovelace", "ada.l", "cy"}


def test_the_terminal_shows_the_bar_and_the_table_and_warnings_go_to_the_log(term) -> None:
    course, _, first, *_ = term
    assert "Warning" not in first.stderr and "WARNING" not in first.stderr, first.stderr
    lines = [line for line in first.stderr.splitlines() if line.strip()]
    # before the bar, on a machine without a memory cgroup: which bound is missing (sandbox.missing_memory_bound)
    allowed = ("grading:", "graded ", "zip: ", "note: the memory bound on all of a sandbox's processes")
    assert all(line.startswith(allowed) or "grading: " in line for line in lines), lines
    assert first.stdout.splitlines()[0].split() == ["student", "assignment", "score", "problem"]
    log = (course / "autograded" / "grade.log").read_text()
    assert "WARNING" in log  # nbgrader's and SQLAlchemy's warnings are there, not on the terminal


def test_feedback_wraps_its_diagnosis_and_shows_no_empty_comment_boxes(term) -> None:
    *_, feedback, _, _ = term
    page = feedback["ada_lovelace"].read_text()
    assert "white-space: pre-wrap" in page
    assert "No response." not in page and "Comments:" not in page


def test_a_regrade_of_one_learner_touches_no_one_else(term) -> None:
    course, _, _, _, _, feedback, before, again = term
    assert again.returncode == 0, again.stdout + again.stderr
    graded_now = [line.split()[0] for line in again.stdout.splitlines()[1:-1]]
    assert graded_now == ["cy"], again.stdout
    rows = {row["student_id"]: row for row in sheet(course)}
    assert rows["cy"]["score"] == "15" and sorted(rows) == sorted(ROSTER)
    assert rows["ada.l"]["score"] == "12" and rows["grace-hopper"]["status"] == "not graded"
    for student, stamp in before.items():
        if student != "cy":
            assert feedback[student].stat().st_mtime_ns == stamp, student
