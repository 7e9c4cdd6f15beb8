"""One submission, graded in one pass: read, sanitised, run and recorded once.

:func:`grade` is all the work of one submission, and all that a worker does,
whether it is one of ``make grade``'s local processes or a Dask worker on
another machine (``rnncourse.autograder.cluster``). It takes the notebook's
bytes (a :class:`Task`) and gives back the autograded notebook and its
feedback page (a :class:`Graded`), so that it needs no shared folder: only the
gradebook's URL.

1. read: JSON, nbformat (version 3 upgraded), a test cell that appears twice
   counted once;
2. sanitise: nbgrader's own sanitising steps (``autograde.SANITIZE``: outputs
   cleared, test cells and the kernel restored from the gradebook);
3. run: the learner's cells and each part's calls in the sandbox
   (``autograde.run_cached``), and every answer verified here, outside it
   (``autograde.fill_notebook``);
4. record: nbgrader's remaining autograde steps on this same notebook
   (``record.record``: its scores, comments and late penalty into the gradebook);
5. feedback: nbgrader's ``GenerateFeedback`` steps and HTML exporter
   (``record.feedback``).

nbgrader stays the gradebook and the feedback engine; what it no longer does
is read, sanitise and walk the notebook a second time (``nbgrader autograde``
on its own still works: ``SandboxedExecute`` in its pipeline).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from traitlets.config import Config

from rnncourse.autograder import autograde, record, sandbox
from rnncourse.grading.parts import HiddenKey

MAX_NOTEBOOK_BYTES = 20 * 1024**2


@dataclass
class Outcome:
    """What happened to one submission; ``problems`` are plain sentences for the instructor."""

    student: str
    assignment: str
    graded: bool = False
    problems: list[str] = field(default_factory=list)
    cached: bool = False
    steps: dict[str, float] = field(default_factory=dict)  # seconds of each step: reading, sandbox, nbgrader

    @property
    def problem(self) -> str:
        return " ".join(self.problems)


@dataclass(frozen=True)
class Task:
    """One submission as a worker receives it: everything it needs but the gradebook."""

    student: str
    assignment: str
    file_name: str  # the learner's file, for messages
    content: bytes | None  # None: there is nothing to grade (``notes`` say why)
    timestamp: str | None = None  # nbgrader's timestamp.txt: when it was handed in
    notes: tuple[str, ...] = ()  # what choosing the file found (misnamed, several notebooks)


@dataclass(frozen=True)
class Setup:
    """What grading needs beyond the task, the same for a whole class (sent once to each worker)."""

    config: Config
    db_url: str
    limits: sandbox.Limits
    cache: Path | None  # where sandbox results are kept by content; None: never reused
    secret: bytes = b""  # the course's grading secret: each part's hidden cases are drawn from it
    releases: dict[str, str] = field(default_factory=dict)  # assignment -> its release notebook (JSON)


@dataclass
class Graded:
    """A worker's answer: the outcome, and when graded the autograded notebook and its feedback page."""

    outcome: Outcome
    notebook: str | None = None  # nbformat JSON
    feedback: str | None = None  # HTML


def read_notebook(content: bytes, name: str) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """The notebook as nbformat 4, or None with the reason in plain words."""
    if len(content) > MAX_NOTEBOOK_BYTES:
        return None, [f"{name} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB: not graded"]
    try:
        text = content.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [
            f"{name} is not a valid notebook (not JSON: {error}); ask the learner to re-download and resubmit it"
        ]
    if not isinstance(data, dict) or "nbformat" not in data:
        return None, [f"{name} is not a valid notebook (JSON without nbformat's fields)"]
    notes = []
    version = data.get("nbformat")
    try:
        invalid: dict[str, Exception] = {}
        notebook = nbformat.reads(text, as_version=4, capture_validation_error=invalid)  # validated once
        if "ValidationError" in invalid:
            raise invalid["ValidationError"]
    except Exception as error:  # nbformat raises several kinds for a malformed notebook
        return None, [f"{name} is not a valid notebook ({type(error).__name__}: {str(error)[:200]})"]
    if version != 4:
        notes.append(f"{name} is in nbformat {version}: upgraded to nbformat 4 and graded")
    return notebook, notes


def deduplicate(notebook: nbformat.NotebookNode) -> list[str]:
    """Keep the nbgrader metadata of only the last cell of each grade_id, as nbgrader's DeduplicateIds does.

    Done before nbgrader's sanitising, and by removing the metadata
    (DeduplicateIds leaves an empty one, on which OverwriteCells' restoring of
    missing cells fails).
    """
    seen: dict[str, int] = {}
    for cell in reversed(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if not isinstance(meta, dict) or "grade_id" not in meta:
            continue
        grade_id = str(meta["grade_id"])
        seen[grade_id] = seen.get(grade_id, 0) + 1
        if seen[grade_id] > 1:
            del cell.metadata["nbgrader"]
    return [
        f"the cell '{grade_id}' appears {count} times: only the last one is graded"
        for grade_id, count in sorted(seen.items())
        if count > 1
    ]


def grade(task: Task, setup: Setup) -> Graded:
    """The whole of one submission (see the module docstring); every problem goes in the outcome."""
    outcome = Outcome(task.student, task.assignment, problems=list(task.notes))
    record.keep_engines()
    record.check_schemas_once()
    started = time.perf_counter()
    notebook = _sanitised(task, setup, outcome)
    outcome.steps["reading"] = time.perf_counter() - started
    if notebook is None:
        return Graded(outcome)
    started = time.perf_counter()
    parts = autograde.chapter_parts(task.assignment)
    key = HiddenKey(setup.secret, task.assignment)
    cells, requests = autograde.sandbox_inputs(notebook, parts, key)
    try:
        result, outcome.cached = autograde.run_cached(
            task.assignment, cells, requests, setup.limits, setup.cache
        )
    except Exception as error:  # the sandbox could not start: nothing was run, nothing is recorded
        outcome.steps["sandbox"] = time.perf_counter() - started
        outcome.problems.append(f"the sandbox failed to run ({type(error).__name__}: {error}): not graded")
        return Graded(outcome)
    outcome.steps["sandbox"] = time.perf_counter() - started
    if result.status != "ok":
        outcome.problems.append(f"sandbox: {autograde.scrub(result.detail or result.status)}")
    started = time.perf_counter()
    autograde.fill_notebook(notebook, result, parts, key)
    try:
        notebook = record.record(
            notebook, task.assignment, task.student, task.timestamp, setup.config, setup.db_url
        )
    except Exception as error:  # nbgrader refused to record it: report, grade the rest
        outcome.steps["nbgrader"] = time.perf_counter() - started
        outcome.problems.append(
            f"nbgrader could not record it ({type(error).__name__}: {autograde.scrub(str(error))[:300]})"
        )
        return Graded(outcome)
    outcome.graded = True
    graded = Graded(outcome, nbformat.writes(notebook))
    try:
        graded.feedback = record.feedback(notebook, task.assignment, task.student, setup.config, setup.db_url)
    except Exception as error:
        outcome.problems.append(
            f"graded, but no feedback ({type(error).__name__}: {autograde.scrub(str(error))[:300]})"
        )
    outcome.steps["nbgrader"] = time.perf_counter() - started
    return graded


def _sanitised(task: Task, setup: Setup, outcome: Outcome) -> nbformat.NotebookNode | None:
    """The notebook as nbgrader's sanitising leaves it, or None (the reason in ``outcome``)."""
    if task.content is None:
        return None
    notebook, notes = read_notebook(task.content, task.file_name)
    outcome.problems += notes
    if notebook is None:
        return None
    outcome.problems += deduplicate(notebook)
    release = setup.releases.get(task.assignment)
    if release is not None:  # the learner's edits to nbgrader's metadata are undone, and said
        outcome.problems += autograde.release_metadata(notebook, nbformat.reads(release, as_version=4))
    try:
        return autograde.sanitized(notebook, task.assignment, task.student, setup.db_url, setup.config)
    except Exception as error:  # nbgrader's own checks refused it: report, grade the rest
        outcome.problems.append(
            f"nbgrader cannot read this notebook's cells ({type(error).__name__}: "
            f"{autograde.scrub(str(error))[:200]})"
        )
        return None
