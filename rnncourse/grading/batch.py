"""Autograde every submission, one at a time, so that no submission can stop the others.

``make grade`` runs ``python -m rnncourse.grading.batch`` from the course root:

1. for every assignment in ``solutions/``, ``nbgrader generate_assignment``
   records its test cells in the gradebook (and rewrites ``exercises/``
   exactly as ``make release`` does);
2. for every ``submitted/<student>/<assignment>/``, ``nbgrader autograde``
   runs in its own process, with a time limit per cell (nbgrader's) and per
   submission (ours); a submission that is not a notebook, hangs or crashes
   the kernel is reported and skipped;
3. ``nbgrader generate_feedback`` writes HTML feedback per student, and
   ``nbgrader export`` writes ``grades.csv``;
4. a table of every submission's score, and of every problem, is printed.
The exit status is 0 when every submission was graded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    student: str
    assignment: str
    graded: bool
    problem: str = ""


def _nbgrader(
    args: list[str], root: Path, timeout: float, extra: list[str]
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "nbgrader", *args, *extra]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)


def _last_error(log: str) -> str:
    """The last line of nbgrader's log that reports an error (or its last line)."""
    lines = log.strip().splitlines()
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    if errors:
        return errors[-1].strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"


def _looks_like_notebook(folder: Path) -> str:
    """Empty if every .ipynb in ``folder`` is JSON with cells, else what is wrong."""
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        return f"no .ipynb file in {folder}"
    for notebook in notebooks:
        try:
            content = json.loads(notebook.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return f"{notebook.name} is not a valid notebook (not JSON: {error}); ask the learner to re-download and resubmit it"
        if not isinstance(content, dict) or "cells" not in content:
            return f"{notebook.name} is not a valid notebook (no cells)"
    return ""


def grade_all(root: Path, cell_timeout: int, submission_timeout: float) -> list[Outcome]:
    """Grade every submission under ``root/submitted``; see the module docstring."""
    extra = [f"--Execute.timeout={cell_timeout}"]
    assignments = sorted(
        p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    submitted = root / "submitted"
    outcomes: list[Outcome] = []
    for assignment in assignments:
        result = _nbgrader(["generate_assignment", assignment, "--force"], root, 600, [])
        if result.returncode != 0:
            raise SystemExit(f"nbgrader could not register {assignment}:\n{result.stderr[-2000:]}")
        students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
        problems = {s: _looks_like_notebook(submitted / s / assignment) for s in students}
        valid = [s for s in students if not problems[s]]
        # One nbgrader process grades all valid submissions: nbgrader runs each
        # notebook in its own kernel and carries on past a failing one. Any
        # submission it could not grade is then retried alone, for its message.
        for student in valid:  # a stale result must not pass for a new one
            shutil.rmtree(root / "autograded" / student / assignment, ignore_errors=True)
        if valid:
            excluded = [s for s in students if problems[s]]
            # whatever is not graded in time is retried alone below
            with contextlib.suppress(subprocess.TimeoutExpired):
                _nbgrader(
                    [
                        "autograde",
                        assignment,
                        "--force",
                        f"--CourseDirectory.student_id_exclude={','.join(excluded)}",
                    ],
                    root,
                    submission_timeout * len(valid),
                    extra,
                )
        for student in students:
            if problems[student]:
                outcomes.append(Outcome(student, assignment, False, problems[student]))
                continue
            if not _graded(root, assignment, student):
                try:
                    result = _nbgrader(
                        ["autograde", assignment, "--student", student, "--force"],
                        root,
                        submission_timeout,
                        extra,
                    )
                except subprocess.TimeoutExpired:
                    outcomes.append(
                        Outcome(student, assignment, False, f"took longer than {submission_timeout:.0f} s")
                    )
                    continue
                if result.returncode != 0 or not _graded(root, assignment, student):
                    outcomes.append(Outcome(student, assignment, False, _last_error(result.stderr)))
                    continue
            outcomes.append(Outcome(student, assignment, True))
        feedback = _nbgrader(["generate_feedback", assignment, "--force"], root, 600, [])
        if feedback.returncode != 0:
            for outcome in outcomes:
                if (
                    outcome.assignment == assignment
                    and outcome.graded
                    and not (root / "feedback" / outcome.student / assignment).is_dir()
                ):
                    outcome.problem = "graded, but no feedback: " + _last_error(feedback.stderr)
    export = _nbgrader(["export", "--to", "grades.csv"], root, 600, [])
    if export.returncode != 0:
        raise SystemExit(f"nbgrader export failed:\n{export.stderr[-2000:]}")
    return outcomes


def _graded(root: Path, assignment: str, student: str) -> bool:
    """Whether nbgrader wrote an autograded copy of every notebook of this submission."""
    submitted = {p.name for p in (root / "submitted" / student / assignment).glob("*.ipynb")}
    autograded = {p.name for p in (root / "autograded" / student / assignment).glob("*.ipynb")}
    return bool(submitted) and submitted <= autograded


def _report(root: Path, outcomes: list[Outcome]) -> str:
    scores = {}
    grades = root / "grades.csv"
    if grades.exists():
        with grades.open(newline="") as handle:
            for row in csv.DictReader(handle):
                scores[(row["student_id"], row["assignment"])] = (
                    f"{float(row['score']):g} / {float(row['max_score']):g}"
                )
    lines = [f"{'student':<24} {'assignment':<20} {'score':>10}  problem"]
    for o in outcomes:
        score = scores.get((o.student, o.assignment), "-") if o.graded else "not graded"
        lines.append(f"{o.student:<24} {o.assignment:<20} {score:>10}  {o.problem}")
    graded = sum(o.graded for o in outcomes)
    lines.append(
        f"{graded} of {len(outcomes)} submissions graded; grades in grades.csv, feedback in feedback/."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="course root (holds nbgrader_config.py)"
    )
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds a cell may run")
    parser.add_argument(
        "--submission-timeout", type=float, default=1200, help="seconds one submission may take"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "nbgrader_config.py").exists():
        parser.error(f"{root} has no nbgrader_config.py: run this from the course root")
    if not (root / "submitted").is_dir():
        parser.error(f"nothing to grade: put submissions in {root / 'submitted'}/<student>/<assignment>/")
    outcomes = grade_all(root, args.cell_timeout, args.submission_timeout)
    print(_report(root, outcomes))
    return 0 if all(o.graded for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
