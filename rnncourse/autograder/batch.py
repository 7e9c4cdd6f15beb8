"""``make grade``: autograde a class, every submission in its own sandbox, each read and run once.

``python -m rnncourse.autograder.batch`` from the course root:

1. with ``--zip FILE``, a learning platform's zip is collected into
   ``submitted/<student>/<assignment>/`` (``rnncourse.autograder.collect``: the
   newest attempt of each learner, everything else reported);
2. nbgrader's ``generate_assignment`` (its API, in this process) records each
   assignment that someone submitted or that has a due date (``c.Deadlines.due``)
   in the gradebook, with that due date;
3. every ``submitted/<student>/<assignment>/`` (or only ``--student`` and
   ``--assignment``) is graded by :func:`rnncourse.autograder.submission.grade`,
   in one pass, in a pool of ``--jobs`` local worker processes (every core by
   default), or on a Dask cluster (``--scheduler ADDRESS``,
   ``rnncourse.autograder.cluster``), with a progress bar; this process writes
   what comes back: ``autograded/``, ``feedback/``, and why a submission could
   not be graded (``autograded/.outcomes/``); ``submitted/`` is never modified;
4. MathJax is copied to ``feedback/mathjax/``, and the grade sheets are
   written from the gradebook (``rnncourse.autograder.sheet``): ``grades.csv``,
   one row per learner and assignment with its status, and ``grades_by_part.csv``;
5. a table of every submission's score and problems is printed.

During grading the terminal shows the progress bar only; nbgrader's log and
every warning go to ``autograded/grade.log``. Grading again gives the same
grades from the submissions alone. The exit status is 0 when every submission
was graded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import multiprocessing
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from rnncourse.autograder import autograde, collect, files, lateness, record, sandbox, secret, sheet
from rnncourse.autograder.submission import Graded, Outcome, Setup, Task, grade

LOG = Path("autograded") / "grade.log"
RELEASE = (
    Path("autograded") / ".release"
)  # where registering writes its release: never the tracked exercises/
__all__ = ["Outcome", "grade_all", "main"]


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


def log_to_file(root: Path) -> Path:
    """nbgrader's log, SQLAlchemy's and every Python warning into ``autograded/grade.log``, not the terminal."""
    path = root / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s"))
    top = logging.getLogger()
    for old in list(top.handlers):
        top.removeHandler(old)
    top.addHandler(handler)
    top.setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    for name in ("traitlets", "NbGraderAPI", "nbgrader"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return path


# -- finding the submissions -------------------------------------------------------------------


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


def task_for(root: Path, student: str, assignment: str) -> Task:
    """What a worker needs to grade ``submitted/<student>/<assignment>/``: its notebook's bytes.

    Only the student's own regular files are read (:mod:`~rnncourse.autograder.files`): a folder,
    notebook or timestamp that is a link, a FIFO or a device is refused, never followed.
    """
    folder = root / "submitted" / student / assignment
    linked = files.linked_folder(root, student, assignment)
    if linked:
        return Task(student, assignment, "", None, None, (f"{linked}: refused, not graded",))
    chosen, notes = choose_notebook(folder, assignment)
    timestamp = read_timestamp(folder, notes)
    if chosen is None:
        return Task(student, assignment, "", None, timestamp, tuple(notes))
    try:
        content = files.read_regular(chosen, collect.MAX_NOTEBOOK_BYTES)
    except OSError as error:
        notes.append(f"{chosen.name} cannot be read: {error.strerror}; refused, not graded")
        return Task(student, assignment, chosen.name, None, timestamp, tuple(notes))
    return Task(student, assignment, chosen.name, content, timestamp, tuple(notes))


def read_timestamp(folder: Path, notes: list[str]) -> str | None:
    """nbgrader's ``timestamp.txt`` beside the notebook, if it is a regular file (else a note says why)."""
    stamp = folder / "timestamp.txt"
    if not (stamp.exists() or stamp.is_symlink()):
        return None
    try:
        return files.read_regular(stamp, 1024).decode("utf-8", "replace").strip()
    except OSError as error:
        notes.append(f"timestamp.txt ignored: {error.strerror}")
        return None


def release_of(root: Path, assignment: str) -> str | None:
    """The release notebook that registering the assignment wrote (``RELEASE``), as JSON, or None."""
    path = root / RELEASE / assignment / f"{assignment}.ipynb"
    return path.read_text() if path.is_file() else None


def find_submissions(root: Path, assignments: list[str], students: list[str] | None) -> list[tuple[str, str]]:
    """(student, assignment) of every submission folder, of the chosen students and assignments."""
    found = [
        (folder.parent.name, folder.name)
        for assignment in assignments
        for folder in sorted((root / "submitted").glob(f"*/{assignment}"))
        if folder.is_dir()
    ]
    return [s for s in found if students is None or s[0] in students]


# -- grading in worker processes ---------------------------------------------------------------

Work = Callable[[Task, Setup], Graded]
_WORKER: tuple[Work, Setup] | None = None


def _start_worker(work: Work, setup: Setup) -> None:
    global _WORKER
    _WORKER = (work, setup)


def _grade_in_worker(task: Task) -> Graded:
    if _WORKER is None:
        raise RuntimeError("the worker process was not started by grade_in_workers")
    work, setup = _WORKER
    return work(task, setup)


def crashed(task: Task, error: BaseException) -> Graded:
    outcome = Outcome(task.student, task.assignment, problems=list(task.notes))
    outcome.problems.append(f"grading crashed ({type(error).__name__}: {autograde.scrub(str(error))[:200]})")
    return Graded(outcome)


def grade_in_workers(setup: Setup, tasks: list[Task], workers: int, work: Work = grade) -> Iterator[Graded]:
    """``work`` (:func:`~rnncourse.autograder.submission.grade`) of every task, ``workers`` processes at a time.

    Each worker takes the next submission as soon as it is done with one, so
    that a slow notebook holds one core and not a whole phase. The workers
    are forked after nbgrader and the checks are loaded (nothing is imported
    twice). A worker that dies takes no other grade with it: the submissions
    it left are graded again, each in a process of its own.
    """
    if workers <= 1 or len(tasks) <= 1 or sys.platform != "linux":
        for task in tasks:
            yield work(task, setup)
        return
    context = multiprocessing.get_context("fork")

    def pool(size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            size, mp_context=context, initializer=_start_worker, initargs=(work, setup)
        )

    again: list[Task] = []
    with pool(min(workers, len(tasks))) as shared:
        futures = {shared.submit(_grade_in_worker, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                again.append(futures[future])
            except Exception as error:  # reported for this one; the others go on
                yield crashed(futures[future], error)
    for task in again:
        with pool(1) as alone:
            try:
                yield alone.submit(_grade_in_worker, task).result()
            except Exception as error:
                yield crashed(task, error)


# -- keeping what came back --------------------------------------------------------------------


def keep(root: Path, task: Task, graded: Graded, db_url: str) -> None:
    """Write one submission's autograded notebook, feedback page and outcome (this process only)."""
    student, assignment = task.student, task.assignment
    autograded = root / "autograded" / student / assignment
    page = root / "feedback" / student / assignment
    for stale in (autograded, page):
        shutil.rmtree(stale, ignore_errors=True)  # a stale result must not pass for a new one
    outcome = graded.outcome
    sheet.save_outcome(root, student, assignment, outcome.graded, outcome.problems)
    if outcome.graded and graded.notebook is not None:
        autograded.mkdir(parents=True)
        (autograded / f"{assignment}.ipynb").write_text(graded.notebook)
        if task.timestamp:
            (autograded / "timestamp.txt").write_text(task.timestamp + "\n")
        if graded.feedback is not None:
            page.mkdir(parents=True)
            (page / f"{assignment}.html").write_text(graded.feedback)
        return
    # the learner has a row in grades.csv, and an earlier grade does not stand for this submission
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_student(student)
        with contextlib.suppress(MissingEntry):
            gradebook.remove_submission(assignment, student)


def copy_mathjax(root: Path) -> None:
    """MathJax 3 (one self-contained file: TeX input, SVG output) for the feedback pages."""
    from mathjax import __file__ as mathjax_init

    source = Path(mathjax_init).parent / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    target = root / "feedback" / "mathjax" / "tex-svg-full.js"
    if source.is_file() and not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)


# -- the whole run -------------------------------------------------------------------------------


def grade_all(
    root: Path,
    workers: int,
    archive: Path | None = None,
    cell_timeout: float | None = None,
    assignment: str | None = None,
    students: list[str] | None = None,
    scheduler: str | None = None,
    platform: str | None = None,
    title: str | None = None,
) -> list[Outcome]:
    """Grade the submissions under ``root/submitted``; see the module docstring."""
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
    if scheduler is not None and db_url.startswith("sqlite"):
        raise SystemExit(
            "--scheduler: the workers need a gradebook they can all reach, not a SQLite file: set "
            "RNNCOURSE_GRADEBOOK_URL to a PostgreSQL URL (postgresql://user@host/course)"
        )
    available = sorted(
        p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    if assignment is not None and assignment not in available:
        raise SystemExit(f"--assignment {assignment}: the course has {', '.join(available)}")
    assignments = [assignment] if assignment else available
    deadlines = lateness.due_dates(config)
    collection = None
    if archive is not None:
        if assignment is None and len(available) != 1:
            raise SystemExit(
                f"--zip: say which assignment it holds with --assignment ({', '.join(available)})"
            )
        target = assignment or available[0]
        pattern = collect.named_regexp(config, platform, title or target)
        collection = collect.collect_zip(archive, root, target, pattern, roster(db_url))
    submissions = find_submissions(root, assignments, students)
    due = {a: deadlines.of(a) for a in assignments}
    register = sorted({a for _, a in submissions} | {a for a, when in due.items() if when is not None})
    failed = record.register(root, config, db_url, register, due)
    if failed:
        name, why = next(iter(failed.items()))
        raise SystemExit(f"nbgrader could not register {name}:\n{why}")
    executor = autograde.SandboxedExecute(config=config)
    cache = None if scheduler else root / executor.cache_dir
    releases = {name: text for name in register if (text := release_of(root, name)) is not None}
    setup = Setup(config, record.with_lock_wait(db_url), executor.limits(), cache, course_secret, releases)
    tasks = [task_for(root, student, name) for student, name in submissions]
    before = time.perf_counter() - started
    started = time.perf_counter()
    outcomes: dict[tuple[str, str], Outcome] = {}
    by_key = {(t.student, t.assignment): t for t in tasks}
    if scheduler is not None:
        from rnncourse.autograder import cluster

        results = cluster.grade_on_cluster(scheduler, setup, tasks)
    else:
        results = grade_in_workers(setup, tasks, workers)
    tqdm.monitor_interval = 0  # tqdm's documented switch for its monitor thread: none runs when workers fork
    with tqdm(total=len(tasks), desc="grading", unit="submission", file=sys.stderr) as bar:
        for graded in results:
            key = (graded.outcome.student, graded.outcome.assignment)
            keep(root, by_key[key], graded, db_url)
            outcomes[key] = graded.outcome
            bar.update()
    during = time.perf_counter() - started
    started = time.perf_counter()
    copy_mathjax(root)
    try:
        sheet.export(root, db_url, root / "grades.csv", root / "grades_by_part.csv")
    except Exception as error:
        raise SystemExit(f"writing grades.csv failed: {type(error).__name__}: {error}") from error
    after = time.perf_counter() - started
    done = [outcomes[s] for s in submissions]
    steps = {step: sum(o.steps.get(step, 0.0) for o in done) for step in ("reading", "sandbox", "nbgrader")}
    print(
        f"graded {len(done)} submissions ({sum(o.cached for o in done)} sandbox results from the cache) "
        f"with {'the cluster at ' + scheduler if scheduler else f'{workers} workers'}: {before:.1f} s before the "
        f"workers, {during:.1f} s in them, {after:.1f} s after; summed over submissions: reading "
        f"{steps['reading']:.1f} s, sandboxes {steps['sandbox']:.1f} s, nbgrader {steps['nbgrader']:.1f} s",
        file=sys.stderr,
    )
    if collection is not None:
        print("\n".join(f"zip: {line}" for line in collection.report()), file=sys.stderr)
    return done


def roster(db_url: str) -> set[str] | None:
    """The learners in the gradebook (the roster, once imported), or None before there is one."""
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///").split("?")[0]).exists():
        return None
    with Gradebook(db_url) as gradebook:
        found = {student.id for student in gradebook.students}
    return found or None


def report(root: Path, outcomes: list[Outcome]) -> str:
    """The table printed at the end: score, status and problems of every submission graded now."""
    rows = {}
    grades = root / "grades.csv"
    if grades.exists():
        with grades.open(newline="") as handle:
            rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}
    lines = [f"{'student':<24} {'assignment':<20} {'score':>10}  problem"]
    for o in outcomes:
        row = rows.get((o.student, o.assignment), {})
        score = "not graded"
        if o.graded and row.get("score"):
            score = f"{float(row['score']):g} / {float(row['max_score']):g}"
        problem = o.problem
        if o.graded and row.get("late_by"):
            penalty = float(row.get("late_submission_penalty") or 0)
            problem = f"late by {row['late_by']} (penalty {penalty:g}) " + problem
        lines.append(f"{o.student:<24} {o.assignment:<20} {score:>10}  {problem}".rstrip())
    graded = sum(o.graded for o in outcomes)
    lines.append(
        f"{graded} of {len(outcomes)} submissions graded; grades in grades.csv (one row per learner and "
        "assignment) and grades_by_part.csv, feedback in feedback/, the log in autograded/grade.log."
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
    parser.add_argument("--assignment", help="grade only this assignment (and the one a --zip holds)")
    parser.add_argument(
        "--student", action="append", help="grade only this learner (again for several): a re-grade"
    )
    parser.add_argument("--zip", type=Path, help="a learning platform's zip of submissions")
    parser.add_argument(
        "--platform", choices=sorted(collect.PLATFORMS), help="how the --zip names its files (see the guide)"
    )
    parser.add_argument(
        "--title", help="the assignment's name on the platform, which starts each file name (default: its id)"
    )
    parser.add_argument(
        "--cell-timeout", type=float, help="seconds a cell may run (default: c.Execute.timeout)"
    )
    parser.add_argument(
        "--scheduler", help="a Dask scheduler's address (tcp://host:8786): grade on its workers"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "nbgrader_config.py").exists():
        parser.error(f"{root} has no nbgrader_config.py: run this from the course root")
    if args.zip is None and not (root / "submitted").is_dir():
        parser.error(f"nothing to grade: put submissions in {root / 'submitted'}/<student>/<assignment>/")
    if args.zip is not None and not args.zip.is_file():
        parser.error(f"--zip {args.zip}: no such file")
    if args.scheduler is None:
        problem = sandbox.sandbox_available()
        if problem:
            parser.error(f"the sandbox is not available: {problem}")
        missing = sandbox.missing_memory_bound()
        if missing:
            print(f"note: {missing}", file=sys.stderr)
    log = log_to_file(root)
    try:
        outcomes = grade_all(
            root,
            args.jobs,
            args.zip,
            args.cell_timeout,
            args.assignment,
            args.student,
            args.scheduler,
            args.platform,
            args.title,
        )
    except SystemExit as stop:
        if isinstance(stop.code, str):
            parser.exit(2, f"make grade: {stop.code}\n(the log: {log})\n")
        raise
    print(report(root, outcomes))
    return 0 if all(o.graded for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
