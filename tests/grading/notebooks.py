"""Build submissions from the source and release notebooks, as learners would."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

SOLUTION = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def grade_ids(notebook: nbformat.NotebookNode, kind: str) -> list[str]:
    """grade_ids of the solution cells (kind="solution") or test cells (kind="grade")."""
    return [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get(kind)
    ]


def points(notebook: nbformat.NotebookNode) -> dict[str, float]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: float(cell.metadata["nbgrader"]["points"])
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }


def solution_sources(source: nbformat.NotebookNode) -> dict[str, str]:
    """The source notebook's solution cells with the BEGIN/END markers removed."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: SOLUTION.sub("", cell.source)
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def filled(release: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the release notebook whose answer cells hold ``answers`` (by grade_id)."""
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def released_course(
    root: Path, repo: Path, env: dict[str, str], assignment: str = "ch01_recurrence"
) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """A course at ``root`` (made if missing) with the repository's config and solutions, its own
    grading secret (``make secret``), the exercise released by ``nbgrader generate_assignment``;
    returns its (source, release) notebooks."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(repo / "nbgrader_config.py", root)
    shutil.copytree(repo / "solutions", root / "solutions")
    if not (root / ".grading-secret").exists():
        subprocess.run(
            [sys.executable, "-m", "rnncourse.autograder.secret"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    source = read(root / "solutions" / assignment / f"{assignment}.ipynb")
    release = read(root / "exercises" / assignment / f"{assignment}.ipynb")
    return source, release


_RUN_CELLS = """
import sys
import nbformat

cells = [c.source for c in nbformat.read(sys.argv[1], as_version=4).cells if c.cell_type == "code"]
namespace = {"__name__": "__main__"}
for source in cells[1:]:  # the first is the install cell, for Colab
    source = source.removeprefix("%%try_it\\n")  # the lab's magic runs such a cell as it is
    exec(compile(source, sys.argv[1], "exec"), namespace)
"""


def run_code_cells(path: Path, env: dict[str, str]) -> str:
    """Everything a source notebook prints when its code cells run in order, in a new Python.

    The install cell (the notebook's first code cell, for Colab) is left out; the rest is
    plain Python, but for the first line ``%%try_it`` of the cells that try parts. For the
    closing cells that put the learner's parts to work, which the grader does not run
    (``autograde.closing_cells``). One BLAS thread, as in the notebooks: their loops of
    small products only slow down with more.
    """
    threads = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-c", _RUN_CELLS, str(path)],
        env={**env, **threads},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout
