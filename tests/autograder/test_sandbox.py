"""Hostile notebooks in the real sandbox (bubblewrap): each outcome, and that nothing outside changed."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnncourse.autograder.sandbox import (
    Limits,
    MemoryGroup,
    PartRequest,
    run_sandboxed,
    sandbox_available,
)

REPO = Path(__file__).resolve().parents[2]
WHY_NOT = sandbox_available()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"no sandbox here: {WHY_NOT}")

QUICK = Limits(cell_seconds=2.0, notebook_seconds=20.0)


def _cells(*sources: str) -> list[tuple[int, str]]:
    """Code cells at notebook indices 0, 2, 4, ... (markdown in between, as in a notebook)."""
    return [(2 * number, textwrap.dedent(source)) for number, source in enumerate(sources)]


def _text(outputs: list[dict[str, object]], name: str = "stdout") -> str:
    return "".join(str(o["text"]) for o in outputs if o["output_type"] == "stream" and o["name"] == name)


def _errors(outputs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [o for o in outputs if o["output_type"] == "error"]


def _probe(action: str) -> str:
    """A cell that prints 'allowed' when ``action`` succeeds, else 'refused <error type>'."""
    return f"try:\n    {action}\n    print('allowed')\nexcept Exception as error:\n    print('refused', type(error).__name__)\n"


def test_the_host_is_out_of_reach(tmp_path: Path) -> None:
    """No network, nothing writable or readable of the host; torch, scipy and rnncourse masked."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("scores")
    marker = f"sandbox-probe-{os.getpid()}-{time.monotonic_ns()}"
    home = Path.home()
    solution = REPO / "solutions" / "ch01_recurrence" / "ch01_recurrence.ipynb"
    connect = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')"
    cells = _cells(
        _probe(connect),
        _probe(f"open('/{marker}', 'w').write('x')"),
        _probe(f"open('{REPO}/{marker}', 'w').write('x')"),
        _probe(f"open('{home}/{marker}', 'w').write('x')"),
        _probe(f"open('{REPO}/README.md').read()"),
        _probe(f"open('{solution}').read()"),
        _probe(f"open('{gradebook}').read()"),
        _probe("import rnncourse.scratch.rnn"),
        _probe("import torch"),
        _probe("import scipy"),
        "from rnncourse.grading import ch01_recurrence as check\nprint(check.anything(print), check.rnn_forward(1, 2))",
        # A subprocess and a thread are inside the same walls.
        f"import subprocess\nprint(subprocess.run(['cat', '{REPO}/README.md'], capture_output=True).returncode)",
        "import threading\nresult = []\n"
        f"thread = threading.Thread(target=lambda: result.append({_probe(connect)!r}))\n"
        "thread.start(); thread.join()\n" + _probe(connect),
        # Where the writes that work go: the private folder, gone after the run.
        f"open('/work/{marker}', 'w').write('x'); print(sorted(__import__('os').listdir('/work')))",
        # /tmp is the sandbox's own: writable inside, the host's /tmp untouched (checked below).
        _probe(f"open('/tmp/{marker}', 'w').write('x')"),
    )
    result = run_sandboxed(cells, [], QUICK)
    listener_got = None
    try:
        listener_got = listener.accept()
    except BlockingIOError:
        pass
    finally:
        listener.close()
    assert result.status == "ok", result.detail
    said = [_text(result.cell_outputs[index]).strip() for index, _ in cells]
    assert [line.split()[0] for line in said[:10]] == ["refused"] * 10, said
    assert listener_got is None
    for place in (Path("/"), Path("/tmp"), REPO, home):
        assert not (place / marker).exists()
    assert gradebook.read_text() == "scores"
    masked = [_text(result.cell_outputs[index]) for index, _ in cells[7:10]]
    assert all("ImportError" in text for text in masked)
    assert said[10] == "None None"
    assert said[11] != "0"
    assert said[12].startswith("refused")
    assert marker in said[13] and "_runner.py" in said[13] and "request.json" not in said[13]
    assert said[14] == "allowed"


def test_import_messages_name_the_rule() -> None:
    result = run_sandboxed(_cells("import rnncourse.scratch.rnn", "import torch.nn"), [], QUICK)
    first, second = (_errors(result.cell_outputs[index])[0] for index in (0, 2))
    assert first["ename"] == "ImportError" and "write the computation yourself" in str(first["evalue"])
    assert second["ename"] == "ImportError" and "NumPy" in str(second["evalue"])


def test_cells_fail_alone_and_the_notebook_carries_on() -> None:
    cells = _cells(
        "import warnings\nwarnings.warn('only a warning')\nprint('after the warning')",
        "import sys\nsys.exit(3)",
        "while True:\n    pass",
        "import numpy as np\nbig = np.ones(10**10)",  # 80 GB: beyond the address-space bound
        "for i in range(10**7):\n    print(i)",
        "print('still running')",
    )
    start = time.monotonic()
    result = run_sandboxed(cells, [], Limits(cell_seconds=2.0, notebook_seconds=30.0, output_bytes=100_000))
    assert result.status == "ok" and result.stopped_at_cell is None
    assert time.monotonic() - start < 15
    warned = result.cell_outputs[0]
    assert not _errors(warned) and "<cell 0>:2: UserWarning: only a warning" in _text(warned, "stderr")
    assert _text(warned) == "after the warning\n"
    exits, loop, memory, flood = (_errors(result.cell_outputs[i])[0] for i in (2, 4, 6, 8))
    assert exits["ename"] == "SystemExit" and "sys.exit" in str(exits["evalue"])
    assert loop["ename"] == "TimeLimit" and str(loop["evalue"]) == "cell 4 ran longer than the 2 s limit"
    assert memory["ename"] == "MemoryError" and "GiB" in str(memory["evalue"])
    assert flood["ename"] == "OutputLimit"
    assert sum(len(str(o.get("text", ""))) for o in result.cell_outputs[8]) <= 100_000 + 1000
    assert _text(result.cell_outputs[10]) == "still running\n"


def test_a_loop_that_swallows_the_alarm_is_killed_at_the_notebook_bound() -> None:
    cells = _cells(
        "print('first')",
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
        "print('never')",
    )
    start = time.monotonic()
    result = run_sandboxed(cells, [], Limits(cell_seconds=1.0, notebook_seconds=4.0))
    assert time.monotonic() - start < 8
    assert result.status == "time limit" and result.stopped_at_cell == 2
    assert "4 s" in result.detail and "cell 2" in result.detail
    assert _text(result.cell_outputs[0]) == "first\n" and 4 not in result.cell_outputs


NOT_ROOT_RUN = """
import json, os, sys
from rnncourse.autograder.sandbox import Limits, run_sandboxed, sandbox_available
cells = [(2 * i, source) for i, source in enumerate(json.loads(sys.argv[1]))]
result = run_sandboxed(cells, [], Limits(cell_seconds=2.0, notebook_seconds=20.0))
said = [''.join(o.get('text', '') for o in result.cell_outputs.get(i, [])) for i, _ in cells]
errors = [[o['ename'] for o in result.cell_outputs.get(i, []) if o['output_type'] == 'error'] for i, _ in cells]
print(json.dumps({'euid': os.geteuid(), 'available': sandbox_available(), 'status': result.status,
                  'said': said, 'errors': errors}))
"""


def test_a_grader_that_is_not_root_gets_the_same_walls(tmp_path: Path) -> None:
    """The path for a grader without root: no uid of its own for the learner, the process bound on top.

    Run as root, the grader is started in a user namespace where it is uid 1000
    (``unshare --map-user``), so that it takes that path.
    """
    marker = f"sandbox-probe-{os.getpid()}-{time.monotonic_ns()}"
    cells = [
        "import os\nprint(os.getuid())",
        _probe(f"open('{REPO}/README.md').read()"),
        _probe(f"open('/{marker}', 'w').write('x')"),
        _probe("import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)"),
        f"open('/work/{marker}', 'w').write('x'); print('wrote')",
        "import numpy as np\nbig = np.ones(10**10)",
        "while True:\n    pass",
        "print('still running')",
    ]
    command = [sys.executable, "-c", NOT_ROOT_RUN, json.dumps(cells)]
    if os.geteuid() == 0:
        command = ["unshare", "--user", "--map-user=1000", "--map-group=1000", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads(done.stdout.strip().splitlines()[-1])
    assert run["euid"] != 0 and run["available"] is None and run["status"] == "ok", run
    said = [text.strip() for text in run["said"]]
    assert said[0] == str(run["euid"])  # no uid switch without root: the learner runs as the grader
    assert [line.split()[0] for line in said[1:4]] == ["refused"] * 3, said
    assert said[4] == "wrote" and said[7] == "still running", said
    assert run["errors"][5] == ["MemoryError"] and run["errors"][6] == ["TimeLimit"], run["errors"]
    assert not (Path("/") / marker).exists()


def _processes_in(namespace: str) -> list[str]:
    """The host's living processes in the pid namespace ``namespace`` (``readlink /proc/<pid>/ns/pid``).

    Only this sandbox's: other tests' sandboxes may run at the same time. A
    zombie is dead; it waits only for the host's init to collect its exit status.
    """
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(folder / "ns" / "pid") != namespace:
                continue
            state = next(
                line for line in (folder / "status").read_text().splitlines() if line.startswith("State:")
            )
        except (OSError, StopIteration):
            continue
        if "zombie" not in state:
            found.append(f"{folder.name} ({state.split(':', 1)[1].strip()})")
    return found


def test_a_fork_bomb_stays_inside_and_dies_with_the_sandbox() -> None:
    bomb = """
    import os, time
    parent, start = os.getpid(), time.monotonic()
    while True:
        try:
            os.fork()
        except OSError:
            if os.getpid() == parent and time.monotonic() - start > 0.5:
                print(sum(name.isdigit() for name in os.listdir('/proc')), os.readlink('/proc/self/ns/pid'))
                break
            time.sleep(0.05)
    """
    start = time.monotonic()
    result = run_sandboxed(_cells(bomb), [], Limits(cell_seconds=3.0, notebook_seconds=8.0, processes=16))
    assert time.monotonic() - start < 8
    assert result.status == "ok", result.detail
    count, namespace = _text(result.cell_outputs[0]).split()
    assert 2 <= int(count) <= 16 + 2  # the bound, plus bwrap's init
    assert namespace.startswith("pid:[") and namespace != os.readlink("/proc/self/ns/pid")
    time.sleep(0.5)
    assert _processes_in(namespace) == []


def _memory_groups_here() -> bool:
    group = MemoryGroup.create(1024**3)
    if group is None:
        return False
    group.remove()
    return True


MEMORY_GROUPS = _memory_groups_here()


SIX_CHILDREN = """
import os, signal, time
children = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = b"\\x01" * (150 * 1024**2)  # written, so resident: 900 MB for the six
        time.sleep(1.5)
        os._exit(0)
    children.append(pid)
statuses = [os.waitpid(pid, 0)[1] for pid in children]
print(sum(os.WIFSIGNALED(s) and os.WTERMSIG(s) == signal.SIGKILL for s in statuses))
"""


@pytest.mark.skipif(not MEMORY_GROUPS, reason="no cgroup v1 memory controller the grader may use")
def test_processes_together_stay_within_the_memory_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[MemoryGroup] = []
    create = MemoryGroup.create.__func__  # type: ignore[attr-defined]

    def recorded(cls: type[MemoryGroup], limit_bytes: int) -> MemoryGroup | None:
        group = create(cls, limit_bytes)
        made.extend([group] if group is not None else [])
        return group

    monkeypatch.setattr(MemoryGroup, "create", classmethod(recorded))
    limits = Limits(memory_bytes=600 * 1024**2, cell_seconds=10.0, notebook_seconds=30.0)
    result = run_sandboxed(_cells(SIX_CHILDREN), [], limits)
    if result.status == "ok":  # the kernel killed children, the notebook went on
        assert int(_text(result.cell_outputs[0])) >= 2, result.cell_outputs
    else:  # or it killed the notebook's own process
        assert result.status == "memory limit" and "processes together" in result.detail, result.detail
    assert len(made) == 1 and not made[0].path.exists(), "the sandbox's memory group was left behind"


@pytest.mark.skipif(not MEMORY_GROUPS, reason="no cgroup v1 memory controller the grader may use")
def test_a_group_its_grader_could_not_remove_is_removed_by_the_next_grader() -> None:
    own = MemoryGroup.create(1024**3)
    assert own is not None
    own.remove()
    no_such_pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    left = own.path.parent / f"rnncourse-sandbox-{no_such_pid}-0123456789abcdef"
    alive = own.path.parent / f"rnncourse-sandbox-{os.getpid()}-0123456789abcdef"
    left.mkdir()
    alive.mkdir()
    try:
        mine = MemoryGroup.create(1024**3)
        assert mine is not None
        mine.remove()
        assert not left.exists()
        assert alive.exists()  # its grader still runs: the group may be in use
    finally:
        for path in (left, alive):
            if path.exists():
                path.rmdir()


def test_without_a_memory_group_each_process_keeps_its_own_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MemoryGroup, "create", classmethod(lambda cls, limit_bytes: None))
    limits = Limits(memory_bytes=600 * 1024**2, cell_seconds=10.0, notebook_seconds=30.0)
    result = run_sandboxed(_cells(SIX_CHILDREN, "import numpy as np\nbig = np.ones(10**9)"), [], limits)
    assert result.status == "ok", result.detail
    assert _text(result.cell_outputs[0]) == "0\n"  # 900 MB in six processes: no bound on the sum
    assert _errors(result.cell_outputs[2])[0]["ename"] == "MemoryError"  # 8 GB in one: bounded


@pytest.mark.parametrize(
    ("source", "status"),
    [("import os\nos._exit(3)", "exited"), ("import ctypes\nctypes.string_at(0)", "crashed")],
)
def test_a_dying_process_is_reported_at_its_cell(source: str, status: str) -> None:
    result = run_sandboxed(_cells("print('before')", source, "print('after')"), [], QUICK)
    assert result.status == status and result.stopped_at_cell == 2
    assert "cell 2" in result.detail
    assert _text(result.cell_outputs[0]) == "before\n" and 4 not in result.cell_outputs


def test_output_around_the_capture_is_capped_and_the_grader_stays_small() -> None:
    flood = "import os\nline = b'x' * 99 + b'\\n'\nfor _ in range(10**7):\n    os.write(1, line)"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    result = run_sandboxed(
        _cells("print('before')", flood), [], Limits(cell_seconds=30.0, notebook_seconds=30.0)
    )
    assert time.monotonic() - start < 10
    assert result.status == "output limit" and result.stopped_at_cell == 2
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024


LEARNER = """
import numpy as np

class Always(np.ndarray):
    def __eq__(self, other):
        return True

def helper():
    return "learner's helper"

def sly(x):
    return (x * 2).view(Always)

def patches(x):
    np.allclose = np.array_equal = lambda *args, **kwargs: True
    np.tanh = lambda z: np.zeros_like(z)
    x[:] = 0  # the caller's array: must not reach the next case
    return x + 1

def uses_helper(x):
    return helper() + " " + str(len(x))

def broken(x):
    y = x.reshape(7, 7)
    return y
"""


def test_parts_bring_back_plain_values_only_their_own() -> None:
    x = np.arange(4.0)
    substitute = "def helper():\n    return 'substitute'\n"
    parts = [
        PartRequest("sly", "sly", [("one", (x,))], {}),
        PartRequest("patches", "patches", [("a", (x,)), ("b", (x,))], {}),
        PartRequest("with_substitute", "uses_helper", [("s", ([1, 2],))], {"helper": substitute}),
        PartRequest("after", "uses_helper", [("own", ("abc",))], {}),
        PartRequest("errors", "broken", [("e", (x,))], {}),
        PartRequest("missing", "not_written", [("m", (x,))], {}),
    ]
    result = run_sandboxed(_cells(LEARNER), parts, QUICK)
    assert result.status == "ok", result.detail
    sly = result.parts["sly"]["one"]
    assert type(sly) is np.ndarray and not np.array_equal(sly, x)
    np.testing.assert_array_equal(sly, 2 * x)
    # The second case got fresh inputs, though the first zeroed its array and patched NumPy.
    for case in ("a", "b"):
        np.testing.assert_array_equal(result.parts["patches"][case], np.ones(4))
    np.testing.assert_array_equal(x, np.arange(4.0))
    assert result.parts["with_substitute"]["s"] == "substitute 2"
    assert result.parts["after"]["own"] == "learner's helper 3"
    error = result.parts["errors"]["e"]
    assert (
        isinstance(error, dict) and error["error"] == "ValueError" and error["line"] == "y = x.reshape(7, 7)"
    )
    assert result.parts["missing"]["m"] == {
        "error": "NameError",
        "message": "name 'not_written' is not defined",
        "line": "",
    }


def test_a_call_that_hangs_is_stopped_and_the_next_part_runs() -> None:
    """After one endless call, the part's other cases are not run (each would cost the whole limit)."""
    source = "def slow(n):\n    while n:\n        pass\n    return 'done'"
    parts = [
        PartRequest("slow", "slow", [("hangs", (1,)), ("quick", (0,))], {}),
        PartRequest("again", "slow", [("quick", (0,))], {}),
    ]
    result = run_sandboxed(_cells(source), parts, Limits(cell_seconds=1.0, notebook_seconds=20.0))
    hung, skipped = result.parts["slow"]["hangs"], result.parts["slow"]["quick"]
    assert isinstance(hung, dict) and hung["error"] == "TimeLimit"
    assert isinstance(skipped, dict) and skipped["error"] == "TimeLimit" and "not run" in skipped["message"]
    assert result.parts["again"]["quick"] == "done"


def test_an_empty_notebook_runs_in_about_a_second() -> None:
    result = run_sandboxed([], [])
    assert result.status == "ok" and result.cell_outputs == {} and result.parts == {}
    assert result.seconds < 5
