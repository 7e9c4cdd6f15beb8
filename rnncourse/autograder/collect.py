"""Collecting a learning platform's zip of submissions into ``submitted/<student>/<assignment>/``.

``make grade ARGS="--zip downloads.zip --assignment ch01_recurrence"`` reads each
notebook of the zip by its name, with nbgrader's ``FileNameCollectorPlugin``
(the regular expression ``named_regexp``, its ``student_id``, ``file_id`` and
``timestamp`` groups), as nbgrader's ``zip_collect`` does. The patterns of the
common platforms are in :data:`PLATFORMS` (``--platform``; or set your own
``c.FileNameCollectorPlugin.named_regexp`` in ``nbgrader_config.py``). A
pattern may hold ``{title}``: the assignment's name on the platform, which
starts every file name (``--title``, the assignment id by default). Knowing it
is what lets a learner id hold underscores: ``Exercise 1_ada_lovelace_attempt_...``
can only be split one way once ``Exercise 1`` is known.

Rules, which nbgrader's ``zip_collect`` follows too:

- several attempts of one learner: the newest by its timestamp is kept (from
  the name when the platform writes one, else the zip entry's own time), and
  every attempt it replaced is reported;
- a learner id keeps every character the platform wrote (letters, digits,
  ``.``, ``_``, ``-``, ``@``, ``+``); an id with any other character (a ``/``, a
  space) is not collected, and reported;
- everything not collected is reported with its reason: a name the pattern does
  not match, a file that is not a notebook, one too large.

Only a member's name is read: nothing is extracted to a path the zip chose.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import parse_utc
from traitlets.config import Config

from rnncourse.autograder import files

MAX_NOTEBOOK_BYTES = 20 * 1024**2
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")
FILE_NAME = re.compile(r"[^/\\\x00]+")
DASHED_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")


@dataclass(frozen=True)
class Platform:
    """How one learning platform names the files of its 'download all submissions' zip."""

    pattern: str  # nbgrader's named_regexp, with {title} where the assignment's name goes
    example: str  # a realistic member name, for the instructor guide and the tests
    where: str  # how to get the zip, and what the ids are


PLATFORMS: dict[str, Platform] = {
    "blackboard": Platform(
        pattern=(
            r"{title}_(?P<student_id>.+?)_attempt_(?P<timestamp>\d{{4}}(?:-\d\d){{5}})"
            r"(?:_(?P<file_id>[^/]+?))?\.ipynb"
        ),
        example="Exercise 1_ada_lovelace_attempt_2026-02-06-16-59-12_ch01_recurrence.ipynb",
        where=(
            "Grade Centre, the assignment's column, Assignment File Download; one file per attempt, "
            "named by the assignment's title, the username and the attempt's time"
        ),
    ),
    "canvas": Platform(
        pattern=(
            r"(?P<last_name>[a-z]+)(?:_(?P<late>LATE))?_(?P<student_id>\d+)_(?P<submission_id>\d+)"
            r"_(?P<file_id>[^/]+?)\.ipynb"
        ),
        example="lovelaceada_LATE_48213_2219876_ch01_recurrence-1.ipynb",
        where=(
            "the assignment's page, Download Submissions; the learner id is Canvas's numeric user "
            "id, the name carries no time (the zip entry's time is used) and LATE marks late work"
        ),
    ),
    "moodle": Platform(
        pattern=(
            r"(?P<full_name>[^/_]+)_(?P<student_id>\d+)_assignsubmission_file_/?(?P<file_id>[^/]+?)\.ipynb"
        ),
        example="Ada Lovelace_48213_assignsubmission_file_/ch01_recurrence.ipynb",
        where=(
            "the assignment's page, View all submissions, Download all submissions (in folders or "
            "not); the learner id is Moodle's participant number, the zip entry's time is used"
        ),
    ),
}


@dataclass
class Attempt:
    member: str  # the name inside the zip
    student: str
    file_name: str
    timestamp: datetime  # UTC, no tzinfo, as nbgrader stores it
    timed_by: str  # "its name" or "the zip entry"


@dataclass
class Collection:
    """What a zip gave: who was collected, which attempts were replaced, what was left and why."""

    collected: dict[str, Attempt] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # collected learners who are not on the roster

    def report(self) -> list[str]:
        lines = [f"collected {len(self.collected)} learners' notebooks"]
        lines += [f"replaced: {line}" for line in self.replaced]
        lines += [f"not collected: {line}" for line in self.skipped]
        lines += [f"not on the roster (collected all the same): {line}" for line in self.unknown]
        return lines


def named_regexp(config: Config, platform: str | None, title: str) -> str:
    """The pattern to read names with: the platform's, or nbgrader_config.py's, with {title} filled in."""
    if platform is not None:
        if platform not in PLATFORMS:
            raise SystemExit(f"--platform {platform}: known platforms are {', '.join(sorted(PLATFORMS))}")
        pattern = PLATFORMS[platform].pattern
    else:
        pattern = str(config.FileNameCollectorPlugin.get("named_regexp", "") or "")
    if not pattern:
        raise SystemExit(
            "--zip needs --platform (" + ", ".join(sorted(PLATFORMS)) + ") or "
            "c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py"
        )
    return pattern.replace("{title}", re.escape(title)).replace("{{", "{").replace("}}", "}")


def _matcher(pattern: str) -> FileNameCollectorPlugin:
    # nbgrader's plugin reads each name; the pattern must match the whole name (no greedy prefix
    # swallowing part of an id, nothing left over)
    plugin = FileNameCollectorPlugin()
    plugin.named_regexp = pattern if pattern.endswith("$") else f"(?:{pattern})$"
    plugin.log.disabled = True  # it logs every name that does not match: those are reported here
    return plugin


def _timestamp(text: str) -> datetime:
    dashed = DASHED_TIME.fullmatch(text)
    if dashed:
        year, month, day, hour, minute, second = dashed.groups()
        text = f"{year}-{month}-{day} {hour}:{minute}:{second}"
    return parse_utc(text)


def read_attempts(archive: Path, pattern: str) -> tuple[list[Attempt], list[str]]:
    """Every notebook of the zip that ``pattern`` names, and why each other member was left."""
    matcher = _matcher(pattern)
    attempts, skipped = [], []
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if not name.endswith(".ipynb"):
                skipped.append(f"{name}: not a notebook (.ipynb)")
                continue
            groups = matcher.collect(name) or matcher.collect(PurePosixPath(name).name)
            if not groups or not groups.get("student_id"):
                skipped.append(f"{name}: the name does not match the pattern {pattern}")
                continue
            student = groups["student_id"]
            if not STUDENT_ID.fullmatch(student) or student in (".", ".."):
                skipped.append(f"{name}: the learner id {student!r} has characters an id cannot hold")
                continue
            if info.file_size > MAX_NOTEBOOK_BYTES:
                skipped.append(f"{name}: larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB")
                continue
            file_name = PurePosixPath(groups.get("file_id") or "submission").name
            if not FILE_NAME.fullmatch(file_name) or file_name in (".", ".."):
                file_name = "submission"
            if groups.get("timestamp"):
                try:
                    when, timed_by = _timestamp(groups["timestamp"]), "its name"
                except Exception:  # dateutil raises several kinds
                    skipped.append(f"{name}: the time {groups['timestamp']!r} in its name is not a date")
                    continue
            else:
                when, timed_by = datetime(*info.date_time), "the zip entry"
            attempts.append(Attempt(name, student, file_name + ".ipynb", when, timed_by))
    return attempts, skipped


def collect_zip(
    archive: Path,
    root: Path,
    assignment: str,
    pattern: str,
    roster: set[str] | None = None,
) -> Collection:
    """Put the newest attempt of each learner in ``archive`` into ``root/submitted/<student>/<assignment>/``.

    ``roster``: the gradebook's learners, when there is a roster; a collected
    learner who is not on it is reported (and collected all the same).
    """
    attempts, skipped = read_attempts(archive, pattern)
    found = Collection(skipped=skipped)
    by_student: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_student.setdefault(attempt.student, []).append(attempt)
    with zipfile.ZipFile(archive) as zipped:
        for student, theirs in sorted(by_student.items()):
            theirs.sort(key=lambda a: (a.timestamp, a.member))
            newest = theirs[-1]
            for older in theirs[:-1]:
                same = (
                    " (the same time: the later name in the zip is kept)"
                    if older.timestamp == newest.timestamp
                    else ""
                )
                found.replaced.append(
                    f"{student}: {older.member} ({older.timestamp:%Y-%m-%d %H:%M:%S} by {older.timed_by}) by "
                    f"the newer {newest.member} ({newest.timestamp:%Y-%m-%d %H:%M:%S}){same}"
                )
            folder = root / "submitted" / student / assignment
            linked = files.linked_folder(root, student, assignment)
            if linked:  # never written through
                found.skipped.append(f"{newest.member}: {linked}, not collected")
                continue
            stamp = folder / "timestamp.txt"
            if stamp.is_file() and not stamp.is_symlink():
                try:
                    before = parse_utc(stamp.read_text().strip())
                except Exception:
                    before = None
                if before is not None and before > newest.timestamp:
                    found.replaced.append(
                        f"{student}: kept the notebook already in {folder.relative_to(root)} "
                        f"({before:%Y-%m-%d %H:%M:%S}), newer than {newest.member}"
                    )
                    continue
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.ipynb"):
                old.unlink()  # a link itself is removed, never what it points to
            try:
                files.write_new(folder / newest.file_name, zipped.read(newest.member))
                files.write_new(stamp, f"{newest.timestamp:%Y-%m-%d %H:%M:%S} UTC\n".encode())
            except OSError as error:  # a link or a folder stands at that name: never written through
                found.skipped.append(f"{newest.member}: cannot be written ({error.strerror}), not collected")
                continue
            found.collected[student] = newest
            if roster is not None and student not in roster:
                found.unknown.append(f"{student} ({newest.member})")
    return found
