"""The learner edition (`make learner-edition`) carries no solution line and no grading secret.

It is built by ``tools/learner_edition.py`` from a copy of the course (its tracked files as
they are now) into which an instructor's secrets are planted the ways they could be: the
grading secret file that git ignores, a secret-looking file committed by mistake, a
submission and a gradebook. Then every file of the edition (the repository to push, the
website, and the wheel's contents) is searched for each solution and hidden-test line and
for the planted secrets' text.
"""

from __future__ import annotations

import importlib.util
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.site.leaks import find_leaks, published_text, secret_lines

pytestmark = pytest.mark.slow

spec = importlib.util.spec_from_file_location(
    "learner_edition", Path(__file__).resolve().parents[2] / "tools" / "learner_edition.py"
)
assert spec and spec.loader
learner_edition = importlib.util.module_from_spec(spec)
spec.loader.exec_module(learner_edition)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def planted() -> dict[str, str]:
    """The secret texts planted in the copy, by where they are planted."""
    return {name: secrets.token_hex(32) for name in ("ignored", "committed", "submission", "gradebook")}


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env, planted) -> Path:
    course = tmp_path_factory.mktemp("course")
    for path in learner_edition.tracked_files(repo):
        (course / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / path, course / path)
    # Committed by mistake: a secret-looking file inside a published folder.
    (course / "rnncourse" / "grading" / "course.secret").write_text(planted["committed"])
    git(course, "init", "-q")
    git(course, "add", "-A")
    git(course, "commit", "-q", "-m", "the course")
    # An instructor's working state, never committed (.gitignore) or outside the allow-list.
    (course / ".grading-secret").write_text(planted["ignored"] + "\n")
    (course / "submitted" / "alice" / "ch01_recurrence").mkdir(parents=True)
    (course / "submitted" / "alice" / "ch01_recurrence" / "notes.txt").write_text(planted["submission"])
    (course / "gradebook.db").write_text(planted["gradebook"])
    out = tmp_path_factory.mktemp("learner")
    done = subprocess.run(
        [
            sys.executable,
            str(repo / "tools" / "learner_edition.py"),
            "--source",
            str(course),
            "--out",
            str(out),
        ],
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # The wheel's files, unpacked beside the rest, are searched like any other file.
    (wheel,) = (out / "dist").glob("rnncourse-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(out / "wheel-contents")
    return out


def test_the_edition_has_the_site_the_exercises_and_the_package(edition: Path) -> None:
    repository = edition / "repository"
    assert (repository / "exercises/ch01_recurrence/ch01_recurrence.ipynb").is_file()
    assert (repository / "book/ch01_recurrence.ipynb").is_file()
    assert (repository / "rnncourse/grading/ch01_recurrence.py").is_file()
    assert (edition / "site/exercises/ch01_recurrence/ch01_recurrence.html").is_file()
    assert (edition / "wheel-contents/rnncourse/grading/ch01_recurrence.py").is_file()
    assert list((edition / "wheel-contents/rnncourse/results").glob("*.json")), "the stored results"


def test_no_solution_source_test_or_instructor_file_is_published(edition: Path) -> None:
    published = [
        p.relative_to(edition / "repository").as_posix() for p in (edition / "repository").rglob("*")
    ]
    assert not [
        p for p in published if p.split("/")[0] in ("solutions", "tests", "bench", ".ci", "submitted")
    ]
    assert "nbgrader_config.py" not in published and "gradebook.db" not in published
    assert not [p for p in published if "secret" in p.lower()]


def test_no_solution_or_hidden_test_line_reaches_the_edition(edition: Path, repo: Path) -> None:
    lines: set[str] = set()
    for notebook in sorted((repo / "solutions").glob("*/*.ipynb")):
        lines |= secret_lines(notebook)
    public = published_text(repo)
    lines -= {line for line in lines if line in public}
    assert len(lines) > 20, "the search found too few solution lines to be meaningful"
    assert find_leaks(edition, lines) == {}


def test_no_planted_secret_reaches_the_edition(edition: Path, planted: dict[str, str]) -> None:
    found = {
        f"{name} in {path.relative_to(edition)}"
        for path in edition.rglob("*")
        if path.is_file()
        for name, text in planted.items()
        if text.encode() in path.read_bytes()
    }
    assert found == set()


@pytest.mark.parametrize(
    ("path", "published"),
    [
        ("book/ch01_recurrence.ipynb", True),
        ("exercises/ch01_recurrence/ch01_recurrence.ipynb", True),
        ("rnncourse/grading/core.py", True),
        ("solutions/ch01_recurrence/ch01_recurrence.ipynb", False),
        ("tests/grading/ch01_recurrence_answers.py", False),
        (".grading-secret", False),
        ("rnncourse/autograder/grading.secret", False),
        ("rnncourse/keys/instructor.key", False),
        ("gradebook.db", False),
        ("nbgrader_config.py", False),
        ("new_folder/notes.md", False),  # an allow-list: what is not named stays private
    ],
)
def test_the_publishing_rule(path: str, published: bool) -> None:
    assert learner_edition.is_published(path) is published
