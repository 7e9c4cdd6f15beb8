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

import copy
import csv
import hashlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbgrader.api import Gradebook

from rnncourse.grading import ch01_recurrence as check
from rnncourse.grading.core import GradingFailure
from rnncourse.grading.parts import HiddenKey, plain, run_part_in_process
from tests.autograder.hostile.corpus import CORPUS, NOTHING, POINTS, Context, Fifo, Hostile, Link
from tests.grading import ch01_recurrence_answers
from tests.grading.exercise_proof import feedback_text
from tests.grading.notebooks import filled, released_course, solution_sources
from tests.grading.test_parts_hidden import GUESSES

ASSIGNMENT = "ch01_recurrence"
pytestmark = pytest.mark.slow

TABLE_HELPER = r"""
import base64, hashlib, io, json
import numpy as np

def _canon(value, out):
    if isinstance(value, np.ndarray):
        out.append(f"a{value.dtype.str}{value.shape}".encode() + np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        out.append(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _canon(item, out)
    elif isinstance(value, dict):
        out.append(f"d{len(value)}".encode())
        for key in value:
            out.append(repr(key).encode())
            _canon(value[key], out)
    else:
        out.append(f"{type(value).__name__}{value!r}".encode())

def table_key(args):
    out = []
    _canon(args, out)
    return hashlib.sha256(b"|".join(out)).hexdigest()

def _pack(value, arrays):
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"array": len(arrays) - 1}
    if isinstance(value, tuple):
        return {"tuple": [_pack(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_pack(v, arrays) for v in value]
    if isinstance(value, dict):
        return {"dict": {k: _pack(v, arrays) for k, v in value.items()}}
    return value

def _unpack(value, arrays):
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    if isinstance(value, dict):
        if "array" in value:
            return arrays[value["array"]]
        if "tuple" in value:
            return tuple(_unpack(v, arrays) for v in value["tuple"])
        return {k: _unpack(v, arrays) for k, v in value["dict"].items()}
    return value

def pack_table(table):
    arrays = []
    structure = {key: _pack(value, arrays) for key, value in table.items()}
    buffer = io.BytesIO()
    np.savez(buffer, *arrays)
    return json.dumps(structure), base64.b64encode(buffer.getvalue()).decode()

def unpack_table(structure, npz):
    stored = np.load(io.BytesIO(base64.b64decode(npz)))
    arrays = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    return {key: _unpack(value, arrays) for key, value in json.loads(structure).items()}
"""


def tabulated(context: Context) -> nbformat.NotebookNode:
    """Issue 18, item 4: answers computed in advance from the public package, looked up by their inputs.

    The course's solutions run on every case anyone could compute: the visible
    ones, and the hidden ones drawn with secrets one could guess. The course
    that grades it has its own secret, so every part meets inputs no table has.
    """
    helper: dict[str, Any] = {}
    exec(TABLE_HELPER, helper)
    namespace: dict[str, Any] = {"np": np}
    for source in context.correct.values():
        exec(source, namespace)
    guessed = [HiddenKey(secret.ljust(16, b"\0"), ASSIGNMENT) for secret in GUESSES]
    table = {}
    for part in check.PARTS:
        for case in part.visible() + [case for key in guessed for case in part.hidden_cases(key)]:
            with np.errstate(all="ignore"):
                value = plain(namespace[part.function](*copy.deepcopy(case.args)))
            table[f"{part.function}:{helper['table_key'](case.args)}"] = value
    structure, npz = helper["pack_table"](table)
    answers = {
        function: f"def {function}(*args):\n    return TABLE.get('{function}:' + table_key(args))\n"
        for function in context.correct
    }
    first = next(iter(answers))
    answers[first] = TABLE_HELPER + f"\nTABLE = unpack_table({structure!r}, {npz!r})\n\n" + answers[first]
    return filled(context.release, answers)


CLASS = [*CORPUS, Hostile("tabulated", tabulated, NOTHING, ["Hidden check"])]
BY_NAME = {case.name: case for case in CLASS}
NOT_GRADED = sorted(case.name for case in CLASS if case.expected is None)


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


def submit(
    root: Path, student: str, notebook: nbformat.NotebookNode | str | Link | Fifo, filename: str
) -> None:
    folder = root / "submitted" / student / ASSIGNMENT
    if isinstance(notebook, Link) and notebook.folder:
        folder.parent.mkdir(parents=True)
        folder.symlink_to(notebook.target, target_is_directory=True)
        return
    folder.mkdir(parents=True)
    if isinstance(notebook, Link):
        (folder / filename).symlink_to(notebook.target)
    elif isinstance(notebook, Fifo):
        os.mkfifo(folder / filename)
    elif isinstance(notebook, str):
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
    for case in CLASS:
        submit(root, case.name, case.build(context), case.filename)
    # The course is a git repository: grading must leave every tracked file as it was (item 7).
    shutil.copy(repo / ".gitignore", root / ".gitignore")
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.org"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the course"]):
        subprocess.run([*git, *command], cwd=root, check=True, capture_output=True)
    tracked = {
        path: (path.stat().st_mtime_ns, path.stat().st_ino) for path in (root / "exercises").rglob("*.ipynb")
    }
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
    untouched = {path: (path.stat().st_mtime_ns, path.stat().st_ino) for path in tracked} == tracked
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    return root, run, scores(root), before, after, listener.received, (untouched, status)


def feedback(root: Path, student: str) -> str:
    return (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_the_batch_finishes_and_reports_every_submission(graded) -> None:
    _, run, *_ = graded
    log = run.stdout + run.stderr
    assert "Traceback" not in run.stdout, log
    for case in CLASS:
        assert case.name in run.stdout, log
    # exactly the notebooks that cannot be read, or are not regular files, are not graded
    not_graded = sorted(line.split()[0] for line in run.stdout.splitlines() if " not graded " in f" {line} ")
    assert not_graded == NOT_GRADED, log
    assert run.returncode == 1


def test_classmates_get_exactly_the_grades_they_get_alone(graded, alone) -> None:
    _, run, found, *_ = graded
    assert {student: found[student] for student in alone} == alone, run.stdout
    assert sum(alone["ref-solution"].values()) == 15 and sum(alone["ref-untouched"].values()) == 0


@pytest.mark.parametrize("name", [case.name for case in CLASS])
def test_a_hostile_submission_earns_exactly_what_its_code_earns(graded, name: str) -> None:
    _, run, found, *_ = graded
    case: Hostile = BY_NAME[name]
    if case.expected is None:
        assert name not in found or not any(found[name].values()), run.stdout
    else:
        assert set(case.expected) == set(POINTS)
        assert found[name] == case.expected, f"{name}\n{run.stdout}\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("name", [case.name for case in CLASS])
def test_its_feedback_says_what_happened(graded, name: str) -> None:
    root, run, *_ = graded
    case = BY_NAME[name]
    if case.expected is not None:
        assert "BREACH" not in feedback(root, name)
    if case.reported:
        text = next(line for line in run.stdout.splitlines() if line.startswith(name + " "))
    else:
        text = feedback_text(root, ASSIGNMENT, name)
    for phrase in case.says:
        assert phrase in text, f"{name}: {phrase!r} missing"


def test_no_feedback_shows_hidden_tests_paths_or_a_cdn(graded, repo: Path) -> None:
    root, *_ = graded
    pages = sorted((root / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert len(pages) == len(CLASS) - len(NOT_GRADED) + 4
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
    root, run, _, before, after, *_ = graded
    assert after == before, run.stdout
    assert not (root / "hostile-marker").exists() and not Path("/hostile-marker").exists()
    assert not list(Path("/tmp").glob("hostile-marker-*"))


def test_nothing_reached_the_hosts_loopback(graded) -> None:
    *_, received, _ = graded
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
    # the second run ran no sandbox: every result came from the cache (some cases are not notebooks)
    submissions = len(CLASS) + 4
    expected = (
        f"graded {submissions} submissions ({submissions - len(NOT_GRADED)} sandbox results from the cache)"
    )
    assert expected in again.stderr, again.stderr
    with (root / "grades.csv").open(newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle) if row["score"]}
    assert rows["ref-solution"] == 15


# -- issue 18 ----------------------------------------------------------------------------------

LIVE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
LIVE_HANDLER = re.compile(r"<[a-z][^<>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_feedback_runs_no_script_but_its_own_and_shows_no_forged_line(graded) -> None:
    """Item 2: forged records are refused or kept as text; the learner's HTML is escaped, never run."""
    root, *_ = graded
    text = feedback(root, "forged-records")
    assert "forged" in text and "My notes" in text  # the learner's own print and markdown are there
    for marker in ("FORGED-PASS", "FORGED-HTML", "FORGED-JS", "FORGED-TEXT", "FORGED-SCRIPT"):
        assert marker not in text, marker  # records the runner did not write never reach the page
    graded_notebook = nbformat.read(
        root / "autograded" / "forged-records" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
    )
    for cell in graded_notebook.cells:
        for output in cell.get("outputs", []):
            assert set(output.get("data", {})) <= {"text/plain"}, output  # rebuilt from text alone
    for page in sorted((root / "feedback").glob(f"*/{ASSIGNMENT}/*.html")):
        html_text = page.read_text()
        scripts = [body for body in LIVE_SCRIPT.findall(html_text) if "FORGED" in body or "alert" in body]
        assert scripts == [], page
        assert not LIVE_HANDLER.search(html_text), page
        assert "javascript:alert" not in html_text, page
    passed_lines = re.findall(r"Part \d: [^<]*: passed, \d+ visible and \d+ hidden checks", text)
    assert len(passed_lines) == len(POINTS)


def test_an_answer_changed_in_place_gets_the_labs_verdict_from_make_grade(graded) -> None:
    """Item 5: the lab's message, word for word, in the feedback of the same answer."""
    root, *_ = graded
    source = ch01_recurrence_answers.IN_PLACE["rnn_cell_forward"]
    namespace: dict[str, Any] = {"np": np}
    exec(source, namespace)
    with pytest.raises(GradingFailure) as lab:
        run_part_in_process(check.RNN_CELL_FORWARD, namespace["rnn_cell_forward"])
    assert "modified its argument h_prev in place" in str(lab.value)
    assert str(lab.value) in feedback_text(root, ASSIGNMENT, "in-place")


def test_grading_leaves_every_tracked_file_untouched(graded) -> None:
    """Item 7: registering the assignment writes its release under autograded/, not over exercises/."""
    *_, (untouched, status) = graded
    assert untouched, "a tracked release notebook was rewritten"
    assert status == "", status
