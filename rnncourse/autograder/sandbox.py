"""Run a learner's notebook in a sandbox, and bring back only plain values.

``run_sandboxed`` starts ``runner.py`` (compiled, as ``/work/_runner.pyc``) under bubblewrap (``bwrap``, Debian's
``bubblewrap``) in a fresh private folder, and returns each cell's outputs and,
per part and case, what the learner's function returned (decoded by
``_codec``), which the grader then verifies outside the sandbox.

The grader and the runner talk over two pipes (see ``runner.py``): the grader
sends the cells first, then one part at a time, each only when the runner has
reported the previous part's answers, so nothing of a part (its inputs, hidden
ones included, and its substitutes) is in the sandbox before that part is
checked. What comes back is read as untrusted data: linearly, with a cap on
every line and on the whole; each record is taken once, in the protocol's
order (a part's answers only while that part is asked for); cell outputs are
rebuilt from their text alone (streams, plain-text displays, errors), so no
HTML, JavaScript or forged test-cell output can come through.

What the sandbox sees (everything else of the host does not exist there):

- ``/usr`` (with Debian's ``/bin``, ``/lib``, ``/lib64``, ``/sbin`` links) and
  ``/etc/ld.so.cache``, read-only: the system's programs and libraries;
- the Python installation (``sys.base_prefix``) at its own path, read-only;
- the venv's ``site-packages`` at ``/opt/site-packages``, read-only, with
  ``rnncourse``'s editable-install hooks, ``torch``, ``scipy`` and
  ``nbgrader`` hidden (empty folders, empty files); the runner starts Python
  with ``-S`` so no ``.pth`` file runs, and answers their imports with a
  clear ImportError (``rnncourse.grading.<any>``: checks that do nothing);
- ``/work``: the private folder, writable, in memory and bounded in size
  (``WORK_BYTES``), with the runner and ``_codec``, compiled, bound read-only into it;
  a private ``/tmp`` of at most 64 MiB; ``/proc`` and a minimal ``/dev``.
  Everything else, the sandbox's own ``/`` included, is read-only.

Not visible: the course (the repository, so also ``solutions/``, the
gradebook, ``submitted/``, other submissions), the instructor's home, the
host's ``/tmp`` and ``/etc``. No network (a private network namespace with
only its own loopback), no IPC, its own process tree (everything in it dies
with the sandbox), its own session (no terminal signals).

Limits: address space (``RLIMIT_AS``), CPU seconds, file size and number of
processes are set before ``bwrap`` starts and inherited by everything in it;
where the grader may make one (cgroup v1's memory controller as root, as on the
course's machines and CI, or cgroup v2's where it is delegated: ``MemoryGroup``),
a memory cgroup also bounds all the sandbox's processes together, and whatever
is left in it is killed at the end (``make grade`` says when it is missing, and
how to get it);
the runner stops a cell or a call after ``cell_seconds`` of CPU time (the same
verdict at any load; a cell that waits instead is stopped after a few times
that in wall-clock time); the grader kills the whole sandbox at
``notebook_seconds`` of wall clock, or when its output goes past
``output_bytes``. When the grader runs as root, the learner's code
runs as an otherwise unused user id (so the process limit counts only its
own processes) with no capabilities. Files the learner writes live in memory,
``WORK_BYTES`` in ``/work`` and ``TMP_BYTES`` in ``/tmp`` at most (and each at
most ``output_bytes``). Not isolated: CPU time and memory
bandwidth shared with the other sandboxes; without the memory cgroup, the sum
of the memory of several processes (each one has the bound).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import py_compile
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnncourse.grading import _codec

SITE_IN_SANDBOX = "/opt/site-packages"
WORK = "/work"  # the sandbox's private folder, its working directory
HIDDEN_PACKAGES = ("torch", "torchgen", "functorch", "scipy", "nbgrader", "rnncourse")
REPORT_CAP = 64 * 1024**2  # what the runner may send back, answers and cell outputs together
LINE_CAP = 32 * 1024**2  # one report line (a part's answers are its longest: a few kB in every exercise)
TMP_BYTES = 64 * 1024**2  # the private /tmp lives in memory: bounded
WORK_BYTES = 64 * 1024**2  # and so does the private /work
MAX_OUTPUTS = 1000  # outputs kept per cell
MAX_TRACEBACK = 100  # lines of one error output's traceback
CPU_MARGIN = 10.0  # seconds of CPU beyond the notebook bound before the kernel stops the process
SANDBOX_UIDS = (1_900_000_000, 1_000_000)  # first and count: ids no account uses
CGROUP_MEMORY = Path("/sys/fs/cgroup/memory")  # where cgroup v1's memory controller is mounted
PROC_CGROUP = Path("/proc/self/cgroup")  # this process's groups, in v1 and v2
PROC_MOUNTS = Path("/proc/self/mounts")  # where the v2 hierarchy is mounted
GROUP_PREFIX = "rnncourse-sandbox-"  # then the pid of the grader process that made the group
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT}


@dataclass(frozen=True)
class Limits:
    """The bounds of one sandbox run."""

    memory_bytes: int = 2 * 1024**3  # RLIMIT_AS per process; the memory cgroup's bound for all of them
    cell_seconds: float = 60.0  # CPU time per cell, and per function call of a part
    notebook_seconds: float = 300.0  # the whole run, wall clock: the grader kills the sandbox
    output_bytes: int = 1_000_000  # per cell's captured text; also RLIMIT_FSIZE for files written
    processes: int = 64  # RLIMIT_NPROC inside
    wait_seconds: float = 0.0  # wall clock per cell or call that waits instead of computing; 0: the default

    @property
    def cell_wait_seconds(self) -> float:
        """The wall-clock bound of a cell: ``wait_seconds``, or 4 times ``cell_seconds`` and at least 30 s."""
        return self.wait_seconds or max(4 * self.cell_seconds, 30.0)


@dataclass(frozen=True)
class PartRequest:
    """One graded function to call inside the sandbox."""

    grade_id: str
    function: str
    cases: list[tuple[str, tuple[Any, ...]]]  # (case name, positional args); args encodable by _codec
    substitutes: dict[str, str]  # name -> source defining that function
    parameters: tuple[str, ...] = ()  # the function's parameter names, for in-place messages
    imports: tuple[str, ...] = ("numpy",)  # the libraries it may use besides Python's standard library


@dataclass
class SandboxResult:
    """What came back from one run."""

    cell_outputs: dict[int, list[dict[str, Any]]]  # notebook index of a code cell -> nbformat outputs
    parts: dict[
        str, dict[str, object]
    ]  # grade_id -> case name -> decoded value, or {"error", "message", "line"}
    status: str  # "ok", "time limit", "memory limit", "crashed", "output limit", "exited"
    detail: str  # one plain sentence for the learner
    stopped_at_cell: int | None  # notebook index of the cell where the run stopped, if it did
    seconds: float


def sandbox_available() -> str | None:
    """None when bubblewrap works here, else what to install or why it does not."""
    if shutil.which("bwrap") is None:
        return "the grader's sandbox needs bubblewrap: sudo apt-get install bubblewrap"
    for needed in (Path(sys.base_prefix), _site_packages()):
        if not os.access(needed, os.R_OK | os.X_OK):
            return f"the sandbox runs as {os.getuid()}, which cannot read {needed}"
    try:
        done = subprocess.run(
            ["bwrap", *_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"bubblewrap does not start: {error}"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        return f"bubblewrap cannot create namespaces here ({why}); user namespaces may be disabled"
    return None


def run_sandboxed(
    cells: list[tuple[int, str]], parts: list[PartRequest], limits: Limits = Limits()
) -> SandboxResult:
    """Run ``cells`` (notebook index, source; test cells left out by the caller), then ``parts``."""
    start = time.monotonic()
    code = Path(tempfile.mkdtemp(prefix="rnncourse-sandbox-"))
    try:
        uid = _sandbox_uid()
        _prepare(code)
        part_lines = [(part.grade_id, _part_line(part)) for part in parts]
        run = _Run(limits, start, _header(cells, parts, limits), part_lines, frozenset(i for i, _ in cells))
        run.execute(_command(code, uid), _environment())
        return run.result(time.monotonic() - start)
    finally:
        shutil.rmtree(code, ignore_errors=True)


# ---- what the sandbox is sent ---------------------------------------------------------------------


# The runner and the codec as compiled code, made once per grader process: compiling their
# source in every sandbox cost each submission about 10 ms of its start-up.
_COMPILED: dict[str, bytes] = {}
IN_SANDBOX = {"_runner": Path(__file__).with_name("runner.py"), "_codec": Path(_codec.__file__)}


def _compiled(name: str) -> bytes:
    """``IN_SANDBOX[name]`` as a ``.pyc`` whose code names its file ``/work/<name>.py`` (tracebacks)."""
    if name not in _COMPILED:
        with tempfile.TemporaryDirectory(prefix="rnncourse-pyc-") as folder:
            target = Path(folder) / f"{name}.pyc"
            # Unchecked: the sandbox has no source to compare with; a new source is a new process's
            # business (and a new cache key, autograde._code_version).
            py_compile.compile(
                str(IN_SANDBOX[name]),
                cfile=str(target),
                dfile=f"{WORK}/{name}.py",
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            _COMPILED[name] = target.read_bytes()
    return _COMPILED[name]


def _prepare(code: Path) -> None:
    """The runner and the codec, compiled, which the sandbox sees read-only in its /work.

    Python runs ``_runner.pyc`` as its program and imports ``_codec`` from
    ``_codec.pyc`` (a folder on the path may hold bytecode without its source).
    """
    code.chmod(0o755)
    for name in IN_SANDBOX:
        (code / f"{name}.pyc").write_bytes(_compiled(name))
        (code / f"{name}.pyc").chmod(0o644)


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message) + "\n").encode()


def _header(cells: list[tuple[int, str]], parts: list[PartRequest], limits: Limits) -> bytes:
    """The first request: the cells, the limits, and every library some part may use."""
    return _line(
        {
            "cells": [[index, source] for index, source in cells],
            "limits": {
                "cell_seconds": limits.cell_seconds,
                "wait_seconds": limits.cell_wait_seconds,
                "output_bytes": limits.output_bytes,
                "memory_bytes": limits.memory_bytes,
            },
            "imports": sorted({name for part in parts for name in part.imports}),
        }
    )


def _part_line(part: PartRequest) -> bytes:
    """One part's request: its cases' inputs (arrays in an .npz, base64) and its substitutes."""
    arrays: dict[str, np.ndarray] = {}
    cases = [
        [name, _codec.encode(tuple(args), arrays, f"c{c}_")] for c, (name, args) in enumerate(part.cases)
    ]
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return _line(
        {
            "grade_id": part.grade_id,
            "function": part.function,
            "parameters": list(part.parameters),
            "imports": list(part.imports),
            "substitutes": dict(part.substitutes),
            "cases": cases,
            "npz": base64.b64encode(buffer.getvalue()).decode(),
        }
    )


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _hidden_paths(site: Path) -> tuple[list[Path], list[Path]]:
    """(folders, files) of the venv that the sandbox must not see."""
    folders, files = [], []
    for entry in site.iterdir():
        stem = entry.name.split(".")[0].split("-")[0]
        if "rnncourse" in entry.name or stem in HIDDEN_PACKAGES:
            if entry.is_dir() and not entry.is_symlink():
                folders.append(entry)
            elif entry.is_file():
                files.append(entry)
    return folders, files


# ---- the command ----------------------------------------------------------------------------------


def _sandbox_uid() -> int | None:
    """An unused user id to run as, when the grader is root (else the grader's own id)."""
    if os.geteuid() != 0:
        return None
    first, count = SANDBOX_UIDS
    return first + secrets.randbelow(count)


def _namespaces() -> list[str]:
    # As root, bwrap makes no user namespace: the runner then drops to an unused id with setpriv.
    if os.geteuid() == 0:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    return ["--unshare-all"]


def _command(code: Path, uid: int | None) -> list[str]:
    site = _site_packages()
    prefix = Path(sys.base_prefix).resolve()
    python = prefix / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    command = ["bwrap", *_namespaces(), "--die-with-parent", "--new-session"]
    command += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/", link)
        if target.is_symlink():
            command += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            command += ["--ro-bind", str(target), str(target)]
    if Path("/etc/ld.so.cache").exists():
        command += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    # bwrap makes missing parents of a mount point private (0700): open them to the sandbox's user.
    for parent in sorted({*prefix.parents, *Path(SITE_IN_SANDBOX).parents} - {Path("/")}):
        command += ["--perms", "0755", "--dir", str(parent)]
    command += ["--ro-bind", str(prefix), str(prefix)]
    command += ["--ro-bind", str(site), SITE_IN_SANDBOX]
    folders, files = _hidden_paths(site)
    for folder in folders:
        command += ["--tmpfs", f"{SITE_IN_SANDBOX}/{folder.name}"]
    for file in files:
        command += ["--ro-bind", "/dev/null", f"{SITE_IN_SANDBOX}/{file.name}"]
    # /tmp is shared by the sandbox only: sticky and open to its (dropped) user.
    command += ["--proc", "/proc", "--dev", "/dev"]
    command += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    command += ["--perms", "1777", "--size", str(WORK_BYTES), "--tmpfs", WORK]
    for name in IN_SANDBOX:
        command += ["--ro-bind", str(code / f"{name}.pyc"), f"{WORK}/{name}.pyc"]
    command += ["--chdir", WORK]
    command += ["--remount-ro", "/"]  # the sandbox's own root folder too: only /work and /tmp are writable
    if uid is not None:
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
        command += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        command += ["--inh-caps=-all", "--bounding-set=-all"]
    else:
        command += ["--"]
    return command + [str(python), "-S", "-B", f"{WORK}/_runner.pyc"]


def _environment() -> dict[str, str]:
    """The whole environment inside: nothing of the grader's leaks in."""
    threads = "1"  # the grader runs several sandboxes side by side
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": WORK,
        "PYTHONPATH": SITE_IN_SANDBOX,
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "OPENBLAS_NUM_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    }


class MemoryGroup:
    """A memory cgroup holding every process of one sandbox: their memory together is bounded.

    cgroup v1 (the ``memory`` controller's own hierarchy: ``memory.limit_in_bytes``)
    or cgroup v2 (the unified hierarchy: ``memory.max``, no swap), whichever
    holds the memory controller here. :meth:`create` gives None where the grader
    may not make one; :func:`memory_group_parent` says why, and each process
    then keeps only its own ``RLIMIT_AS``.
    """

    def __init__(self, path: Path, version: int = 1) -> None:
        self.path = path
        self.version = version

    @classmethod
    def create(cls, limit_bytes: int) -> MemoryGroup | None:
        parent, version, _ = memory_group_parent()
        if parent is None:
            return None
        _remove_orphans(parent, version)
        group = cls(parent / f"{GROUP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}", version)
        try:
            group.path.mkdir()
        except OSError:
            return None
        try:
            if version == 1:
                (group.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
                swap = group.path / "memory.memsw.limit_in_bytes"  # only with swap accounting on
                if swap.exists():
                    swap.write_text(str(limit_bytes))  # no more memory by way of swap
            else:
                (group.path / "memory.max").write_text(str(limit_bytes))
                swap = group.path / "memory.swap.max"  # only with swap accounting on
                if swap.exists():
                    swap.write_text("0")
        except OSError:
            group.remove()
            return None
        return group

    def enter(self) -> None:
        """Move the calling process (the sandbox's first, before exec) into the group."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def oom_kills(self) -> int:
        """How many of the group's processes the kernel killed for going past the bound."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.path / name).read_text()
        except OSError:
            return 0
        counts = [int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill ")]
        return counts[0] if counts else 0

    def remove(self, seconds: float = 10.0) -> None:
        """Kill what is left in the group (a process that left the process group, too), then remove it.

        A group still busy after ``seconds`` stays: a later :meth:`create`
        removes it (see ``_remove_orphans``).
        """
        deadline = time.monotonic() + seconds
        pause = 0.005
        while True:
            try:
                pids = [int(pid) for pid in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                return  # gone already
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                self.path.rmdir()
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(pause)  # the killed processes are still exiting (a busy machine: longer)
                pause = min(2 * pause, 0.2)


def _remove_orphans(parent: Path, version: int) -> None:
    """Remove the groups that a grader process which has ended could not remove (still busy then)."""
    for path in parent.glob(f"{GROUP_PREFIX}*"):
        creator = path.name.removeprefix(GROUP_PREFIX).split("-")[0]
        if creator.isdigit() and not Path(f"/proc/{creator}").exists():
            MemoryGroup(path, version).remove(seconds=0.0)


def _own_cgroups() -> tuple[str | None, str | None]:
    """This process's path in cgroup v1's memory hierarchy and in the v2 hierarchy (None where absent)."""
    v1 = v2 = None
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        return None, None
    for line in lines:
        if line.count(":") < 2:
            continue
        number, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            v1 = path
        elif number == "0" and controllers == "":
            v2 = path
    return v1, v2


def _cgroup2_mount() -> Path | None:
    try:
        mounts = PROC_MOUNTS.read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def memory_group_parent() -> tuple[Path | None, int, str]:
    """Where this process may make memory groups: (folder, cgroup version, '') or (None, 0, why not)."""
    v1, v2 = _own_cgroups()
    if v1 is not None:  # the memory controller is in a v1 hierarchy: it cannot be in v2 too
        folder = CGROUP_MEMORY / v1.lstrip("/")
        if not (folder / "memory.limit_in_bytes").is_file():
            return None, 0, f"cgroup v1's memory controller is not mounted at {CGROUP_MEMORY}"
        if not os.access(folder, os.W_OK):
            return (
                None,
                0,
                f"cgroup v1: this user ({os.geteuid()}) may not make groups in {folder} (run as root)",
            )
        return folder, 1, ""
    mount = _cgroup2_mount()
    if v2 is None or mount is None:
        return None, 0, "this machine has no cgroup memory controller mounted (neither cgroup v1 nor v2)"
    own = mount / v2.lstrip("/")
    try:
        offered = (own / "cgroup.controllers").read_text().split()
        enabled = (own / "cgroup.subtree_control").read_text().split()
    except OSError as error:
        return None, 0, f"cgroup v2: {own} cannot be read ({error.strerror})"
    if "memory" not in offered:
        return (
            None,
            0,
            (
                f"cgroup v2: the memory controller is not delegated to {own} (it offers: "
                f"{' '.join(offered) or 'nothing'})"
            ),
        )
    if "memory" not in enabled:
        try:
            (own / "cgroup.subtree_control").write_text("+memory")
        except OSError as error:
            return (
                None,
                0,
                (
                    f"cgroup v2: cannot enable the memory controller for the groups under {own} "
                    f"({error.strerror}: it holds processes, or this user may not write there)"
                ),
            )
    if not os.access(own, os.W_OK):
        return None, 0, f"cgroup v2: this user ({os.geteuid()}) may not make groups in {own}"
    return own, 2, ""


def move_to_leaf() -> None:
    """Put the grader in a group of its own (cgroup v2), so that its group may hand memory to sandboxes.

    cgroup v2 lets a group enable the memory controller for its children only
    when no process sits in the group itself. In a delegated group where the
    grader is alone (``systemd-run --scope -p Delegate=yes``), the grader moves
    into a child group ``rnncourse-grader`` first. Nothing happens elsewhere.
    """
    v1, v2 = _own_cgroups()
    mount = _cgroup2_mount()
    if v1 is not None or v2 is None or mount is None:
        return
    own = mount / v2.lstrip("/")
    try:
        if "memory" not in (own / "cgroup.controllers").read_text().split():
            return
        if "memory" in (own / "cgroup.subtree_control").read_text().split():
            return
        others = set((own / "cgroup.procs").read_text().split()) - {str(os.getpid())}
        if others or own == mount:
            return
        leaf = own / "rnncourse-grader"
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return


def missing_memory_bound() -> str | None:
    """None when each sandbox gets a memory group, else which bound is missing and how to get it."""
    move_to_leaf()
    parent, _, why = memory_group_parent()
    if parent is not None:
        return None
    return (
        "the memory bound on all of a sandbox's processes together is missing here ("
        + why
        + "): each process of a sandbox is bounded alone (RLIMIT_AS), so a submission that starts n "
        "processes may use n times the bound. To get it: run `make grade` as root where cgroup v1's memory "
        "controller is mounted, or with cgroup v2 in a delegated group of its own: "
        "`systemd-run --user --scope -p Delegate=yes make grade` (or `sudo systemd-run --scope -p "
        "Delegate=yes make grade`)."
    )


def _limit_child(limits: Limits, processes: int, group: MemoryGroup | None) -> None:
    """In the child between fork and exec: the limits everything in the sandbox inherits."""
    if group is not None:
        with contextlib.suppress(OSError):  # not in the group: each process keeps its own bound
            group.enter()
    cpu = int(limits.notebook_seconds + CPU_MARGIN)
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def _threads_of_user(uid: int) -> int:
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            count += int(fields.get("Threads", "1"))
    return count


# ---- running and reading back -----------------------------------------------------------------


class _Lines:
    """Complete lines from chunks, in time linear in what arrives; a line longer than ``cap`` is refused."""

    def __init__(self, cap: int) -> None:
        self.buffer = bytearray()
        self.scanned = 0  # the buffer holds no newline before this offset
        self.cap = cap

    def feed(self, chunk: bytes) -> list[bytes] | None:
        """The lines that ``chunk`` completes, or None when an unfinished line passes the cap."""
        self.buffer += chunk
        lines, start = [], 0
        while True:
            end = self.buffer.find(b"\n", max(start, self.scanned))
            if end < 0:
                break
            lines.append(bytes(self.buffer[start:end]))
            start = end + 1
        del self.buffer[:start]
        self.scanned = len(self.buffer)
        return None if len(self.buffer) > self.cap else lines


@dataclass
class _Run:
    """One sandbox process: the requests sent to it, and everything it reported."""

    limits: Limits
    start: float
    header: bytes
    part_lines: list[tuple[str, bytes]]  # (grade_id, request line), sent one at a time
    cells: frozenset[int]  # the notebook indices of the cells sent
    cell_outputs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    parts: dict[str, dict[str, object]] = field(default_factory=dict)
    current_cell: int | None = None
    in_parts: bool = False
    done: bool = False
    killed_for: str | None = None
    returncode: int | None = None
    stderr_head: bytes = b""
    output_seen: int = 0
    report_seen: int = 0
    oom_kills: int = 0
    sent: int = 0  # how many parts were sent
    asked: str | None = None  # the part whose answers are awaited
    ended: bool = False  # the "end" request is sent: "done" may come
    outgoing: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.outgoing += self.header

    def execute(self, command: list[str], environment: dict[str, str]) -> None:
        processes = self.limits.processes
        if os.geteuid() != 0:
            # Not root: the count is the grader's whole user's, so the bound is on top of what runs already.
            processes += _threads_of_user(os.getuid())
        group = MemoryGroup.create(self.limits.memory_bytes)
        report_read, report_write = os.pipe()
        request_read, request_write = os.pipe()
        environment = {
            **environment,
            "RNNCOURSE_REPORT_FD": str(report_write),
            "RNNCOURSE_REQUEST_FD": str(request_read),
        }
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(report_write, request_read),
                env=environment,
                start_new_session=True,
                preexec_fn=lambda: _limit_child(self.limits, processes, group),
                cwd="/",
            )
        except BaseException:
            if group is not None:
                group.remove()
            for fd in (report_read, request_write):
                os.close(fd)
            raise
        finally:
            os.close(report_write)
            os.close(request_read)
        os.set_blocking(request_write, False)
        try:
            self._read(process, report_read, request_write)
        finally:
            os.close(report_read)
            with contextlib.suppress(OSError):
                os.close(request_write)
            if process.poll() is None:
                self._kill(process)
            self.returncode = process.wait()
            if group is not None:
                self.oom_kills = group.oom_kills()
                group.remove()

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def _read(self, process: subprocess.Popen[bytes], report_fd: int, request_fd: int) -> None:
        assert process.stdout is not None and process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ, "output")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        selector.register(report_fd, selectors.EVENT_READ, "report")
        writing = True
        selector.register(request_fd, selectors.EVENT_WRITE, "request")
        lines = _Lines(LINE_CAP)
        deadline = self.start + self.limits.notebook_seconds
        while any(key.data != "request" for key in selector.get_map().values()):
            left = deadline - time.monotonic()
            if left <= 0:
                self.killed_for = "time limit"
                self._kill(process)
                return
            for key, _ in selector.select(timeout=min(left, 1.0)):
                if key.data == "request":
                    if not self._write(request_fd):
                        selector.unregister(request_fd)
                        writing = False
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "report":
                    self.report_seen += len(chunk)
                    complete = lines.feed(chunk)
                    if self.report_seen > REPORT_CAP or complete is None:
                        self.killed_for = "report limit"
                        self._kill(process)
                        return
                    for line in complete:
                        self._message(line)
                    if self.outgoing and not writing:
                        selector.register(request_fd, selectors.EVENT_WRITE, "request")
                        writing = True
                    continue
                # Output that went around the runner's capture (os.write, subprocesses): counted and dropped.
                if key.data == "stderr" and len(self.stderr_head) < 4096:
                    self.stderr_head += chunk[: 4096 - len(self.stderr_head)]
                self.output_seen += len(chunk)
                if self.output_seen > self.limits.output_bytes:
                    self.killed_for = "output limit"
                    self._kill(process)
                    return
        for line in lines.feed(b"\n") or []:
            self._message(line)

    def _write(self, fd: int) -> bool:
        """Send what is queued for the runner; False when nothing is left to send (or it cannot be)."""
        try:
            written = os.write(fd, self.outgoing[:65536])
        except BlockingIOError:
            return True
        except OSError:  # the runner is gone, or closed its end: its report says what happened
            self.outgoing.clear()
            return False
        del self.outgoing[:written]
        return bool(self.outgoing)

    def _message(self, line: bytes) -> None:
        """One report line, taken only where the protocol expects it (see the module's docstring)."""
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            return  # not the runner's: a learner writing on the report pipe only spoils its own report
        if not isinstance(message, dict):
            return
        cells_phase = self.sent == 0 and not self.ended
        if "cell" in message:
            index = message["cell"]  # cells run in order: an announcement goes forward only
            if (
                cells_phase
                and index in self.cells
                and (self.current_cell is None or index > self.current_cell)
            ):
                self.current_cell = index
        elif "outputs" in message:
            # The outputs of the cell announced last; the runner reports them after the cell, so its record wins.
            index = self.current_cell
            if index is not None and message["outputs"] == index:
                self.cell_outputs[index] = _rebuilt(message.get("list"), self.limits.output_bytes)
        elif "case" in message:
            self.in_parts = self.in_parts or self.asked is not None
        elif "part" in message:
            asked = self.asked
            if asked is not None and message["part"] == asked and asked not in self.parts:
                self.parts[asked] = _decode_part(message)
                self.asked = None
        elif message.get("ready") is True:
            self._next_request()
        elif message.get("done") is True and self.ended:
            self.done = True

    def _next_request(self) -> None:
        """Queue the next part, once the previous one's answers are in (or the end, after the last)."""
        if self.asked is not None or self.ended:
            return
        if self.sent < len(self.part_lines):
            self.asked, line = self.part_lines[self.sent]
            self.sent += 1
            self.outgoing += line
        else:
            self.ended = True
            self.outgoing += _line({"end": True})

    def result(self, seconds: float) -> SandboxResult:
        status, detail = self._status()
        stopped = None if status == "ok" or self.in_parts else self.current_cell
        return SandboxResult(self.cell_outputs, self.parts, status, detail, stopped, seconds)

    def _status(self) -> tuple[str, str]:
        where = self._where()
        if self.killed_for == "time limit":
            return (
                "time limit",
                f"the notebook ran longer than the {self.limits.notebook_seconds:g} s limit{where}",
            )
        if self.killed_for == "output limit":
            return "output limit", f"the notebook printed more than {self.limits.output_bytes:,} bytes{where}"
        if self.killed_for == "report limit":
            return "output limit", f"the notebook sent more than the grader reads back{where}"
        if self.done and self.returncode == 0:
            return "ok", "the notebook ran to the end"
        code = self.returncode or 0
        signum = code - 128 if code > 128 else -code if code < 0 else 0
        if signum == signal.SIGXCPU:
            return "time limit", f"the notebook used more CPU time than the limit{where}"
        memory = self.limits.memory_bytes / 1024**3
        if signum == signal.SIGKILL and self.oom_kills:
            return (
                "memory limit",
                f"the notebook's processes together needed more memory than the limit of {memory:g} GiB{where}",
            )
        if b"MemoryError" in self.stderr_head or signum == signal.SIGKILL:
            return "memory limit", f"the notebook needed more memory than the limit of {memory:g} GiB{where}"
        if signum in CRASH_SIGNALS:
            return "crashed", f"the notebook's process crashed ({signal.Signals(signum).name}){where}"
        return "exited", f"the notebook's process exited before the end (exit status {code}){where}"

    def _where(self) -> str:
        if self.in_parts:
            return " while its functions were being called"
        return f" in cell {self.current_cell}" if self.current_cell is not None else ""


def _text(value: object, limit: int) -> str | None:
    """A string output field (nbformat allows a list of strings), at most ``limit`` characters; None if not text."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = "".join(value)
    return value[:limit] if isinstance(value, str) else None


def _rebuilt(outputs: object, limit: int) -> list[dict[str, Any]]:
    """A cell's outputs made anew from their text: streams, plain-text displays and errors; nothing else."""
    rebuilt: list[dict[str, Any]] = []
    if not isinstance(outputs, list):
        return rebuilt
    left = limit  # of text; error outputs (bounded on their own) are always kept: they say why a cell stopped
    for output in outputs[:MAX_OUTPUTS]:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        if kind in ("stream", "display_data", "execute_result") and left <= 0:
            continue
        if kind == "stream" and output.get("name") in ("stdout", "stderr"):
            text = _text(output.get("text"), left)
            if text is not None:
                rebuilt.append({"output_type": "stream", "name": output["name"], "text": text})
                left -= len(text)
        elif kind in ("display_data", "execute_result") and isinstance(output.get("data"), dict):
            text = _text(output["data"].get("text/plain"), left)
            if text is not None:
                rebuilt.append({"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}})
                left -= len(text)
        elif kind == "error":
            ename, evalue = _text(output.get("ename"), 200), _text(output.get("evalue"), 2000)
            trace = output.get("traceback")
            lines = [_text(line, 2000) for line in trace[:MAX_TRACEBACK]] if isinstance(trace, list) else []
            if ename is not None and evalue is not None:
                kept = [line for line in lines if line is not None]
                rebuilt.append({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": kept})
    return rebuilt


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an .npz as np.savez writes it: stored, never compressed, so reading costs what it weighs."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if any(m.compress_type != zipfile.ZIP_STORED for m in members) or sum(
            m.file_size for m in members
        ) > len(data):
            raise ValueError("the answers' arrays are not an .npz as the runner writes them")
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


def _decode_part(message: dict[str, Any]) -> dict[str, object]:
    """One part's answers, decoded to plain values; an unreadable one becomes an error entry."""
    try:
        data = base64.b64decode(str(message.get("npz", "")), validate=True)
        arrays = _load_npz(data)
    except Exception as error:  # a malformed report is the learner's own spoiled answer
        arrays = {}
        broken = str(error)
    else:
        broken = ""
    values = message.get("values")
    decoded: dict[str, object] = {}
    if not isinstance(values, dict):
        return decoded
    for case, structure in values.items():
        try:
            if broken:
                raise ValueError(broken)
            decoded[str(case)] = _codec.decode(structure, arrays)
        except (ValueError, RecursionError) as error:
            decoded[str(case)] = {"error": "UnreadableAnswer", "message": str(error)[:200], "line": ""}
    return decoded
