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
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat import v3
from traitlets.config import Config

from rnncourse.autograder import autograde, batch, collect, files, submission

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
                "GRADE_STAMP=",
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


# -- issue 18: only a student's own regular files are read; the release's metadata is what counts


def test_a_link_or_a_pipe_where_the_notebook_should_be_is_refused_never_followed(tmp_path: Path) -> None:
    secret_file = write(tmp_path / "solutions" / "secret.ipynb", notebook_with("the solution"))
    folder = tmp_path / "submitted" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").symlink_to(secret_file)
    chosen, notes = batch.choose_notebook(folder, ASSIGNMENT)
    assert chosen is None and "symbolic link" in notes[0] and "refused" in notes[0]
    with pytest.raises(OSError, match="never followed"):
        files.read_regular(folder / f"{ASSIGNMENT}.ipynb", 1000)
    (folder / f"{ASSIGNMENT}.ipynb").unlink()
    os.mkfifo(folder / f"{ASSIGNMENT}.ipynb")  # opening it would wait for a writer: it is never opened
    chosen, notes = batch.choose_notebook(folder, ASSIGNMENT)
    assert chosen is None and "not a regular file" in notes[0]
    with pytest.raises(OSError, match="not a regular file"):
        files.read_regular(folder / f"{ASSIGNMENT}.ipynb", 1000)


def test_a_student_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", notebook_with("ada's"))
    (tmp_path / "submitted" / "bo").mkdir()
    (tmp_path / "submitted" / "bo" / ASSIGNMENT).symlink_to(tmp_path / "submitted" / "ada" / ASSIGNMENT)
    task = batch.task_for(tmp_path, "bo", ASSIGNMENT)
    assert task.content is None
    assert "symbolic link" in " ".join(task.notes) and "refused" in " ".join(task.notes)


def test_a_linked_timestamp_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "ada" / ASSIGNMENT
    write(folder / f"{ASSIGNMENT}.ipynb", notebook_with("x = 1"))
    (folder / "timestamp.txt").symlink_to("/etc/hostname")
    task = batch.task_for(tmp_path, "ada", ASSIGNMENT)
    assert task.content is not None and task.timestamp is None
    assert "timestamp.txt ignored" in " ".join(task.notes)


def test_zip_collection_never_writes_through_a_link(tmp_path: Path) -> None:
    pattern = collect.named_regexp(Config(), "blackboard", "x")
    outside = write(tmp_path / "solutions" / "keep.ipynb", notebook_with("the solution"))
    before = outside.read_bytes()
    folder = tmp_path / "submitted" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").symlink_to(outside)
    (tmp_path / "submitted" / "bo").mkdir()
    (tmp_path / "submitted" / "bo" / ASSIGNMENT).symlink_to(tmp_path / "solutions")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for student in ("ada", "bo"):
            zipped.writestr(
                f"x_{student}_attempt_2026-01-30-15-00-00_{ASSIGNMENT}.ipynb",
                nbformat.writes(notebook_with("x = 1")),
            )
    collection = collect.collect_zip(archive, tmp_path, ASSIGNMENT, pattern)
    assert outside.read_bytes() == before and not (tmp_path / "solutions" / f"{ASSIGNMENT}.ipynb").exists()
    # ada's link is replaced by the notebook itself (the link removed, never written through); bo's
    # folder is a link: refused
    assert list(collection.collected) == ["ada"], collection.report()
    assert not (folder / f"{ASSIGNMENT}.ipynb").is_symlink() and (folder / f"{ASSIGNMENT}.ipynb").is_file()
    assert len(collection.skipped) == 1 and "bo" in collection.skipped[0] and "link" in collection.skipped[0]


def _graded_cell(grade_id: str, source: str, **meta: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "task": False, **meta}
    return cell


def test_edited_nbgrader_metadata_is_graded_as_released() -> None:
    release = nbformat.v4.new_notebook(
        cells=[
            _graded_cell("answer", "# YOUR CODE HERE", grade=False, solution=True, locked=False),
            _graded_cell("test_answer", "check.f(f)", grade=True, solution=False, locked=True, points=3),
        ]
    )
    notebook = nbformat.v4.new_notebook(
        cells=[
            _graded_cell("answer", "def f(): ...", grade=True, solution=True, locked=False, points=10),
            _graded_cell("test_answer", "check.f(f)", grade=True, solution=False, locked=True, points=50),
            _graded_cell("bonus", "print('free')", grade=True, solution=False, locked=False, points=100),
            nbformat.v4.new_markdown_cell("notes"),
        ]
    )
    notebook.cells[3].metadata["nbgrader"] = "not even a dict"
    notes = autograde.release_metadata(notebook, release)
    assert [cell.metadata.get("nbgrader") for cell in notebook.cells] == [
        release.cells[0].metadata.nbgrader,
        release.cells[1].metadata.nbgrader,
        None,
        None,
    ]
    assert notebook.cells[0].source == "def f(): ..."  # the learner's answer stays
    assert any("'answer'" in note and "grade" in note and "points" in note for note in notes), notes
    assert any("'test_answer'" in note and "points" in note for note in notes), notes
    assert any("'bonus'" in note and "ordinary cell" in note for note in notes), notes
    assert sum("ordinary cell" in note for note in notes) == 2


def test_an_answer_cell_turned_markdown_is_a_code_cell_again() -> None:
    release = nbformat.v4.new_notebook(
        cells=[_graded_cell("answer", "# YOUR CODE HERE", grade=False, solution=True)]
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("def f(): return 1")])
    notebook.cells[0].metadata["nbgrader"] = dict(release.cells[0].metadata.nbgrader)
    notes = autograde.release_metadata(notebook, release)
    cell = notebook.cells[0]
    assert cell.cell_type == "code" and cell.source == "def f(): return 1" and cell.outputs == []
    assert notes == ["the cell 'answer' had its grading edited (cell type): graded as released"]
    nbformat.validate(notebook)
