"""`python -m rnncourse.autograder.validate`: the learner's check before handing in.

Run on real notebooks built from the release: solved (exit 0), untouched
(every part named and failed), and one part wrong (its whole message shown).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnncourse.grading import ch01_recurrence as check
from tests.grading import ch01_recurrence_answers
from tests.grading.notebooks import filled, grade_ids, read, solution_sources

ASSIGNMENT = "ch01_recurrence"
pytestmark = pytest.mark.slow


def validate(notebook: nbformat.NotebookNode, folder: Path, tool_env: dict[str, str]) -> tuple[int, str]:
    path = folder / f"{ASSIGNMENT}.ipynb"
    nbformat.write(notebook, path)
    done = subprocess.run(
        [sys.executable, "-m", "rnncourse.autograder.validate", str(path)],
        cwd=folder,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Quiet apart from its result: nothing on stderr (the kernel's TCP warning was), no traceback.
    assert done.stderr == "", done.stderr
    assert "Traceback" not in done.stdout and "File " not in done.stdout, done.stdout
    return done.returncode, done.stdout


PART_LINE = re.compile(r"^(passed|FAILED)  (.+)  ([\d.]+) of ([\d.]+) points$", re.MULTILINE)


def verdicts(output: str, release: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> passed/FAILED, from the lines "passed  <heading>  2 of 2 points", in the test cells' order.

    Each line's points agree with its verdict and with the cell's points.
    """
    found = PART_LINE.findall(output)
    cells = [cell for cell in release.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert len(found) == len(cells), output
    for (verdict, _, earned, points), cell in zip(found, cells):
        assert float(points) == float(cell.metadata["nbgrader"]["points"])
        assert float(earned) == (float(points) if verdict == "passed" else 0.0)
    return {cell.metadata["nbgrader"]["grade_id"]: verdict for (verdict, *_), cell in zip(found, cells)}


@pytest.fixture(scope="module")
def release(repo: Path) -> nbformat.NotebookNode:
    return read(repo / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def solutions(repo: Path) -> dict[str, str]:
    return solution_sources(read(repo / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))


def test_a_solved_notebook_passes_every_part(release, solutions, tmp_path: Path, tool_env) -> None:
    status, output = validate(filled(release, solutions), tmp_path, tool_env)
    assert status == 0, output
    assert verdicts(output, release) == {test: "passed" for test in grade_ids(release, "grade")}, output
    assert "FAILED" not in output


def test_the_untouched_release_fails_every_part_by_name(release, tmp_path: Path, tool_env) -> None:
    status, output = validate(release, tmp_path, tool_env)
    assert status == 1, output
    assert verdicts(output, release) == {test: "FAILED" for test in grade_ids(release, "grade")}, output
    # The part's heading, as the learner reads it in the notebook (without its points), names each one.
    headings = [line for cell in release.cells for line in cell.source.splitlines() if line.startswith("## ")]
    for heading in headings[: len(grade_ids(release, "grade"))]:
        assert f"FAILED  {re.sub(r' [(][0-9]+ points[)]$', '', heading[3:])}  0 of " in output
    assert "NotImplementedError" in output
    # The ungraded cells that try a part wait for it (%%try_it): none raised.
    assert "0 other cell(s) raised an error" in output, output


#: A cell that writes below the notebook's capture, to the kernel process's own stderr, as libzmq does
#: when it aborts a kernel during shutdown ("Assertion failed: pfd.revents & POLLIN").
#: (ipykernel keeps that stream's copy when it captures fd 2; without capture fd 2 is that stream.)
TO_KERNEL_STDERR = (
    "import os, sys\nos.write(getattr(sys.stderr, '_original_stdstream_copy', None) or 2, b'{words}\\n')\n"
)


def test_the_kernel_process_stderr_stays_out_of_the_learners_terminal(
    release, solutions, tmp_path, tool_env
) -> None:
    notebook = filled(release, solutions)
    notebook.cells.append(nbformat.v4.new_code_cell(TO_KERNEL_STDERR.format(words="teardown noise")))
    status, output = validate(notebook, tmp_path, tool_env)  # asserts that stderr is empty
    assert status == 0, output
    assert "teardown noise" not in output


def test_a_kernel_that_dies_is_reported_with_its_last_message(release, solutions, tmp_path, tool_env) -> None:
    notebook = filled(release, solutions)
    notebook.cells.append(
        nbformat.v4.new_code_cell(TO_KERNEL_STDERR.format(words="the last words") + "os.abort()")
    )
    status, output = validate(notebook, tmp_path, tool_env)
    assert status == 1, output
    assert (
        "The run stopped early: the kernel died (out of memory, or the code exited Python); "
        "its last message: the last words"
    ) in output, output


def message_of(answer: str, name: str) -> str:
    """What the course's check says about ``answer``, asked here directly, in this process."""
    namespace: dict[str, object] = {"np": np}
    exec(answer, namespace)
    with pytest.raises(AssertionError) as failure:
        getattr(check, name)(namespace[name])
    return str(failure.value)


def test_one_wrong_part_fails_alone_with_its_whole_message(release, solutions, tmp_path, tool_env) -> None:
    wrong = "rnn_cell_forward"
    answer = ch01_recurrence_answers.WRONG[wrong]
    status, output = validate(filled(release, solutions | {wrong: answer}), tmp_path, tool_env)
    assert status == 1, output
    expected = {test: "passed" for test in grade_ids(release, "grade")} | {f"test_{wrong}": "FAILED"}
    assert verdicts(output, release) == expected, output

    message = " ".join(line.strip() for line in message_of(answer, wrong).splitlines())
    shown = " ".join(line.strip() for line in output.split("FAILED  ", 1)[1].splitlines()[1:])
    assert message in shown, output
    # nbgrader's own validate, on the same file, cuts that line short.
    cut = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", f"{ASSIGNMENT}.ipynb"],
        cwd=tmp_path,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert message[:30] in cut.stdout and message not in " ".join(cut.stdout.split()), cut.stdout


def test_a_notebook_that_cannot_be_read_is_an_error(tmp_path: Path, tool_env) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    done = subprocess.run(
        [sys.executable, "-m", "rnncourse.autograder.validate", str(broken)],
        env=tool_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "Cannot read" in done.stderr


def test_make_validate_runs_the_module_on_the_named_notebook(repo: Path) -> None:
    done = subprocess.run(
        ["make", "-n", "validate", "NB=work/x.ipynb"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert '-m rnncourse.autograder.validate "work/x.ipynb"' in done.stdout
    # A failed part is the report's news, not make's error ("make: *** ... Error 1").
    assert '"work/x.ipynb" || [ $? -eq 1 ]' in done.stdout
    usage = subprocess.run(["make", "-n", "validate"], cwd=repo, capture_output=True, text=True)
    assert usage.returncode != 0 and "usage: make validate NB=" in usage.stderr
