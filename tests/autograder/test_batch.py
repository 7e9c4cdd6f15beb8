"""`make grade`'s parts that need no sandbox: finding, naming and reading submissions.

The whole run, with real nbgrader and the sandbox, is proven in
test_ch01_recurrence_nbgrader.py, test_term.py and tests/autograder/hostile/; collecting a
zip in test_collect.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat import v3
from traitlets.config import Config

from rnncourse.autograder import autograde, batch, submission

ASSIGNMENT = "ch01_recurrence"


def notebook_with(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


def write(path: Path, notebook: nbformat.NotebookNode | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, str):
        path.write_text(notebook)
    else:
        nbformat.write(notebook, path)
    return path


def test_a_correctly_named_notebook_is_chosen_and_extra_ones_reported(tmp_path: Path) -> None:
    right = write(tmp_path / f"{ASSIGNMENT}.ipynb", notebook_with("1"))
    write(tmp_path / "scratch.ipynb", notebook_with("2"))
    chosen, notes = batch.choose_notebook(tmp_path, ASSIGNMENT)
    assert chosen == right
    assert notes == ["also holds scratch.ipynb (not graded)"]


def test_a_misnamed_notebook_is_reported_by_name_and_graded(tmp_path: Path) -> None:
    misnamed = write(tmp_path / f"{ASSIGNMENT} (1).ipynb", notebook_with("1"))
    chosen, notes = batch.choose_notebook(tmp_path, ASSIGNMENT)
    assert chosen == misnamed
    assert len(notes) == 1 and f"'{ASSIGNMENT} (1).ipynb'" in notes[0] and "graded as" in notes[0]


def test_of_several_misnamed_notebooks_the_newest_is_graded(tmp_path: Path) -> None:
    old = write(tmp_path / "a.ipynb", notebook_with("1"))
    new = write(tmp_path / "b.ipynb", notebook_with("2"))
    os.utime(old, (1_000_000, 1_000_000))
    os.utime(new, (2_000_000, 2_000_000))
    chosen, notes = batch.choose_notebook(tmp_path, ASSIGNMENT)
    assert chosen == new and "a.ipynb, b.ipynb" in notes[0]


def test_a_folder_without_notebook_says_what_it_holds(tmp_path: Path) -> None:
    (tmp_path / "answers.py").write_text("x = 1")
    chosen, notes = batch.choose_notebook(tmp_path, ASSIGNMENT)
    assert chosen is None and "answers.py" in notes[0]


def test_invalid_json_is_not_a_notebook() -> None:
    notebook, notes = submission.read_notebook(b"this is not JSON {", "x.ipynb")
    assert notebook is None and "x.ipynb is not a valid notebook (not JSON" in notes[0]


def test_json_that_is_no_notebook_is_refused() -> None:
    notebook, notes = submission.read_notebook(json.dumps({"cells": 3}).encode(), "x.ipynb")
    assert notebook is None and "not a valid notebook" in notes[0]


def test_a_notebook_that_breaks_nbformats_schema_is_refused() -> None:
    broken = json.loads(nbformat.writes(notebook_with("1")))
    broken["cells"][0]["outputs"] = "not a list"
    notebook, notes = submission.read_notebook(json.dumps(broken).encode(), "x.ipynb")
    assert notebook is None and "ValidationError" in notes[0]


def test_nbformat_3_is_upgraded_and_reported() -> None:
    old = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[v3.new_code_cell(input="x = 41 + 1")])])
    notebook, notes = submission.read_notebook(nbformat.writes(old, version=3).encode(), "old.ipynb")
    assert notebook is not None and notebook.nbformat == 4
    assert [cell.source for cell in notebook.cells] == ["x = 41 + 1"]
    assert notes == ["old.ipynb is in nbformat 3: upgraded to nbformat 4 and graded"]


def test_a_task_carries_the_notebooks_bytes_and_submitted_is_never_modified(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "ada" / ASSIGNMENT
    original = write(folder / "mine.ipynb", notebook_with("x = 1"))
    (folder / "timestamp.txt").write_text("2026-02-06 17:00:00 UTC\n")
    before = original.read_bytes()
    task = batch.task_for(tmp_path, "ada", ASSIGNMENT)
    assert task.content == before and task.file_name == "mine.ipynb"
    assert task.timestamp == "2026-02-06 17:00:00 UTC"
    assert "graded as ch01_recurrence.ipynb" in task.notes[0]
    assert sorted(p.name for p in folder.iterdir()) == ["mine.ipynb", "timestamp.txt"]
    assert original.read_bytes() == before


def test_only_the_chosen_students_and_assignments_are_graded(tmp_path: Path) -> None:
    for student in ("ada", "bo", "cy"):
        for assignment in ("ch01_recurrence", "ch02_bptt"):
            (tmp_path / "submitted" / student / assignment).mkdir(parents=True)
    everyone = batch.find_submissions(tmp_path, ["ch01_recurrence", "ch02_bptt"], None)
    assert len(everyone) == 6
    assert batch.find_submissions(tmp_path, ["ch02_bptt"], ["bo", "cy"]) == [
        ("bo", "ch02_bptt"),
        ("cy", "ch02_bptt"),
    ]


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("sqlite:///gradebook.db", "sqlite:///{root}/gradebook.db"),
        ("sqlite:////srv/grades.db", "sqlite:////srv/grades.db"),
        ("postgresql://grader@db/course", "postgresql://grader@db/course"),
    ],
)
def test_gradebook_url(tmp_path: Path, configured: str, expected: str) -> None:
    config = Config()
    config.CourseDirectory.db_url = configured
    assert batch.gradebook_url(tmp_path, config) == expected.format(root=tmp_path)


def test_the_course_config_reads_the_gradebook_url_from_the_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNNCOURSE_GRADEBOOK_URL", "postgresql://grader@db/course")
    assert batch.load_config(repo).CourseDirectory.db_url == "postgresql://grader@db/course"
    monkeypatch.delenv("RNNCOURSE_GRADEBOOK_URL")
    assert batch.load_config(repo).CourseDirectory.db_url == "sqlite:///gradebook.db"


def test_the_course_config_replaces_only_execute(repo: Path) -> None:
    from nbgrader.converters.autograde import Autograde

    defaults = [cls.__name__ for cls in Autograde.class_traits()["autograde_preprocessors"].default()]
    configured = batch.load_config(repo).Autograde.autograde_preprocessors
    names = [item if isinstance(item, str) else item.__name__ for item in configured]
    assert names == [
        "rnncourse.autograder.autograde.SandboxedExecute" if name == "Execute" else name for name in defaults
    ]


def test_hidden_tests_are_replaced_by_one_line() -> None:
    source = (
        "# Tests for part 3.\ncheck.f(f)\n### BEGIN HIDDEN TESTS\ncheck.f(f, seed=8127)\n"
        "check.f(f, shapes=[(1, 2)])\n### END HIDDEN TESTS\n"
    )
    redacted = autograde.redact_hidden_tests(source, 5)
    assert redacted == "# Tests for part 3.\ncheck.f(f)\n# hidden tests: 5 checks on other inputs\n"


def test_outputs_lose_instructor_paths_and_colours(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    home = str(Path.home())
    text = f"\x1b[0;31mValueError\x1b[0m in {tmp_path}/solutions/x.py and {home}/notes.txt"
    cleaned = autograde.scrub(text)
    assert "\x1b" not in cleaned and str(tmp_path) not in cleaned
    assert cleaned.startswith("ValueError in <course>/solutions/x.py")
    if len(home) > 1:
        assert home not in cleaned


def test_make_grade_asks_for_bubblewrap_alone_never_the_tests_browser(repo: Path) -> None:
    """As a user who is not root, on a machine without bubblewrap: the message names bubblewrap only."""
    with tempfile.TemporaryDirectory() as folder:
        tools = Path(folder) / "bin"
        tools.mkdir()
        Path(folder).chmod(0o755)
        for tool in ("id", "ls"):  # everything the recipe calls but bwrap
            (tools / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        run = subprocess.run(
            [
                *as_user,
                shutil.which("make") or "make",
                "-f",
                str(repo / "Makefile"),
                "grade",
                "STAMP=",
                "BIN=/none",
            ],
            cwd=folder,
            env={"PATH": str(tools), "HOME": folder},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode != 0
    assert "sudo apt-get install bubblewrap" in run.stderr, run.stderr
    assert "chromium" not in run.stdout + run.stderr and "postgresql" not in run.stdout + run.stderr
