"""``make grade ARGS="--scheduler tcp://host:8786"``: the per-submission work on a Dask cluster.

Dask's ``distributed`` scheduler hands each submission
(:func:`rnncourse.autograder.submission.grade` of one
:class:`~rnncourse.autograder.submission.Task`) to a worker, which runs it in
the same bubblewrap sandbox as ``make grade`` does locally, records it in the
gradebook and sends back the autograded notebook and its feedback page; this
process writes them under the course. Nothing is shared but the gradebook,
which must be a database every worker reaches (PostgreSQL, any SQLAlchemy URL
in ``RNNCOURSE_GRADEBOOK_URL``), never a SQLite file.

A worker that dies (killed, its machine lost) loses no grade: the scheduler
gives the submissions it held to another worker (Dask's ``allowed-failures``),
and recording a submission twice gives the same grades (nbgrader's
``update_or_create``). The cluster is Dask's to deploy: ``dask scheduler`` and
``dask worker`` by hand, or ``dask-jobqueue`` (Slurm, PBS, HTCondor) and
``dask-kubernetes``; see the instructor guide.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from rnncourse.autograder.submission import Graded, Outcome, Setup, Task, grade

CONNECT_SECONDS = 30  # to reach the scheduler


def grade_on_cluster(address: str, setup: Setup, tasks: list[Task]) -> Iterator[Graded]:
    """:func:`~rnncourse.autograder.submission.grade` of every task on the cluster at ``address``, as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError as error:  # pragma: no cover - distributed is pinned in requirements.lock
        raise SystemExit("--scheduler needs Dask's distributed: pip install -r requirements.lock") from error
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except OSError as error:
        raise SystemExit(
            f"--scheduler {address}: no Dask scheduler answers there ({error}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS` (see the instructor guide)"
        ) from error
    run = secrets.token_hex(4)  # keys unique to this run: a re-grade is not an old result
    with client:
        shared = client.scatter(setup, broadcast=True)
        futures = {
            client.submit(grade, task, shared, key=f"grade-{run}-{index}", pure=False): task
            for index, task in enumerate(tasks)
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield future.result()
            except Exception as error:  # e.g. KilledWorker: it killed worker after worker
                outcome = Outcome(task.student, task.assignment, problems=list(task.notes))
                outcome.problems.append(
                    f"grading failed on the cluster ({type(error).__name__}: {error})"[:400]
                )
                yield Graded(outcome)
