"""Recording grades and writing feedback with nbgrader, one student at a time, on every core.

nbgrader's command-line passes take one notebook after another, and each
command pays nbgrader's start-up (3 s) again. Here nbgrader's own API
(``NbGraderAPI.autograde`` and ``generate_feedback`` for one student) runs
in worker processes forked from the grader after nbgrader is imported, so
the students of a class are recorded ``workers`` at a time and nothing is
imported twice. Every grade is the same whichever worker records it: the
sandboxes have already run (``SandboxedExecute`` finds their cached
results), and each worker only verifies and writes. The processes share
the SQLite gradebook, waiting for its lock (``SQLITE_LOCK_WAIT``).
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from nbgrader.utils import capture_log, temp_attrs
from traitlets.config import Config

SQLITE_LOCK_WAIT = 120  # seconds a process waits for the gradebook's lock


@dataclass(frozen=True)
class Recorded:
    """What nbgrader did for one student: ``error`` is empty when both steps succeeded."""

    student: str
    graded: bool
    feedback: bool
    error: str
    reused_sandbox: bool


def with_lock_wait(db_url: str) -> str:
    """A SQLite URL whose connections wait for a lock held by another process."""
    if db_url.startswith("sqlite:///") and "?" not in db_url:
        return f"{db_url}?timeout={SQLITE_LOCK_WAIT}"
    return db_url


def course_api(root: Path, config: Config, db_url: str, submitted: str) -> NbGraderAPI:
    """nbgrader's API for the course at ``root``, reading submissions from ``submitted``."""
    config = Config(config)  # a copy: the caller's stays as it was
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = with_lock_wait(db_url)
    config.CourseDirectory.submitted_directory = submitted
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


_WORKER_API: NbGraderAPI | None = None


def _start_worker(api: NbGraderAPI) -> None:
    global _WORKER_API
    _WORKER_API = api


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors[-1] if errors else lines[-1] if lines else "no output").strip()


def record_one(api: NbGraderAPI, assignment: str, student: str) -> Recorded:
    """Autograde one student's staged notebook, then write its feedback."""
    graded: dict[str, Any] = api.autograde(assignment, student, force=True, create=True)
    log = str(graded.get("log", ""))
    reused = "Sandbox result from the cache" in log
    if not graded.get("success"):
        return Recorded(student, False, False, _last_line(str(graded.get("error") or log)), reused)
    # Not api.generate_feedback: it forces nbgrader's own template, and ours names the parts.
    with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student):
        writer = GenerateFeedback(coursedir=api.coursedir, parent=api)
        writer.force = True
        feedback: dict[str, Any] = capture_log(writer)
    if not feedback.get("success"):
        error = _last_line(str(feedback.get("error") or feedback.get("log", "")))
        return Recorded(student, True, False, error, reused)
    return Recorded(student, True, True, "", reused)


def _record_in_worker(assignment: str, student: str) -> Recorded:
    if _WORKER_API is None:
        raise RuntimeError("the worker process was not started by record_all")
    return record_one(_WORKER_API, assignment, student)


def record_all(api: NbGraderAPI, assignment: str, students: list[str], workers: int) -> Iterator[Recorded]:
    """:func:`record_one` for every student, ``workers`` processes at a time, in order of completion."""
    if workers <= 1 or len(students) <= 1 or sys.platform != "linux":
        for student in students:
            yield record_one(api, assignment, student)
        return
    # fork: the workers inherit nbgrader, the API and the loaded checks instead of importing them again
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(students)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(api,),
    ) as pool:
        futures = [pool.submit(_record_in_worker, assignment, student) for student in students]
        for future, student in zip(futures, students, strict=True):
            try:
                yield future.result()
            except Exception as error:  # a worker died: report this student, record the others
                yield Recorded(student, False, False, f"{type(error).__name__}: {error}", False)


def export_csv(db_url: str, path: Path, config: Config) -> None:
    """nbgrader's CSV export of the whole gradebook to ``path`` (what ``nbgrader export`` writes)."""
    plugin = CsvExportPlugin(config=config)
    plugin.to = str(path)
    with Gradebook(with_lock_wait(db_url)) as gradebook:
        plugin.export(gradebook)
