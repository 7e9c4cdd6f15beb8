"""Where one submission's grading time goes: each step of ``make grade``'s single pass, timed alone.

Run from the repository root:

    python bench/bench_grading_steps.py            # 60 submissions of exercise 1
    python bench/bench_grading_steps.py --quick    # 6 submissions: the smoke test

``bench_grading.py`` measures the whole of ``make grade`` and splits each
submission into three steps (reading, the sandbox, nbgrader). This script
builds the same seeded class, registers it with nbgrader, then grades every
submission in this one process, calling the pieces of
``rnncourse.autograder.submission.grade`` one at a time and timing each:
reading the notebook, each of nbgrader's sanitising preprocessors
(``autograde.SANITIZE``), the sandbox (with no cache), verifying the answers
outside it, the gradebook's row for the submission, each of nbgrader's
recording steps (``record.steps_after_the_sandbox``), writing the notebook and
the feedback page. It prints the mean milliseconds of each step and the start-up
of an empty sandbox, with the machine's load at both ends, and checks that
every grade is the one its answers earn (so the steps timed are the whole pass).
Last, it makes every feedback page again with two fresh exporters in
alternating order, one keeping the HTML of the cells it has seen (as ``make
grade`` does) and one keeping none, and prints their medians side by side.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import nbformat
from nbconvert.preprocessors import Preprocessor
from sqlalchemy.exc import SAWarning
from traitlets.config import Config
from verdict import load_line

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_grading import (  # noqa: E402
    ASSIGNMENT,
    CELL_SECONDS,
    build_class,
    check_class_options,
    class_options,
    sandbox_startup,
    scores,
    submit,
    tool_env,
)

from rnncourse.autograder import autograde, batch, record, sandbox, secret, submission  # noqa: E402
from rnncourse.grading.parts import HiddenKey  # noqa: E402
from tests.grading.notebooks import released_course  # noqa: E402

T = TypeVar("T")


class Steps:
    """Milliseconds of each named step, one entry per submission that reached it."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)

    def time(self, name: str, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)``, its seconds kept under ``name``."""
        started = time.perf_counter()
        result = work(*args)
        self.seconds[name].append(time.perf_counter() - started)
        return result

    def table(self, count: int) -> list[str]:
        """Mean ms per submission (over all ``count``), and the share of the whole outside the sandbox."""
        outside = sum(sum(v) for name, v in self.seconds.items() if name != "sandbox")
        lines = [f"{'step':44} {'ms per submission':>18} {'share outside the sandbox':>26}"]
        for name, values in self.seconds.items():
            share = "" if name == "sandbox" else f"{100 * sum(values) / outside:.0f}%"
            lines.append(f"{name:44} {1e3 * sum(values) / count:18.1f} {share:>26}")
        lines.append(f"{'all but the sandbox':44} {1e3 * outside / count:18.1f}")
        return lines


def sanitise_with(
    step: type[Preprocessor], config: Config, notebook: nbformat.NotebookNode, given: dict[str, Any]
) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """One of nbgrader's sanitising steps, made and run as ``autograde.sanitized`` does."""
    return step(config=config).preprocess(notebook, given)  # type: ignore[no-any-return]


def feedback_side_by_side(
    setup: submission.Setup, graded: list[tuple[str, nbformat.NotebookNode]]
) -> dict[str, list[float]]:
    """Seconds of each feedback page made again by two fresh exporters, in alternating order: one that
    keeps the HTML of the cells it has seen (``make grade``'s) and one that keeps none."""
    exporters = {}
    for name, kept in (("cells kept", 512), ("none kept", 0)):
        config = Config(setup.config)
        config.FeedbackExporter.kept_cells = kept
        exporters[name] = record.feedback_exporter(config)
    seconds: dict[str, list[float]] = {name: [] for name in exporters}
    for turn, (student, notebook) in enumerate(graded):
        for name in sorted(exporters, reverse=bool(turn % 2)):
            given = record.resources(ASSIGNMENT, student, setup.db_url)
            started = time.perf_counter()
            exporters[name].from_notebook_node(copy.deepcopy(notebook), given)
            seconds[name].append(time.perf_counter() - started)
    return seconds


def grade_in_steps(task: submission.Task, setup: submission.Setup, steps: Steps) -> nbformat.NotebookNode:
    """``submission.grade`` of ``task``, its pieces called and timed one at a time."""
    assert task.content is not None
    content = task.content
    record.keep_engines()  # as submission.grade does
    record.check_schemas_once()
    read, _ = steps.time("read the notebook", lambda: submission.read_notebook(content, task.file_name))
    assert read is not None, task.student
    steps.time(
        "deduplicate, release metadata",
        lambda: [
            submission.deduplicate(read),
            autograde.release_metadata(read, nbformat.reads(setup.releases[task.assignment], as_version=4)),
        ],
    )
    given = record.resources(task.assignment, task.student, setup.db_url)
    notebook = nbformat.from_dict(read)
    for step in autograde.SANITIZE:  # as autograde.sanitized runs them
        notebook, given = steps.time(
            f"sanitise: nbgrader's {step.__name__}",
            sanitise_with,
            step,
            setup.config,
            notebook,
            given,
        )
    parts = autograde.chapter_parts(task.assignment)
    key = HiddenKey(setup.secret, task.assignment)
    cells, requests = steps.time(
        "the sandbox's requests", lambda: autograde.sandbox_inputs(notebook, parts, key)
    )
    result, _ = steps.time(
        "sandbox", lambda: autograde.run_cached(task.assignment, cells, requests, setup.limits, None)
    )
    steps.time("verify the answers outside", lambda: autograde.fill_notebook(notebook, result, parts, key))
    steps.time(
        "record: the submission's row",
        lambda: record.record_submission(task.assignment, task.student, task.timestamp, setup.db_url),
    )
    given = record.resources(task.assignment, task.student, setup.db_url)
    for step in record.steps_after_the_sandbox(setup.config):
        notebook, given = steps.time(f"record: nbgrader's {type(step).__name__}", step, notebook, given)
    steps.time("write the notebook", lambda: nbformat.writes(notebook))
    steps.time(
        "feedback page",
        lambda: record.feedback(notebook, task.assignment, task.student, setup.config, setup.db_url),
    )
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    class_options(parser, size=60)
    args = parser.parse_args(argv)
    check_class_options(parser, args)
    cores = os.cpu_count() or 1
    print(load_line("at the start", os.getloadavg(), cores), flush=True)
    # nbgrader's own: its gradebook adds objects through relationships SQLAlchemy 2 warns about
    # (make grade sends them to its log file)
    warnings.filterwarnings("ignore", category=SAWarning)
    os.environ.update(
        tool_env()
    )  # nbgrader's tools (alembic) and the course's settings, as make grade has them
    with tempfile.TemporaryDirectory(prefix="bench-grading-steps-") as folder:
        root = Path(folder) / "class"
        source, release_notebook = released_course(root, REPO, tool_env(), ASSIGNMENT)
        submissions = build_class(root, source, release_notebook, args.size, args.quick, args.seed)
        submit(root, submissions)
        config = batch.load_config(root)
        config.SandboxedExecute.course_root = str(root)
        db_url = record.with_lock_wait(batch.gradebook_url(root, config))
        assert record.register(root, config, db_url, [ASSIGNMENT], {}) == {}
        setup = submission.Setup(
            config,
            db_url,
            sandbox.Limits(cell_seconds=CELL_SECONDS),
            None,
            secret.load(root),
            {ASSIGNMENT: nbformat.writes(release_notebook)},
        )
        steps = Steps()
        notebooks = [
            (learner.student, grade_in_steps(batch.task_for(root, learner.student, ASSIGNMENT), setup, steps))
            for learner in submissions
        ]
        graded = scores(root)
        pages = feedback_side_by_side(setup, notebooks)
    count = len(submissions)
    print(
        f"class: {count} submissions of {ASSIGNMENT} (seed {args.seed}), graded one after another in one process"
    )
    print("\n".join(steps.table(count)))
    print(f"an empty sandbox's start-up (median of 3): {1e3 * sandbox_startup(CELL_SECONDS):.0f} ms")
    kept, none = (statistics.median(pages[name]) for name in ("cells kept", "none kept"))
    print(
        f"feedback pages made again, side by side in alternating order ({count} each): median "
        f"{1e3 * kept:.1f} ms keeping the HTML of cells seen before, {1e3 * none:.1f} ms keeping none "
        f"({none / kept:.2f}x)"
    )
    wrong = [s.student for s in submissions if graded.get(s.student) != s.expected]
    print(f"grades as their answers earn: {count - len(wrong)} of {count} submissions")
    print(load_line("at the end", os.getloadavg(), cores) + " (this benchmark's own work included)")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
