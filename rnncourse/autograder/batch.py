"""``make grade``: autograde a class, every submission in its own sandbox.

``python -m rnncourse.autograder.batch`` from the course root:

1. with ``--zip FILE``, the notebooks of a zip named as nbgrader's
   ``zip_collect`` expects (``FileNameCollectorPlugin.named_regexp``) are
   put into ``submitted/<student>/<assignment>/``;
2. nbgrader's ``generate_assignment`` (its API, in this process) records
   each assignment of ``solutions/`` that someone submitted (its test cells)
   in the gradebook;
3. every ``submitted/<student>/<assignment>/`` is graded in a pool of
   ``--jobs`` worker processes (every core by default), each worker taking
   the next submission as soon as it is done with one, with a progress bar.
   For one submission a worker
   - checks and stages it (JSON, nbformat; version 3 is upgraded) under
     ``autograded/.staging/`` as ``<assignment>.ipynb``: a misnamed notebook
     (``ch01_recurrence (1).ipynb``) is reported by name and graded;
     ``submitted/`` itself is never modified;
   - runs it in its sandbox, the result cached by what was sent
     (``autograded/.sandbox-cache/``), see ``rnncourse.autograder.autograde``;
   - has nbgrader's autograde verify and record the grades (its
     ``SandboxedExecute`` finds the cached result) and generate_feedback
     write the HTML (``rnncourse.autograder.record``);
4. MathJax is copied to ``feedback/mathjax/`` and nbgrader's CSV export
   writes ``grades.csv``;
5. a table of every submission's score and problems is printed.

Grading again gives the same grades from the submissions alone: nbgrader's
``autograde --force`` rewrites every automatic score. The exit status is 0
when every submission was graded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import errno
import json
import multiprocessing
import os
import re
import shutil
import stat
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import nbformat
from nbgrader.apps import NbGraderAPI
from tqdm import tqdm
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from rnncourse.autograder import autograde, record, sandbox, secret
from rnncourse.grading.parts import HiddenKey

STAGING = Path("autograded") / ".staging"
RELEASE = (
    Path("autograded") / ".release"
)  # where registering writes its release: never the tracked exercises/
MAX_NOTEBOOK_BYTES = 20 * 1024**2


@dataclass
class Outcome:
    """What happened to one submission; ``problems`` are plain sentences for the instructor."""

    student: str
    assignment: str
    graded: bool = False
    problems: list[str] = field(default_factory=list)
    cached: bool = False
    steps: dict[str, float] = field(default_factory=dict)  # seconds of each step: staging, sandbox, nbgrader

    @property
    def problem(self) -> str:
        return " ".join(self.problems)


# -- configuration -----------------------------------------------------------------------


def load_config(root: Path) -> Config:
    """The course's ``nbgrader_config.py``, as nbgrader reads it."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def gradebook_url(root: Path, config: Config) -> str:
    """The gradebook's SQLAlchemy URL; a relative SQLite path is relative to the course root."""
    url = str(config.CourseDirectory.get("db_url", "") or "sqlite:///gradebook.db")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(root / url[len(prefix) :])
    return url


# -- collecting and staging ----------------------------------------------------------------


def collect_zip(archive: Path, root: Path, assignment: str, config: Config) -> list[str]:
    """Put the notebooks of ``archive`` into ``submitted/<student>/<assignment>/``, as zip_collect would.

    Each member's file name is matched with ``FileNameCollectorPlugin.named_regexp``
    (nbgrader's setting; ``student_id`` and ``file_id`` groups). Only the base
    name of a member is used: a member cannot write outside its folder.

    Returns:
        what could not be collected, as sentences.
    """
    pattern = str(config.FileNameCollectorPlugin.get("named_regexp", "") or "")
    if not pattern:
        raise SystemExit(
            "--zip needs c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py "
            "(nbgrader's zip_collect naming, with (?P<student_id>...) and (?P<file_id>...) groups)"
        )
    problems = []
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            name = PurePath(member.filename).name
            if member.is_dir() or not name.endswith(".ipynb"):
                continue
            match = re.match(pattern, name)
            if match is None or not match.groupdict().get("student_id"):
                problems.append(f"{member.filename}: the name does not match named_regexp, not collected")
                continue
            student = match.group("student_id")
            file_id = match.groupdict().get("file_id") or assignment
            file_id = PurePath(file_id).name
            file_id = file_id if file_id.endswith(".ipynb") else file_id + ".ipynb"
            if member.file_size > MAX_NOTEBOOK_BYTES:
                problems.append(
                    f"{member.filename}: larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB, not collected"
                )
                continue
            folder = root / "submitted" / student / assignment
            problem = linked_folder(root, student, assignment)
            if problem:
                problems.append(f"{member.filename}: {problem}, not collected")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            try:
                write_new(folder / file_id, zipped.read(member))
                timestamp = match.groupdict().get("timestamp")
                if timestamp:
                    write_new(folder / "timestamp.txt", timestamp.encode())
            except OSError as error:  # a link or a folder already stands at that name: never written through
                problems.append(
                    f"{member.filename}: {folder / file_id} cannot be written ({error.strerror}), not collected"
                )
    return problems


# -- reading only regular files of a student's own folder ------------------------------------


def linked_folder(root: Path, student: str, assignment: str) -> str:
    """Why ``submitted/<student>/<assignment>`` may not be used (a symbolic link on the way), or ""."""
    for path in (root / "submitted" / student, root / "submitted" / student / assignment):
        if path.is_symlink():
            return f"{path.relative_to(root)} is a symbolic link (hand in the folder itself)"
    return ""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file itself, never what a link points to.

    Raises:
        OSError: with a plain ``strerror`` when it is a link, a folder, a FIFO or a device, or larger than ``limit``.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(error.errno, "it is a symbolic link, which is never followed") from None
        raise
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        if status.st_size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit // 1024**2} MB")
        return handle.read(limit + 1)


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, replacing a regular file but never writing through a link."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def choose_notebook(folder: Path, assignment: str) -> tuple[Path | None, list[str]]:
    """The notebook to grade in one submission folder, and what to report about the choice."""
    expected = folder / f"{assignment}.ipynb"
    links = sorted(
        p.name for p in folder.glob("*.ipynb") if p.is_symlink() or (p.exists() and not p.is_file())
    )
    if links:
        return None, [
            f"{', '.join(links)}: a symbolic link or not a regular file; refused, not graded "
            "(hand in the notebook itself: archives and `cp -a` keep links)"
        ]
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if expected in notebooks:
        others = [p.name for p in notebooks if p != expected]
        return expected, ([f"also holds {', '.join(others)} (not graded)"] if others else [])
    if not notebooks:
        names = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        return None, [f"no .ipynb notebook in the submission (it holds {names})"]
    chosen = max(notebooks, key=lambda p: (p.stat().st_mtime, p.name))
    note = f"the notebook is named '{chosen.name}', not '{assignment}.ipynb': graded as {assignment}.ipynb"
    if len(notebooks) > 1:
        note += f" (the newest of {', '.join(p.name for p in notebooks)})"
    return chosen, [note]


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """The notebook as nbformat 4, or None with the reason in plain words."""
    try:
        data = read_regular(path, MAX_NOTEBOOK_BYTES)
    except OSError as error:
        return None, [f"{path.name} cannot be read: {error.strerror}; not graded"]
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [
            f"{path.name} is not a valid notebook (not JSON: {error}); "
            "ask the learner to re-download and resubmit it"
        ]
    if not isinstance(content, dict) or "nbformat" not in content:
        return None, [f"{path.name} is not a valid notebook (JSON without nbformat's fields)"]
    notes = []
    version = content.get("nbformat")
    try:
        notebook = nbformat.reads(json.dumps(content), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for a malformed notebook
        return None, [f"{path.name} is not a valid notebook ({type(error).__name__}: {str(error)[:200]})"]
    if version != 4:
        notes.append(f"{path.name} is in nbformat {version}: upgraded to nbformat 4 and graded")
    return notebook, notes


def stage(root: Path, assignment: str, student: str, outcome: Outcome) -> nbformat.NotebookNode | None:
    """Copy one submission to ``autograded/.staging/<student>/<assignment>/<assignment>.ipynb``."""
    folder = root / "submitted" / student / assignment
    target = root / STAGING / student / assignment
    shutil.rmtree(target, ignore_errors=True)
    linked = linked_folder(root, student, assignment)
    if linked:
        outcome.problems.append(f"{linked}: refused")
        return None
    chosen, notes = choose_notebook(folder, assignment)
    outcome.problems += notes
    if chosen is None:
        return None
    notebook, notes = read_notebook(chosen)
    outcome.problems += notes
    if notebook is None:
        return None
    outcome.problems += deduplicate(notebook)
    release = read_release(root, assignment)
    if release is not None:
        outcome.problems += autograde.release_metadata(notebook, release)
    target.mkdir(parents=True)
    nbformat.write(notebook, target / f"{assignment}.ipynb")
    if (folder / "timestamp.txt").exists() or (folder / "timestamp.txt").is_symlink():
        try:
            (target / "timestamp.txt").write_bytes(read_regular(folder / "timestamp.txt", 1024))
        except OSError as error:
            outcome.problems.append(f"timestamp.txt ignored: {error.strerror}")
    return notebook


def read_release(root: Path, assignment: str) -> nbformat.NotebookNode | None:
    """The release notebook that registering the assignment wrote (``RELEASE``), or None before it did."""
    path = root / RELEASE / assignment / f"{assignment}.ipynb"
    return nbformat.read(path, as_version=4) if path.is_file() else None


def deduplicate(notebook: nbformat.NotebookNode) -> list[str]:
    """Keep the nbgrader metadata of only the last cell of each grade_id, as nbgrader's DeduplicateIds does.

    Done before nbgrader sees the notebook, and by removing the metadata
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


# -- grading -----------------------------------------------------------------------------


@dataclass
class Grader:
    """What grading one submission needs, loaded once before the workers are forked."""

    root: Path
    config: Config
    db_url: str
    limits: sandbox.Limits
    cache: Path
    api: NbGraderAPI
    secret: bytes = b""  # the course's grading secret (grade_all loads it): hidden cases are drawn from it

    def grade(self, student: str, assignment: str) -> Outcome:
        """Stage, sandbox, then record one submission with nbgrader; every problem goes in the outcome."""
        outcome = Outcome(student, assignment)
        # a stale result must not pass for a new one
        shutil.rmtree(self.root / "autograded" / student / assignment, ignore_errors=True)
        started = time.perf_counter()
        notebook = self._staged(outcome)
        outcome.steps["staging"] = time.perf_counter() - started
        if notebook is None:
            outcome.problems.append("not graded")
            return outcome
        started = time.perf_counter()
        self._sandbox(outcome, notebook)
        outcome.steps["sandbox"] = time.perf_counter() - started
        started = time.perf_counter()
        done = record.record_one(self.api, assignment, student)
        outcome.steps["nbgrader"] = time.perf_counter() - started
        outcome.graded = done.graded and _graded(self.root, assignment, student)
        if not outcome.graded:
            outcome.problems.append("nbgrader could not record it: " + autograde.scrub(done.error)[:300])
        elif not done.feedback:
            outcome.problems.append("graded, but no feedback: " + autograde.scrub(done.error)[:300])
        return outcome

    def _staged(self, outcome: Outcome) -> nbformat.NotebookNode | None:
        """The staged notebook as nbgrader's sanitizing leaves it, or None (the reason in ``outcome``)."""
        student, assignment = outcome.student, outcome.assignment
        notebook = stage(self.root, assignment, student, outcome)
        if notebook is None:
            return None
        try:
            return autograde.sanitized(notebook, assignment, student, self.db_url, self.config)
        except Exception as error:  # nbgrader's own checks refused it: report, grade the rest
            shutil.rmtree(self.root / STAGING / student / assignment, ignore_errors=True)
            outcome.problems.append(
                f"nbgrader cannot read this notebook's cells ({type(error).__name__}: "
                f"{autograde.scrub(str(error))[:200]})"
            )
            return None

    def _sandbox(self, outcome: Outcome, notebook: nbformat.NotebookNode) -> None:
        """Run (or find in the cache) the notebook's sandbox, for nbgrader's pass to find."""
        key = HiddenKey(self.secret, outcome.assignment)
        cells, requests = autograde.sandbox_inputs(notebook, autograde.chapter_parts(outcome.assignment), key)
        try:
            result, outcome.cached = autograde.run_cached(
                outcome.assignment, cells, requests, self.limits, self.cache
            )
        except Exception as error:  # the sandbox could not start: nbgrader's pass reports it too
            outcome.problems.append(f"the sandbox failed to run: {type(error).__name__}: {error}")
            return
        if result.status != "ok":
            outcome.problems.append(f"sandbox: {autograde.scrub(result.detail or result.status)}")


_WORKER_GRADER: Grader | None = None


def _start_worker(grader: Grader) -> None:
    global _WORKER_GRADER
    _WORKER_GRADER = grader


def _grade_in_worker(student: str, assignment: str) -> Outcome:
    if _WORKER_GRADER is None:
        raise RuntimeError("the worker process was not started by grade_in_workers")
    return _WORKER_GRADER.grade(student, assignment)


def _crashed(student: str, assignment: str, error: BaseException) -> Outcome:
    outcome = Outcome(student, assignment)
    outcome.problems.append(f"grading crashed ({type(error).__name__}: {autograde.scrub(str(error))[:200]})")
    return outcome


def grade_in_workers(grader: Grader, submissions: list[tuple[str, str]], workers: int) -> Iterator[Outcome]:
    """:meth:`Grader.grade` of every (student, assignment), ``workers`` processes at a time, as they finish.

    Each worker takes the next submission as soon as it is done with one, so
    that a slow notebook holds one core and not a whole phase. The workers
    are forked after nbgrader and the checks are loaded (nothing is imported
    twice). A worker that dies takes no other grade with it: the submissions
    it left are graded again, each in a process of its own.
    """
    if workers <= 1 or len(submissions) <= 1 or sys.platform != "linux":
        for student, assignment in submissions:
            yield grader.grade(student, assignment)
        return
    context = multiprocessing.get_context("fork")

    def pool(size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(size, mp_context=context, initializer=_start_worker, initargs=(grader,))

    again: list[tuple[str, str]] = []
    with pool(min(workers, len(submissions))) as shared:
        futures = {shared.submit(_grade_in_worker, *submission): submission for submission in submissions}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                again.append(futures[future])
            except Exception as error:  # reported for this one; the others go on
                yield _crashed(*futures[future], error)
    for student, assignment in again:
        with pool(1) as alone:
            try:
                yield alone.submit(_grade_in_worker, student, assignment).result()
            except Exception as error:
                yield _crashed(student, assignment, error)


def _graded(root: Path, assignment: str, student: str) -> bool:
    return (root / "autograded" / student / assignment / f"{assignment}.ipynb").is_file()


def copy_mathjax(root: Path) -> None:
    """MathJax 3 (one self-contained file: TeX input, SVG output) for the feedback pages."""
    from mathjax import __file__ as mathjax_init

    source = Path(mathjax_init).parent / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    target = root / "feedback" / "mathjax" / "tex-svg-full.js"
    if source.is_file() and not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)


def grade_all(
    root: Path,
    workers: int,
    archive: Path | None = None,
    cell_timeout: float | None = None,
    zip_assignment: str | None = None,
) -> list[Outcome]:
    """Grade every submission under ``root/submitted``; see the module docstring."""
    started = time.perf_counter()
    config = load_config(root)
    try:
        course_secret = secret.load(root)
    except secret.MissingSecret as error:
        raise SystemExit(str(error)) from None
    config.SandboxedExecute.course_root = str(root)
    config.CourseDirectory.release_directory = str(RELEASE)  # registering leaves exercises/ untouched
    if cell_timeout is not None:
        config.Execute.timeout = int(cell_timeout)
    db_url = gradebook_url(root, config)
    executor = autograde.SandboxedExecute(config=config)
    assignments = sorted(
        p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    collect_problems: list[str] = []
    if archive is not None:
        if zip_assignment is None and len(assignments) != 1:
            raise SystemExit(
                f"--zip: say which assignment it holds with --assignment ({', '.join(assignments)})"
            )
        collect_problems = collect_zip(archive, root, zip_assignment or assignments[0], config)
    # Only the assignments someone submitted are registered (and graded) in this run.
    submissions = [
        (student.parent.name, student.name)
        for assignment in assignments
        for student in sorted((root / "submitted").glob(f"*/{assignment}"))
        if student.is_dir()
    ]
    api = record.course_api(root, config, db_url, str(STAGING))
    for assignment in sorted({a for _, a in submissions}):
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise SystemExit(
                f"nbgrader could not register {assignment}:\n{str(result.get('error') or result.get('log'))[-2000:]}"
            )
    grader = Grader(
        root,
        config,
        record.with_lock_wait(db_url),
        executor.limits(),
        root / executor.cache_dir,
        api,
        course_secret,
    )
    before = time.perf_counter() - started
    started = time.perf_counter()
    outcomes: dict[tuple[str, str], Outcome] = {}
    tqdm.monitor_interval = 0  # tqdm's documented switch for its monitor thread: none runs when workers fork
    with tqdm(total=len(submissions), desc="grading", unit="submission", file=sys.stderr) as bar:
        for outcome in grade_in_workers(grader, submissions, workers):
            outcomes[(outcome.student, outcome.assignment)] = outcome
            bar.update()
    during = time.perf_counter() - started
    started = time.perf_counter()
    copy_mathjax(root)
    try:
        record.export_csv(db_url, root / "grades.csv", config)
    except Exception as error:
        raise SystemExit(f"exporting grades.csv failed: {type(error).__name__}: {error}") from error
    after = time.perf_counter() - started
    done = [outcomes[s] for s in submissions]
    steps = {step: sum(o.steps.get(step, 0.0) for o in done) for step in ("staging", "sandbox", "nbgrader")}
    print(
        f"graded {len(done)} submissions ({sum(o.cached for o in done)} sandbox results from the cache) "
        f"with {workers} workers: {before:.1f} s before the workers, {during:.1f} s in them, "
        f"{after:.1f} s after; summed over submissions: staging {steps['staging']:.1f} s, "
        f"sandboxes {steps['sandbox']:.1f} s, nbgrader {steps['nbgrader']:.1f} s",
        file=sys.stderr,
    )
    for problem in collect_problems:
        print(f"zip: {problem}", file=sys.stderr)
    return done


def report(root: Path, outcomes: list[Outcome]) -> str:
    """The table printed at the end: score and problems of every submission."""
    scores = {}
    grades = root / "grades.csv"
    if grades.exists():
        with grades.open(newline="") as handle:
            for row in csv.DictReader(handle):
                scores[(row["student_id"], row["assignment"])] = (
                    f"{float(row['score']):g} / {float(row['max_score']):g}"
                )
    lines = [f"{'student':<24} {'assignment':<20} {'score':>10}  problem"]
    for o in outcomes:
        score = scores.get((o.student, o.assignment), "-") if o.graded else "not graded"
        lines.append(f"{o.student:<24} {o.assignment:<20} {score:>10}  {o.problem}")
    graded = sum(o.graded for o in outcomes)
    lines.append(
        f"{graded} of {len(outcomes)} submissions graded; grades in grades.csv, feedback in feedback/."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="course root (holds nbgrader_config.py)"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="sandboxes at a time (default: every core)"
    )
    parser.add_argument("--zip", type=Path, help="a zip of notebooks named as nbgrader's zip_collect expects")
    parser.add_argument("--assignment", help="the assignment a --zip holds (when there are several)")
    parser.add_argument(
        "--cell-timeout", type=float, help="seconds a cell may run (default: c.Execute.timeout)"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "nbgrader_config.py").exists():
        parser.error(f"{root} has no nbgrader_config.py: run this from the course root")
    if args.zip is None and not (root / "submitted").is_dir():
        parser.error(f"nothing to grade: put submissions in {root / 'submitted'}/<student>/<assignment>/")
    problem = sandbox.sandbox_available()
    if problem:
        parser.error(f"the sandbox is not available: {problem}")
    outcomes = grade_all(root, args.jobs, args.zip, args.cell_timeout, args.assignment)
    print(report(root, outcomes))
    return 0 if all(o.graded for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
