"""Validate an exercise notebook before handing it in: every graded part, with its full message.

    python -m rnncourse.autograder.validate NOTEBOOK      (or: make validate NB=NOTEBOOK)

Runs the notebook from top to bottom in a fresh kernel (nbclient, as
`nbgrader validate` does), then prints, for every graded test cell, the part
it belongs to, passed or FAILED and its points, and under a failed part the
check's whole message, wrapped (the course's checks name the likely mistake
in a sentence or two, which `nbgrader validate` cuts at 90 characters). It
prints nothing else: the kernel talks to it over local sockets (IPC), so no
warning about unencrypted TCP. It exits with 1 when a part fails, another
cell raises, or a test cell was changed, so that scripts can rely on it; 2
when the notebook cannot be read or run at all. The Validate button of the
learners' JupyterLab shows the same report (``validate_button``).

This is the learner's own check of their own code, in their own kernel. It
grades nothing: the instructor's grading runs hidden tests as well.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config

from rnncourse.grading.core import BOX_WIDTH

# Every cell gets this long; the course's visible checks take about a second.
CELL_TIMEOUT_S = 120


@dataclass(frozen=True)
class Outcome:
    """What one graded test cell showed after the run.

    name: the part's heading (the last "## ..." line above the cell, without its
        "(N points)"), or the cell's grade_id when there is none.
    message: "" when it passed, else the error's message (a failed check's
        message alone; another error as "Type: message").
    """

    name: str
    points: float
    message: str

    @property
    def passed(self) -> bool:
        return self.message == ""

    @property
    def earned(self) -> float:
        return self.points if self.passed else 0.0


def error_of(cell: nbformat.NotebookNode) -> str:
    """The error a code cell raised when run, or "" if none.

    A failed check (``GradingFailure``) gives its message alone; any other
    error "Type: message", whole.
    """
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            if output["ename"] == "GradingFailure" and output["evalue"]:
                return str(output["evalue"])
            return f"{output['ename']}: {output['evalue']}" if output["evalue"] else output["ename"]
    return ""


_POINTS = re.compile(r"\s*\(\d+(\.\d+)? points?\)$")


def heading_of(cell: nbformat.NotebookNode) -> str:
    """The last second-level heading of a markdown cell, or ""."""
    headings = [line[3:].strip() for line in cell.source.splitlines() if line.startswith("## ")]
    return _POINTS.sub("", headings[-1]) if headings else ""


def nbgrader_of(cell: nbformat.NotebookNode) -> dict[str, Any]:
    return dict(cell.metadata.get("nbgrader", {}))


def changed_test_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """grade_ids of the locked or graded cells whose source differs from the released one.

    The release stores a checksum of each such cell; the instructor's grading
    puts the released cell back, so an edit there changes nothing but what the
    learner sees.
    """
    from nbgrader.utils import compute_checksum  # nbgrader's own definition of "changed"

    changed = []
    for cell in notebook.cells:
        meta = nbgrader_of(cell)
        guarded = (meta.get("grade") or meta.get("locked")) and "checksum" in meta
        if guarded and compute_checksum(cell) != meta["checksum"]:
            changed.append(str(meta.get("grade_id", "?")))
    return changed


def outcomes(notebook: nbformat.NotebookNode) -> tuple[list[Outcome], list[str]]:
    """The graded parts' outcomes, and the errors of every other cell ("cell N: Type: message")."""
    parts: list[Outcome] = []
    others: list[str] = []
    heading = ""
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "markdown":
            heading = heading_of(cell) or heading
            continue
        if cell.cell_type != "code":
            continue
        meta = nbgrader_of(cell)
        error = error_of(cell)
        if meta.get("grade"):
            name = heading or str(meta.get("grade_id", f"cell {index}"))
            parts.append(Outcome(name, float(meta.get("points", 0)), error))
        elif error:
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            others.append(f"cell {index} ({first_line.strip()[:60]}): {error}")
    return parts, others


def run(notebook: nbformat.NotebookNode, folder: Path, timeout: int = CELL_TIMEOUT_S) -> None:
    """Run every cell of ``notebook`` in a new kernel started in ``folder``; outputs go in place.

    Errors do not stop the run (each part is independent); a kernel that dies
    or a cell over its time bound does, and is reported by the caller. The
    kernel's sockets are local files (IPC) in a temporary folder.

    What the kernel process itself writes to its stderr (not a cell's output,
    which the notebook keeps) goes to a file: libzmq can abort a kernel that is
    shutting down with "Assertion failed: pfd.revents & POLLIN" (zeromq/libzmq
    issue 1307), noise about teardown the learner cannot act on. When the
    kernel dies, the ``DeadKernelError`` raised carries that file's last line.
    """
    with tempfile.TemporaryDirectory(prefix="rnncourse-validate-") as sockets:
        local = {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}  # Unix sockets: not on Windows
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(folder)}},
            config=Config({"KernelManager": local} if os.name == "posix" else {}),
        )
        kernel_stderr = Path(sockets) / "kernel-stderr.txt"
        with kernel_stderr.open("w", encoding="utf-8") as log:
            try:
                client.execute(stderr=log)
            except DeadKernelError as died:
                last = kernel_stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
                raise DeadKernelError(" ".join(last)) from died


def part_lines(part: Outcome, width: int = BOX_WIDTH) -> list[str]:
    """A part as the report shows it: "passed  <name>  2 of 2 points", a failed one's message under it."""
    lines = [
        f"{'passed' if part.passed else 'FAILED':6}  {part.name}  {part.earned:g} of {part.points:g} points"
    ]
    for paragraph in part.message.splitlines():
        lines += textwrap.wrap(
            paragraph, width, initial_indent=" " * 8, subsequent_indent=" " * 8, break_long_words=False
        ) or [""]
    return lines


def report(path: Path, notebook: nbformat.NotebookNode, stopped: str = "") -> tuple[str, bool]:
    """The text shown to the learner, and whether everything passed."""
    parts, others = outcomes(notebook)
    changed = changed_test_cells(notebook)
    lines = [f"Validating {path}", ""]
    for part in parts:
        lines += part_lines(part)
    if others:
        lines += ["", "Other cells raised an error (a later part may depend on them):"]
        lines.extend(f"  {error}" for error in others)
    if changed:
        lines += [
            "",
            "These test cells differ from the released ones (grading uses the released ones): "
            + ", ".join(changed),
        ]
    if stopped:
        lines += ["", f"The run stopped early: {stopped}"]
    passed = [part for part in parts if part.passed]
    earned = sum(part.points for part in passed)
    total = sum(part.points for part in parts)
    ok = len(passed) == len(parts) and not others and not changed and not stopped
    lines += [
        "",
        f"{'OK' if ok else 'NOT OK'}: {len(passed)} of {len(parts)} parts pass the visible tests "
        f"({earned:g} of {total:g} points); {len(others)} other cell(s) raised an error.",
    ]
    if not parts:
        lines.append("No graded test cell found: is this an exercise notebook?")
        ok = False
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnncourse.autograder.validate",
        description="Run an exercise notebook and show every graded part's full result.",
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    args = parser.parse_args(argv)
    path: Path = args.notebook
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:  # missing file, invalid JSON or nbformat
        print(f"Cannot read {path}: {error}", file=sys.stderr)
        return 2
    stopped = ""
    try:
        run(notebook, path.resolve().parent, args.timeout)
    except CellTimeoutError:
        stopped = f"a cell ran longer than {args.timeout} s (an endless loop?)"
    except DeadKernelError as died:
        stopped = "the kernel died (out of memory, or the code exited Python)"
        if str(died):
            stopped += f"; its last message: {died}"
    text, ok = report(path, notebook, stopped)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
