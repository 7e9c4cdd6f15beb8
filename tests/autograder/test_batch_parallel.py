"""`make grade` on a zip of a class, with one process and with two: the same grades either way."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from rnncourse.autograder import sandbox
from rnncourse.autograder.batch import grade_in_workers
from rnncourse.autograder.record import with_lock_wait
from rnncourse.autograder.submission import Graded, Outcome, Setup, Task
from tests.grading import ch01_recurrence_answers
from tests.grading.notebooks import filled, released_course, solution_sources

ASSIGNMENT = "ch01_recurrence"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////srv/gradebook.db", "sqlite:////srv/gradebook.db?timeout=120"),
        ("sqlite:////srv/gradebook.db?timeout=5", "sqlite:////srv/gradebook.db?timeout=5"),
        ("postgresql://grader@db/course", "postgresql://grader@db/course"),
    ],
)
def test_sqlite_connections_wait_for_the_other_processes_lock(url: str, expected: str) -> None:
    assert with_lock_wait(url) == expected


def dies_on_bo(task: Task, setup: Setup) -> Graded:
    """A worker's work that kills its process on one submission, as a crash in nbgrader would."""
    if task.student == "bo":
        os._exit(3)
    time.sleep(0.2)  # still running, or waiting, when bo's worker dies
    return Graded(Outcome(task.student, task.assignment, graded=True, problems=[f"graded in {os.getpid()}"]))


@pytest.mark.parametrize("workers", [2, 3])
def test_a_worker_that_dies_takes_no_other_grade_with_it(tmp_path: Path, workers: int) -> None:
    setup = Setup(Config(), "sqlite://", sandbox.Limits(), tmp_path)
    students = ["bo", "ada", "cy", "di", "ed", "fa"]
    tasks = [Task(s, ASSIGNMENT, f"{ASSIGNMENT}.ipynb", b"{}") for s in students]
    outcomes = {g.outcome.student: g.outcome for g in grade_in_workers(setup, tasks, workers, dies_on_bo)}
    assert sorted(outcomes) == sorted(students)
    assert [s for s in students if outcomes[s].graded] == ["ada", "cy", "di", "ed", "fa"]
    assert not outcomes["bo"].graded
    assert outcomes["bo"].problem.startswith("grading crashed (BrokenProcessPool"), outcomes["bo"].problem
    # graded in worker processes, not in the grader's own
    assert all(f"graded in {os.getpid()}" not in outcomes[s].problem for s in students)


def grade(course: Path, archive: Path, jobs: int, env: dict[str, str]) -> tuple[dict[str, float], str]:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnncourse.autograder.batch",
            "--zip",
            str(archive),
            "--assignment",
            ASSIGNMENT,
        ]
        + ["--jobs", str(jobs), "--cell-timeout", "20"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    with (course / "grades.csv").open(newline="") as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}, run.stderr


@pytest.mark.slow
def test_a_zipped_class_gets_the_same_grades_from_one_process_and_from_two(
    tmp_path: Path, repo: Path, tool_env: dict[str, str]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    source, release = released_course(one, repo, tool_env, ASSIGNMENT)
    released_course(two, repo, tool_env, ASSIGNMENT)
    correct = solution_sources(source)
    wrong = ch01_recurrence_answers.WRONG
    notebooks = {
        "ada": filled(release, correct),
        "bo": release,
        "cy": filled(release, correct | {"softmax": wrong["softmax"]}),
        "di": filled(release, correct | {"classify": wrong["classify"], "rnn_forward": wrong["rnn_forward"]}),
        "ed": filled(release, ch01_recurrence_answers.ALTERNATIVE),
    }
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for student, notebook in notebooks.items():
            name = f"{ASSIGNMENT}_{student}_attempt_2026-11-20-09-00-00_{ASSIGNMENT}.ipynb"
            zipped.writestr(name, nbformat.writes(notebook))
    by_one, log_one = grade(one, archive, 1, tool_env)
    by_two, log_two = grade(two, archive, 2, tool_env)
    assert set(by_one) == set(notebooks), log_one
    assert by_one == by_two, log_two
    assert by_one["ada"] == by_one["ed"] == 15 and by_one["bo"] == 0, log_one
    assert by_one["di"] < by_one["cy"] < 15, log_one
    for student in notebooks:
        assert (two / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file(), log_two

    # `make feedback` and `make export` write both again from the gradebook alone.
    shutil.rmtree(two / "feedback")
    (two / "grades.csv").unlink()
    bin_dir = Path(sys.executable).parent
    make = subprocess.run(
        [
            "make",
            "-f",
            str(repo / "Makefile"),
            "feedback",
            "export",
            "STAMP=",
            "GRADE_STAMP=",
            f"BIN={bin_dir}",
        ],
        cwd=two,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert make.returncode == 0, make.stdout + make.stderr
    for student in notebooks:
        page = (two / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert "mathjax/tex-svg-full.js" in page and "/tmp/" not in page
    assert (two / "feedback" / "mathjax" / "tex-svg-full.js").is_file()
    with (two / "grades.csv").open(newline="") as handle:
        assert {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)} == by_one
    shutil.rmtree(tmp_path)
