"""Recording grades and writing feedback with nbgrader's API, one student at a time.

nbgrader's command-line passes take one notebook after another, and each
command pays nbgrader's start-up (3 s) again. Here nbgrader's own API
(``NbGraderAPI.autograde``, then ``GenerateFeedback`` for one student) is
called by ``make grade``'s worker processes (``rnncourse.autograder.batch``),
forked after nbgrader is imported, so nothing is imported twice. Every grade
is the same whichever worker records it: the sandbox has already run
(``SandboxedExecute`` finds its cached result), and nbgrader only verifies
and writes. The processes share the SQLite gradebook, waiting for its lock
(``SQLITE_LOCK_WAIT``).
"""

from __future__ import annotations

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


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors[-1] if errors else lines[-1] if lines else "no output").strip()


def record_one(api: NbGraderAPI, assignment: str, student: str) -> Recorded:
    """Autograde one student's staged notebook, then write its feedback."""
    graded: dict[str, Any] = api.autograde(assignment, student, force=True, create=True)
    log = str(graded.get("log", ""))
    if not graded.get("success"):
        return Recorded(student, False, False, _last_line(str(graded.get("error") or log)))
    # Not api.generate_feedback: it forces nbgrader's own template, and ours names the parts.
    with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student):
        writer = GenerateFeedback(coursedir=api.coursedir, parent=api)
        writer.force = True
        feedback: dict[str, Any] = capture_log(writer)
    if not feedback.get("success"):
        error = _last_line(str(feedback.get("error") or feedback.get("log", "")))
        return Recorded(student, True, False, error)
    return Recorded(student, True, True, "")


def export_csv(db_url: str, path: Path, config: Config) -> None:
    """nbgrader's CSV export of the whole gradebook to ``path`` (what ``nbgrader export`` writes)."""
    plugin = CsvExportPlugin(config=config)
    plugin.to = str(path)
    with Gradebook(with_lock_wait(db_url)) as gradebook:
        plugin.export(gradebook)
