"""The hostile corpus through `make grade` (``python -m rnncourse.autograder.batch``), in one run.

A reference class (solution, untouched release, a differently written
solution, one wrong part) is graded twice: alone, and together with every
case of ``corpus.CORPUS``. For each case: the batch finishes, the reference
grades are exactly the same in both runs, the case earns exactly the points
its own code earns (``Hostile.expected``), and its feedback says what
happened. Then the gradebook is tampered with and a second run restores it
from the submissions alone.
"""

from __future__ import annotations

import csv
import hashlib
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.autograder.hostile.corpus import CORPUS, POINTS, Context, Hostile
from tests.grading import ch01_recurrence_answers
from tests.grading.notebooks import filled, released_course, solution_sources

ASSIGNMENT = "ch01_recurrence"
pytestmark = pytest.mark.slow
BY_NAME = {case.name: case for case in CORPUS}


class Listener:
    """A TCP server on the host's loopback that records whatever reaches it."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.received += connection.recv(1024) or b"(connected)"
                except OSError:
                    self.received += b"(connected)"

    def stop(self) -> None:
        self.stopped = True
        self.thread.join()
        self.server.close()


def references(
    source: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> dict[str, nbformat.NotebookNode]:
    correct = solution_sources(source)
    return {
        "ref-solution": source,
        "ref-untouched": release,
        "ref-alternative": filled(release, ch01_recurrence_answers.ALTERNATIVE),
        "ref-wrong-cell": filled(
            release, correct | {"rnn_cell_forward": ch01_recurrence_answers.WRONG["rnn_cell_forward"]}
        ),
    }


def submit(root: Path, student: str, notebook: nbformat.NotebookNode | str, filename: str) -> None:
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    if isinstance(notebook, str):
        (folder / filename).write_text(notebook)
    else:
        nbformat.write(notebook, folder / filename)


def grade(root: Path, tool_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rnncourse.autograder.batch", "--cell-timeout", "2", "--jobs", "2"],
        cwd=root,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def scores(root: Path) -> dict[str, dict[str, float]]:
    result = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student in gradebook.students:
            try:
                notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student.id)
            except Exception:
                continue
            result[student.id] = {g.name: float(g.score) for g in notebook.grades}
    return result


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def alone(
    tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]
) -> dict[str, dict[str, float]]:
    root = tmp_path_factory.mktemp("reference")
    source, release = released_course(root, repo, tool_env, ASSIGNMENT)
    for student, notebook in references(source, release).items():
        submit(root, student, notebook, f"{ASSIGNMENT}.ipynb")
    run = grade(root, tool_env)
    assert run.returncode == 0, run.stdout + run.stderr
    return scores(root)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]):
    root = tmp_path_factory.mktemp("hostile")
    source, release = released_course(root, repo, tool_env, ASSIGNMENT)
    listener = Listener()
    context = Context(release, solution_sources(source), root, repo, listener.port)
    for student, notebook in references(source, release).items():
        submit(root, student, notebook, f"{ASSIGNMENT}.ipynb")
    for case in CORPUS:
        submit(root, case.name, case.build(context), case.filename)
    before = {
        "package": fingerprint(repo / "rnncourse"),
        "solutions": fingerprint(root / "solutions"),
        "submitted": fingerprint(root / "submitted"),
    }
    run = grade(root, tool_env)
    listener.stop()
    after = {
        "package": fingerprint(repo / "rnncourse"),
        "solutions": fingerprint(root / "solutions"),
        "submitted": fingerprint(root / "submitted"),
    }
    return root, run, scores(root), before, after, listener.received


def feedback(root: Path, student: str) -> str:
    return (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_the_batch_finishes_and_reports_every_submission(graded) -> None:
    _, run, *_ = graded
    log = run.stdout + run.stderr
    assert "Traceback" not in run.stdout, log
    for case in CORPUS:
        assert case.name in run.stdout, log
    # exactly the notebook that cannot be read is not graded
    not_graded = [line.split()[0] for line in run.stdout.splitlines() if "not graded" in line]
    assert not_graded == ["invalid-json"], log
    assert run.returncode == 1


def test_classmates_get_exactly_the_grades_they_get_alone(graded, alone) -> None:
    _, run, found, *_ = graded
    assert {student: found[student] for student in alone} == alone, run.stdout
    assert sum(alone["ref-solution"].values()) == 15 and sum(alone["ref-untouched"].values()) == 0


@pytest.mark.parametrize("name", [case.name for case in CORPUS])
def test_a_hostile_submission_earns_exactly_what_its_code_earns(graded, name: str) -> None:
    _, run, found, *_ = graded
    case: Hostile = BY_NAME[name]
    if case.expected is None:
        assert name not in found or not any(found[name].values()), run.stdout
    else:
        assert set(case.expected) == set(POINTS)
        assert found[name] == case.expected, f"{name}\n{run.stdout}\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("name", [case.name for case in CORPUS])
def test_its_feedback_says_what_happened(graded, name: str) -> None:
    root, run, *_ = graded
    case = BY_NAME[name]
    if case.expected is not None:
        assert "BREACH" not in feedback(root, name)
    if case.reported:
        text = next(line for line in run.stdout.splitlines() if line.startswith(name + " "))
    else:
        text = feedback(root, name)
    for phrase in case.says:
        assert phrase in text, f"{name}: {phrase!r} missing"


def test_no_feedback_shows_hidden_tests_paths_or_a_cdn(graded, repo: Path) -> None:
    root, *_ = graded
    pages = sorted((root / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert len(pages) == len(CORPUS) - 1 + 4
    private = [str(root), str(repo), str(Path.home()), sys.prefix]
    for page in pages:
        text = page.read_text()
        student = page.parent.parent.name
        # a path the learner typed into their own code may show in their own feedback
        typed = "".join(p.read_text() for p in (root / "submitted" / student).rglob("*.ipynb"))
        assert "BEGIN HIDDEN TESTS" not in text and "seed=8127" not in text, page
        assert "# hidden tests: " in text, page
        # every test cell, in the table of contents too, is called by its part
        assert ">Test cell<" not in text and "Grade cell:" not in text, page
        assert '">Part 3: one step of the recurrence</a>' in text, page
        assert not any(path in text for path in private if len(path) > 1 and path not in typed), page
        assert '<script src="http' not in text and "cdnjs" not in text, page
        assert '<script src="../../mathjax/tex-svg-full.js">' in text, page
    assert (root / "feedback" / "mathjax" / "tex-svg-full.js").stat().st_size > 100_000


def test_the_course_and_the_package_are_unchanged(graded) -> None:
    root, run, _, before, after, _ = graded
    assert after == before, run.stdout
    assert not (root / "hostile-marker").exists() and not Path("/hostile-marker").exists()
    assert not list(Path("/tmp").glob("hostile-marker-*"))


def test_nothing_reached_the_hosts_loopback(graded) -> None:
    *_, received = graded
    assert received == b""


def test_grading_again_restores_a_tampered_gradebook(graded, tool_env: dict[str, str]) -> None:
    root, _, found, *_ = graded
    database = sqlite3.connect(root / "gradebook.db")
    with database:
        database.execute("UPDATE grade SET auto_score = 0, manual_score = NULL")
    database.close()
    assert not any(sum(s.values()) for s in scores(root).values())
    again = grade(root, tool_env)
    assert scores(root) == found, again.stdout
    # the second run ran no sandbox: every result came from the cache (one case is not a notebook)
    submissions = len(CORPUS) + 4
    expected = f"graded {submissions} submissions ({submissions - 1} sandbox results from the cache)"
    assert expected in again.stderr, again.stderr
    with (root / "grades.csv").open(newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle) if row["score"]}
    assert rows["ref-solution"] == 15
