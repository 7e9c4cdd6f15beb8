"""The one room that agrees with nbgrader: its sanitising order and its autograde pipeline.

``make grade`` replays nbgrader's sanitising before the sandbox runs a notebook, and
nbgrader's own autograde pass then finds that run in the cache by the notebook's content.
The two meet only while the lists agree, so these tests read the installed nbgrader.
And which cells the sandbox runs: all but the test cells and the closing cells.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader

from rnncourse.autograder import autograde


def test_the_sanitising_order_is_the_installed_nbgraders() -> None:
    installed = Autograde.class_traits()["sanitize_preprocessors"].default()
    assert list(autograde.SANITIZE) == list(installed), (
        "nbgrader's Autograde.sanitize_preprocessors changed: update autograde.SANITIZE to its new "
        f"list {[p.__name__ for p in installed]}"
    )


def test_the_course_runs_nbgraders_autograde_pipeline_with_the_sandbox_in_executes_place(repo: Path) -> None:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(repo)).load_config()
    configured = [
        step if isinstance(step, str) else f"{step.__module__}.{step.__name__}"
        for step in config.Autograde.autograde_preprocessors
    ]
    installed = [
        "rnncourse.autograder.autograde.SandboxedExecute"
        if step is Execute
        else f"{step.__module__}.{step.__name__}"
        for step in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    assert configured == installed


def _cell(kind: str, **nbgrader: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("x = 1") if kind == "code" else nbformat.v4.new_markdown_cell("text")
    if nbgrader:
        cell.metadata["nbgrader"] = dict(nbgrader)
    return cell


def test_the_closing_cells_are_the_code_cells_after_the_last_answer_or_test_cell() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        _cell("code"),  # 0: set-up
        _cell("code", solution=True, grade=False),  # 1: an answer
        _cell("code"),  # 2: a try-it cell between answer and test
        _cell("code", solution=False, grade=True),  # 3: the last test
        _cell("markdown"),  # 4
        _cell("code"),  # 5: closing
        _cell("code", locked=True),  # 6: closing, though nbgrader locks it
    ]
    assert autograde.closing_cells(notebook) == {5, 6}
    notebook.cells.append(_cell("markdown", solution=True, grade=True))  # a written answer, last
    assert autograde.closing_cells(notebook) == set()
    notebook.cells = [_cell("code"), _cell("code")]  # no answer or test cell: everything runs
    assert autograde.closing_cells(notebook) == set()
