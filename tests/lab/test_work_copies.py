"""`make lab`'s working copies: made once in work/, never overwritten, chapters refreshed unless edited."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def make_copies(course: Path) -> str:
    done = subprocess.run(["make", "-s", "work-copies"], cwd=course, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_work_copies_are_made_once_and_kept(tmp_path: Path, repo: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(repo / "Makefile", course)
    (course / "exercises" / "ex1").mkdir(parents=True)
    (course / "exercises" / "ex1" / "ex1.ipynb").write_text("release 1")
    (course / "book").mkdir()
    (course / "book" / "ch1.ipynb").write_text("chapter 1")
    (course / "book" / "ch2.ipynb").write_text("chapter 2")

    make_copies(course)
    work = course / "work"
    assert (work / "exercises" / "ex1" / "ex1.ipynb").read_text() == "release 1"
    assert (work / "book" / "ch1.ipynb").read_text() == "chapter 1"

    # The learner works; the course moves on (a new release, new chapters, a new exercise).
    (work / "exercises" / "ex1" / "ex1.ipynb").write_text("my answers")
    (work / "book" / "ch1.ipynb").write_text("my notes")
    (course / "exercises" / "ex1" / "ex1.ipynb").write_text("release 2")
    (course / "book" / "ch1.ipynb").write_text("chapter 1, revised")
    (course / "book" / "ch2.ipynb").write_text("chapter 2, revised")
    (course / "exercises" / "ex2").mkdir()
    (course / "exercises" / "ex2" / "ex2.ipynb").write_text("exercise 2")

    said = make_copies(course)
    assert (work / "exercises" / "ex1" / "ex1.ipynb").read_text() == "my answers"
    assert (work / "exercises" / "ex2" / "ex2.ipynb").read_text() == "exercise 2"
    assert (work / "book" / "ch1.ipynb").read_text() == "my notes"
    assert "work/book/ch1.ipynb" in said
    assert (work / "book" / "ch2.ipynb").read_text() == "chapter 2, revised"


def test_the_working_copies_are_not_tracked(repo: Path) -> None:
    """git ignores a learner's copies, and only those: a folder named work elsewhere is tracked."""
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "work/exercises/ch01_recurrence/ch01_recurrence.ipynb"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert ignored.returncode == 0, "work/ is not ignored by .gitignore"
    elsewhere = subprocess.run(
        ["git", "check-ignore", "--no-index", "rnncourse/work/module.py"], cwd=repo, capture_output=True
    )
    assert elsewhere.returncode == 1, ".gitignore ignores folders named work outside the root"


def test_make_lab_serves_work_with_the_learners_config(repo: Path) -> None:
    done = subprocess.run(["make", "-n", "lab"], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lab = [line for line in done.stdout.splitlines() if "jupyter lab" in line]
    assert lab and f"JUPYTER_CONFIG_PATH={repo / 'jupyter'}" in lab[-1] and "--notebook-dir=work" in lab[-1]
