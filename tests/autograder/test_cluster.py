"""`make grade --scheduler` on a real Dask cluster with a real PostgreSQL gradebook, on the loopback interface.

The test starts everything itself, on 127.0.0.1 only: a PostgreSQL server from
Debian's packages (``initdb``/``pg_ctl`` in a temporary folder, as an
unprivileged user when run as root), a ``dask scheduler`` and two ``dask worker``
processes. It grades a small class on the cluster, kills one worker while it
holds a submission, and checks that every learner gets the grade the local run
(one machine, SQLite) gives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.grading import ch01_recurrence_answers as answers
from tests.grading.notebooks import filled, released_course, solution_sources

pytestmark = pytest.mark.slow
ASSIGNMENT = "ch01_recurrence"
NOBODY = 65534  # postgres refuses to run as root
POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_postgres_user() -> list[str]:
    return (
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if os.geteuid() == 0 else []
    )


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of its own on 127.0.0.1; the SQLAlchemy URL of an empty database ``course``."""
    if not POSTGRES_BIN:
        pytest.fail("PostgreSQL's server is missing: `make test` installs it (apt-get install postgresql)")
    bin_dir = POSTGRES_BIN[-1].parent
    # in /tmp itself: pytest's own folders are closed to the unprivileged user the server runs as
    with tempfile.TemporaryDirectory(prefix="rnncourse-postgres-") as name:
        yield from _server(bin_dir, Path(name))


def _server(bin_dir: Path, folder: Path) -> Iterator[str]:
    folder.chmod(0o755)
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (folder, sockets):
            os.chown(path, NOBODY, NOBODY)
    port = free_port()
    run = [*as_postgres_user()]
    subprocess.run(
        [*run, str(bin_dir / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    options = f"-h 127.0.0.1 -p {port} -k {sockets}"
    subprocess.run(
        [
            *run,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=grader dbname=postgres", autocommit=True
        ) as db:
            db.execute("CREATE DATABASE course")
        yield f"postgresql://grader@127.0.0.1:{port}/course"
    finally:
        subprocess.run(
            [*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def cluster(tool_env: dict[str, str], repo: Path) -> Iterator[tuple[str, dict[str, subprocess.Popen[bytes]]]]:
    """``dask scheduler`` and two ``dask worker`` processes (one task at a time each) on 127.0.0.1."""
    dask = str(Path(sys.executable).parent / "dask")
    env = tool_env | {"PYTHONPATH": str(repo), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    started: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, command: list[str]) -> None:
        started[name] = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
    for name in ("w1", "w2"):
        start(
            name,
            [
                dask,
                "worker",
                address,
                "--name",
                name,
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            ],
        )
    from distributed import Client

    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, started
    finally:
        for process in started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def the_class(release: nbformat.NotebookNode, correct: dict[str, str]) -> dict[str, nbformat.NotebookNode]:
    return {
        "ada": filled(release, correct),
        "bo": release,
        "cy": filled(release, correct | {"softmax": answers.WRONG["softmax"]}),
        "di": filled(release, correct | {"rnn_forward": answers.CHEAT["rnn_forward"]}),
        "ed": filled(release, answers.ALTERNATIVE),
        "fa": filled(release, correct | {"classify": answers.WRONG["classify"]}),
    }


def scores(db_url: str) -> dict[str, dict[str, float]]:
    found = {}
    with Gradebook(db_url) as gradebook:
        for student in gradebook.students:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student.id)
            found[student.id] = {grade.name: float(grade.score) for grade in notebook.grades}
    return found


def make_grade(course: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "rnncourse.autograder.batch", "--cell-timeout", "20", *args]
    return subprocess.Popen(
        command, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def kill_a_busy_worker(
    address: str, started: dict[str, subprocess.Popen[bytes]], grading: subprocess.Popen[str]
) -> str:
    """SIGKILL (worker and nanny) the first worker seen holding a submission; its name."""
    from distributed import Client

    with Client(address, timeout=60) as client:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and grading.poll() is None:
            names = {addr: info["name"] for addr, info in client.scheduler_info()["workers"].items()}
            busy = [names[addr] for addr, keys in client.processing().items() if keys and addr in names]
            if busy:
                time.sleep(0.5)  # well inside the task: its sandbox is running
                os.killpg(started[busy[0]].pid, signal.SIGKILL)
                return str(busy[0])
            time.sleep(0.05)
    out, err = grading.communicate(timeout=600)
    pytest.fail(f"no worker was seen holding a submission:\n{out}\n{err}")


def test_a_class_on_dask_and_postgresql_gets_the_local_grades_though_a_worker_dies(
    tmp_path: Path, repo: Path, tool_env: dict[str, str], postgres: str, cluster
) -> None:
    address, started = cluster
    local, remote = tmp_path / "local", tmp_path / "remote"
    source, release = released_course(local, repo, tool_env, ASSIGNMENT)
    remote.mkdir()
    shutil.copy(local / "nbgrader_config.py", remote)
    shutil.copy(local / ".grading-secret", remote)  # the same secret: the same hidden cases, the same grades
    shutil.copytree(local / "solutions", remote / "solutions")
    notebooks = the_class(release, solution_sources(source))
    for course in (local, remote):
        for student, notebook in notebooks.items():
            (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
            nbformat.write(notebook, course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")

    alone = make_grade(local, tool_env | {"RNNCOURSE_GRADEBOOK_URL": ""}, "--jobs", "1")
    out, err = alone.communicate(timeout=900)
    assert alone.returncode == 0, out + err
    expected = scores(f"sqlite:///{local / 'gradebook.db'}")
    assert sorted(expected) == sorted(notebooks) and sum(expected["ada"].values()) == 15

    refused = make_grade(remote, tool_env | {"RNNCOURSE_GRADEBOOK_URL": ""}, "--scheduler", address)
    out, err = refused.communicate(timeout=300)
    assert refused.returncode != 0 and "not a SQLite file" in err, err

    env = tool_env | {"RNNCOURSE_GRADEBOOK_URL": postgres}
    grading = make_grade(remote, env, "--scheduler", address)
    killed = kill_a_busy_worker(address, started, grading)
    out, err = grading.communicate(timeout=900)
    assert grading.returncode == 0, out + err
    assert started[killed].poll() is not None, "the worker was not killed"
    assert scores(postgres) == expected, out
    for student in notebooks:
        page = remote / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert page.is_file(), student
    assert (
        "not available while grading"
        in (remote / "feedback" / "di" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    )
    assert "with the cluster at tcp://127.0.0.1" in err
    assert not (remote / "gradebook.db").exists(), "the cluster run must not use a SQLite file"
