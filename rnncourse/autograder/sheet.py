"""The grade sheets: ``grades.csv`` (one row per learner and assignment) and ``grades_by_part.csv``.

Both are read from nbgrader's gradebook (its ``Gradebook`` API), so they hold
every learner it knows: the roster imported with ``nbgrader db student import
roster.csv`` and everyone who submitted. ``grades.csv`` has nbgrader's own
export columns (``nbgrader export``) and four more:

- ``status``: ``graded``, ``not graded`` or ``not submitted``;
- ``seconds_late`` and ``late_by`` ("2 h 05 min"): past the assignment's due
  date (``c.Deadlines.due``), extensions included; the penalty nbgrader applied
  is ``late_submission_penalty`` and ``score`` is after it;
- ``reason``: why a submission was not graded (the notebook is not valid JSON,
  the sandbox could not start, ...), in the words of ``make grade``'s table.

Why a submission was not graded is kept beside the autograded notebooks, in
``autograded/.outcomes/<student>/<assignment>.json``, written by ``make grade``.
``grades_by_part.csv`` has one row per graded submission and part: the part's
title, its score and its points.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry

from rnncourse.autograder import autograde, lateness

OUTCOMES = Path("autograded") / ".outcomes"
COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "status",
    "seconds_late",
    "late_by",
    "reason",
]
PART_COLUMNS = ["assignment", "student_id", "grade_id", "part", "score", "max_score"]


def outcome_path(root: Path, student: str, assignment: str) -> Path:
    return root / OUTCOMES / student / f"{assignment}.json"


def save_outcome(root: Path, student: str, assignment: str, graded: bool, problems: list[str]) -> None:
    path = outcome_path(root, student, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"graded": graded, "problems": problems}))


def _outcome(root: Path, student: str, assignment: str) -> dict[str, Any] | None:
    path = outcome_path(root, student, assignment)
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _number(value: float | None) -> str:
    return "" if value is None else f"{float(value):g}"


def rows(root: Path, db_url: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The rows of ``grades.csv`` and of ``grades_by_part.csv``, from the gradebook."""
    sheet, by_part = [], []
    with Gradebook(db_url) as gradebook:
        students = sorted(gradebook.students, key=lambda s: s.id)
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            titles = {part.grade_id: part.title for part in autograde.chapter_parts(assignment.name)}
            order = {grade_id: index for index, grade_id in enumerate(titles)}
            for student in students:
                row = {
                    "assignment": assignment.name,
                    "duedate": "" if assignment.duedate is None else str(assignment.duedate),
                    "student_id": student.id,
                    "last_name": student.last_name or "",
                    "first_name": student.first_name or "",
                    "email": student.email or "",
                    "max_score": _number(assignment.max_score),
                }
                outcome = _outcome(root, student.id, assignment.name)
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    submission = None
                if outcome is not None and not outcome.get("graded"):
                    problems = [p for p in outcome.get("problems", []) if p != "not graded"]
                    row |= {"status": "not graded", "reason": " ".join(problems)}
                elif submission is None:
                    row |= {"status": "not submitted"}
                else:
                    late = float(submission.total_seconds_late)
                    penalty = sum(n.late_submission_penalty or 0.0 for n in submission.notebooks)
                    row |= {
                        "timestamp": "" if submission.timestamp is None else str(submission.timestamp),
                        "raw_score": _number(submission.score),
                        "late_submission_penalty": _number(penalty),
                        "score": _number(submission.score - penalty),
                        "status": "graded",
                        "seconds_late": _number(late),
                        "late_by": lateness.late_by(late) if late > 0 else "",
                    }
                    for notebook in submission.notebooks:
                        for grade in sorted(
                            notebook.grades, key=lambda g: (order.get(g.name, len(order)), g.name)
                        ):
                            by_part.append(
                                {
                                    "assignment": assignment.name,
                                    "student_id": student.id,
                                    "grade_id": grade.name,
                                    "part": titles.get(grade.name, grade.name),
                                    "score": _number(grade.score),
                                    "max_score": _number(grade.max_score),
                                }
                            )
                sheet.append({column: row.get(column, "") for column in COLUMNS})
    return sheet, by_part


def export(root: Path, db_url: str, path: Path, parts_path: Path) -> None:
    """Write ``grades.csv`` to ``path`` and the per-part sheet to ``parts_path``."""
    sheet, by_part = rows(root, db_url)
    for target, columns, table in ((path, COLUMNS, sheet), (parts_path, PART_COLUMNS, by_part)):
        with target.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(table)
