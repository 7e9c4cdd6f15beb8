"""nbgrader's autograding step, run in a sandbox and verified outside it.

``nbgrader_config.py`` puts :class:`SandboxedExecute` where nbgrader's own
``Execute`` stood in ``Autograde.autograde_preprocessors``. nbgrader's
sanitizing step has already run (outputs cleared, locked and test cells
restored from the gradebook), so the notebook that arrives here holds the
instructor's test cells and the learner's other cells.

Instead of running everything in one Jupyter kernel with the instructor's
rights, :class:`SandboxedExecute`

1. sends the learner's code cells (never the test cells, nor the closing cells
   after the last answer and test cell: :func:`closing_cells`) and one request per
   graded part (``PARTS`` of ``rnncourse.grading.<assignment>``: function
   name, the inputs of its visible cases and of its hidden cases, drawn from
   the course's secret (``rnncourse.autograder.secret``), correct earlier
   functions to substitute) to ``rnncourse.autograder.sandbox``, which runs
   them where the course, the gradebook and other submissions are out of reach;
2. puts each cell's outputs back into the notebook;
3. verifies each returned value here, outside the learner's process, with the
   part's ``verify``; writes one line "Part N ...: passed" or one
   ``GradingFailure`` error into the part's test cell, which nbgrader's
   ``SaveAutoGrades`` then scores (an error scores 0, anything else full);
4. replaces the hidden tests in each test cell by a one-line summary, so
   that feedback never shows them, and removes instructor paths from every
   output;
5. cleans the HTML in the learner's markdown (no script, no event handler,
   no ``javascript:`` link): nbgrader's feedback and formgrader templates
   render markdown unsanitised, so the notebook itself must be safe to open.

``make grade`` does not go through nbgrader's Autograde converter: its single
pass (``rnncourse.autograder.submission``) calls :func:`sanitized`,
:func:`run_cached` and :func:`fill_notebook` on the notebook in memory, then
nbgrader's remaining steps; ``SandboxedExecute`` is what ``nbgrader autograde``
on its own runs. A sandbox result is cached under
``autograded/.sandbox-cache/`` by a hash of what was sent (cells, requests,
limits, the sandbox's own code), so that grading again an unchanged notebook
runs no sandbox.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pickle
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
from nbconvert.filters.strings import clean_html
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    OverwriteCells,
    OverwriteKernelspec,
)
from traitlets import Float, Integer, Unicode
from traitlets.config import Config

from rnncourse.autograder import sandbox, secret
from rnncourse.grading import parts
from rnncourse.grading.core import failure_box
from rnncourse.grading.parts import HiddenKey, Part

HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|\Z)",
    re.MULTILINE | re.DOTALL,
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What a closing cell shows in the feedback (see closing_cells).
NOT_RUN = (
    "[Not run by the grader: this cell comes after the last graded part, so it cannot change "
    "a grade. Your own notebook shows what it does.]\n"
)


def is_test_cell(cell: nbformat.NotebookNode) -> bool:
    """An autograded test cell: nbgrader's grade=True and solution=False, code."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def closing_cells(nb: nbformat.NotebookNode) -> set[int]:
    """The indices of the code cells after the last answer or test cell: the grader does not run them.

    Every part is checked on the namespace the cells that ran leave behind. In
    the lab, a part's test cell sees the namespace as it is at that cell, so no
    check there sees a cell after the last answer and test cell. Running such a
    cell here could only make the verdicts differ from the lab's (a closing cell
    that redefined a part's function would be graded instead of the answer). The
    exercises' closing cells put the learner's parts to work (a few seconds of
    training each), which would be most of a submission's cost. A notebook with
    no answer or test cell has no closing cells.
    """
    marked = [
        index
        for index, cell in enumerate(nb.cells)
        if (meta := cell.get("metadata", {}).get("nbgrader", {})).get("grade") or meta.get("solution")
    ]
    if not marked:
        return set()
    return {index for index, cell in enumerate(nb.cells) if index > marked[-1] and cell.cell_type == "code"}


def chapter_parts(assignment: str) -> list[Part]:
    """``PARTS`` of ``rnncourse.grading.<assignment>`` (empty if there is none)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", assignment):
        return []
    try:
        module = importlib.import_module(f"rnncourse.grading.{assignment}")
    except ImportError:
        return []
    return list(getattr(module, "PARTS", []))


def sandbox_inputs(
    nb: nbformat.NotebookNode, parts: Sequence[Part], key: HiddenKey
) -> tuple[list[tuple[int, str]], list[sandbox.PartRequest]]:
    """What the sandbox receives: (index, source) of the code cells to run, and one request per part.

    The cells to run are every code cell but the test cells and the closing cells.

    Each part's cases are its visible ones and its hidden ones drawn from ``key``.
    """
    closing = closing_cells(nb)
    cells = [
        (index, cell.source)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and not is_test_cell(cell) and index not in closing
    ]
    requests = [
        sandbox.PartRequest(
            grade_id=part.grade_id,
            function=part.function,
            cases=[(case.name, case.args) for case in part.graded_cases(key)],
            substitutes=dict(part.substitutes),
            parameters=tuple(part.parameters),
            imports=tuple(part.imports),
        )
        for part in parts
    ]
    return cells, requests


def _code_version() -> str:
    """A hash of the sandbox's own code: a new runner must not reuse old results."""
    digest = hashlib.sha256()
    autograder = Path(sandbox.__file__).parent
    grading = Path(parts.__file__).parent
    for path in (
        autograder / "sandbox.py",
        autograder / "runner.py",
        grading / "_codec.py",
        grading / "parts.py",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(
    assignment: str,
    cells: list[tuple[int, str]],
    requests: list[sandbox.PartRequest],
    limits: sandbox.Limits,
) -> str:
    """Same inputs, same limits, same sandbox code: same key."""
    digest = hashlib.sha256()
    digest.update(assignment.encode())
    digest.update(_code_version().encode())
    digest.update(repr(limits).encode())
    digest.update(json.dumps(cells).encode())
    for request in requests:
        digest.update(
            json.dumps(
                [
                    request.grade_id,
                    request.function,
                    request.substitutes,
                    request.parameters,
                    request.imports,
                ],
                sort_keys=True,
            ).encode()
        )
        for name, args in request.cases:
            digest.update(name.encode())
            _digest_value(digest, args)
    return digest.hexdigest()


def _digest_value(digest: Any, value: object) -> None:
    """Feed ``value`` into ``digest`` by content only (pickle's bytes depend on object identity)."""
    if isinstance(value, np.ndarray):
        digest.update(f"array {value.dtype.str} {value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__} {len(value)}".encode())
        for item in value:
            _digest_value(digest, item)
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)}".encode())
        for key, item in value.items():
            digest.update(repr(key).encode())
            _digest_value(digest, item)
    else:
        digest.update(f"{type(value).__name__} {value!r}".encode())


def run_cached(
    assignment: str,
    cells: list[tuple[int, str]],
    requests: list[sandbox.PartRequest],
    limits: sandbox.Limits,
    cache_dir: Path | None,
) -> tuple[sandbox.SandboxResult, bool]:
    """The sandbox's result for these inputs, from the cache when it is there; (result, was cached)."""
    key = cache_key(assignment, cells, requests, limits)
    path = cache_dir / f"{key}.pickle" if cache_dir else None
    if path is not None and path.is_file():
        # written by this module on the instructor's side, never by a sandbox
        return pickle.loads(path.read_bytes()), True
    result = sandbox.run_sandboxed(cells, requests, limits)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps(result))
        temporary.replace(path)
    return result, False


# -- what the learner sees ------------------------------------------------------------


def _private_paths() -> list[tuple[str, str]]:
    """Instructor paths that must not reach feedback, each with what replaces it."""
    pairs = [
        (str(Path(sys.prefix).resolve()), "<python>"),
        (sys.prefix, "<python>"),
        (str(Path.cwd().resolve()), "<course>"),
        (str(Path.home()), "~"),
    ]
    return sorted({p for p in pairs if len(p[0]) > 1}, key=lambda p: -len(p[0]))


def scrub(text: str) -> str:
    """``text`` without terminal colours or the instructor's paths."""
    text = _ANSI.sub("", text)
    for path, placeholder in _private_paths():
        text = text.replace(path, placeholder)
    return text


def _scrub_output(output: dict[str, Any]) -> nbformat.NotebookNode:
    output = dict(output)
    if "text" in output:
        text = output["text"]
        output["text"] = scrub("".join(text) if isinstance(text, list) else str(text))
    if output.get("output_type") == "error":
        output["ename"] = scrub(str(output.get("ename", "")))
        output["evalue"] = scrub(str(output.get("evalue", "")))
        output["traceback"] = [scrub(str(line)) for line in output.get("traceback", [])]
    if "data" in output:
        data = dict(output["data"])
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in data:
                value = data[mime]
                data[mime] = scrub("".join(value) if isinstance(value, list) else str(value))
        output["data"] = data
    return nbformat.from_dict(output)


#: Markdown that holds HTML (or a script link) is cleaned; plain markdown is left exactly as written.
_HTML_IN_MARKDOWN = re.compile(
    r"<\s*/?\s*[a-zA-Z!]|(javascript|vbscript)\s*:|data\s*:\s*text/html", re.IGNORECASE
)
_SCRIPT_LINK = re.compile(r"(javascript|vbscript)\s*:|data\s*:\s*text/html", re.IGNORECASE)


def safe_markdown(source: str) -> str:
    """A learner's markdown without what a browser would run: its HTML cleaned as nbconvert cleans outputs."""
    if not _HTML_IN_MARKDOWN.search(source):
        return source
    return _SCRIPT_LINK.sub("blocked:", clean_html(source))


def failure_output(message: str, part: str = "") -> nbformat.NotebookNode:
    """One error output: what nbgrader scores as a failed test cell.

    Its traceback is the lab's box (``core.failure_box``): "FAILED  <part>",
    then the message, unwrapped (the feedback page wraps it).
    """
    return nbformat.v4.new_output(
        "error",
        ename="GradingFailure",
        evalue=f"{part}: {message}" if part else message,
        traceback=failure_box(message, part, width=max(len(message), 1)),
    )


def stopped_message(result: sandbox.SandboxResult, nb: nbformat.NotebookNode) -> str:
    """Why the notebook's run ended before this part was checked, in plain words."""
    detail = scrub(result.detail) if result.detail else result.status
    where = ""
    index = result.stopped_at_cell
    if index is not None and 0 <= index < len(nb.cells):
        first_line = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
        where = f" (the cell that starts `{first_line.strip()[:60]}`)" if first_line else ""
    return f"not checked: the notebook stopped ({result.status}): {detail}{where}."


def verify(
    part: Part, result: sandbox.SandboxResult, nb: nbformat.NotebookNode, key: HiddenKey
) -> parts.Verdict:
    """Check every case of ``part`` here, outside the sandbox, with the part's own ``verify``."""
    cases = part.graded_cases(key)
    values = result.parts.get(part.grade_id, {})
    if any(case.name not in values for case in cases):
        hidden = sum(case.hidden for case in cases)
        return parts.Verdict(part, stopped_message(result, nb), len(cases) - hidden, hidden)
    decoded = [parts.from_codec(values[case.name]) for case in cases]
    verdict = parts.verify_part(part, decoded, cases)
    if verdict.failure is None:
        return verdict
    return parts.Verdict(part, scrub(verdict.failure), verdict.visible, verdict.hidden)


def redact_hidden_tests(source: str, hidden: int) -> str:
    """The test cell's source with its hidden tests (if any) replaced by one summary line, at its end."""
    summary = f"# hidden tests: {hidden} checks on other inputs\n"
    redacted = HIDDEN_TESTS.sub("", source)
    if not redacted.endswith("\n"):
        redacted += "\n"
    return redacted + summary


#: The nbgrader metadata that says how a cell is graded; a learner's edits to it are undone.
GRADING_FIELDS = ("grade", "solution", "locked", "task", "points")


def release_metadata(notebook: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """Give each cell the nbgrader metadata the release gave it; what the learner edited there is ignored.

    nbgrader grades what the metadata says (a cell it marks graded, its
    points) and refuses a notebook whose metadata it does not know with a raw
    ``MissingEntry``. Here a cell whose grade_id the release has gets the
    release's metadata and cell type back; a cell with a grade_id (or
    metadata) the release does not have becomes an ordinary cell.

    Returns:
        what was undone, as sentences for the instructor's report.
    """
    released = {
        str(cell.metadata["nbgrader"]["grade_id"]): cell
        for cell in release.cells
        if isinstance(cell.get("metadata", {}).get("nbgrader"), dict)
        and "grade_id" in cell.metadata["nbgrader"]
    }
    notes = []
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        original = released.get(str(grade_id)) if grade_id is not None else None
        if original is None:
            del cell.metadata["nbgrader"]
            notes.append(
                f"cell {index} carries nbgrader metadata the release does not have"
                + (f" ('{grade_id}')" if grade_id is not None else "")
                + ": graded as an ordinary cell"
            )
            continue
        wanted = original.metadata["nbgrader"]
        edited = [key for key in GRADING_FIELDS if meta.get(key) != wanted.get(key)]
        if cell.cell_type != original.cell_type:
            edited.append("cell type")
            source = cell.source
            cell.clear()
            cell.update(nbformat.from_dict(json.loads(json.dumps(original))))
            cell.source = source
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        if edited:
            notes.append(
                f"the cell '{grade_id}' had its grading edited ({', '.join(edited)}): graded as released"
            )
        cell.metadata["nbgrader"] = nbformat.from_dict(json.loads(json.dumps(wanted)))
    return notes


#: nbgrader's ``Autograde.sanitize_preprocessors`` (0.9.6), in its order. ``make grade``'s single
#: pass runs them before the sandbox, so that the notebook it runs is the one nbgrader's own
#: ``autograde`` would hand to :class:`SandboxedExecute` (and the two meet in the cache).
#: ``tests/autograder/test_autograde.py`` fails when the installed nbgrader's list differs.
SANITIZE = (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata)


def sanitized(
    notebook: nbformat.NotebookNode, assignment: str, student: str, db_url: str, config: Config
) -> nbformat.NotebookNode:
    """The notebook as nbgrader's sanitizing step leaves it, so that the sandbox sees what autograde will."""
    resources: dict[str, Any] = {
        "nbgrader": {"notebook": assignment, "assignment": assignment, "student": student, "db_url": db_url}
    }
    notebook = nbformat.from_dict(notebook)
    for preprocessor in SANITIZE:
        notebook, resources = preprocessor(config=config).preprocess(notebook, resources)
    return notebook


class SandboxedExecute(Execute):  # type: ignore[misc]
    """nbgrader's ``Execute``, replaced: run in the sandbox, verify outside (see the module docstring).

    ``c.Execute.timeout`` (seconds per cell) keeps its meaning; the other
    limits are configured as ``c.SandboxedExecute.<name>``.
    """

    notebook_seconds = Float(300.0, help="seconds the whole notebook may run").tag(config=True)
    memory_bytes = Integer(2 * 1024**3, help="address space of the sandbox").tag(config=True)
    output_bytes = Integer(1_000_000, help="bytes of output kept per notebook").tag(config=True)
    cache_dir = Unicode(
        "autograded/.sandbox-cache", help="where sandbox results are cached (instructor side)"
    ).tag(config=True)
    course_root = Unicode(".", help="the course root, which holds the grading secret").tag(config=True)

    def limits(self) -> sandbox.Limits:
        cell_seconds = float(self.timeout) if self.timeout else sandbox.Limits().cell_seconds
        return sandbox.Limits(
            memory_bytes=int(self.memory_bytes),
            cell_seconds=cell_seconds,
            notebook_seconds=float(self.notebook_seconds),
            output_bytes=int(self.output_bytes),
        )

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]) -> tuple[Any, Any]:
        assignment = str(resources.get("nbgrader", {}).get("assignment", ""))
        parts = chapter_parts(assignment)
        key = secret.key(Path(self.course_root), assignment)
        cells, requests = sandbox_inputs(nb, parts, key)
        started = time.perf_counter()
        result, cached = run_cached(
            assignment, cells, requests, self.limits(), Path(self.cache_dir) if self.cache_dir else None
        )
        self.log.info(
            "Sandbox %s for %s: %s in %.1f s",
            "result from the cache" if cached else "run",
            assignment,
            result.status,
            time.perf_counter() - started,
        )
        fill_notebook(nb, result, parts, key)
        return nb, resources


def fill_notebook(
    nb: nbformat.NotebookNode, result: sandbox.SandboxResult, parts: Sequence[Part], key: HiddenKey
) -> None:
    """Write the sandbox's outputs and the verdicts into ``nb`` (see the module docstring)."""
    by_grade_id = {part.grade_id: part for part in parts}
    closing = closing_cells(nb)
    count = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = safe_markdown(cell.source)
        if cell.cell_type != "code":
            continue
        if index in closing:
            cell.execution_count = None
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=NOT_RUN)]
            continue
        count += 1
        cell.execution_count = count
        if not is_test_cell(cell):
            cell.outputs = [_scrub_output(o) for o in result.cell_outputs.get(index, [])]
            continue
        part = by_grade_id.get(cell.metadata["nbgrader"]["grade_id"])
        if part is None:
            cell.outputs = [
                failure_output(
                    "no automatic check is defined for this cell: the instructor grades it by hand."
                )
            ]
            continue
        verdict = verify(part, result, nb, key)
        cell.metadata["rnncourse"] = {"part": part.title}
        cell.source = redact_hidden_tests(cell.source, verdict.hidden)
        if verdict.passed:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=verdict.summary() + ".\n")]
        else:
            cell.outputs = [failure_output(str(verdict.failure), part.title)]


__all__ = [
    "SandboxedExecute",
    "chapter_parts",
    "closing_cells",
    "fill_notebook",
    "run_cached",
    "sandbox_inputs",
    "scrub",
]
