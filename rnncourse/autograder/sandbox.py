"""Run a learner's notebook in a sandbox, and bring back only plain values.

``run_sandboxed`` starts ``runner.py`` (as ``/work/_runner.py``) under bubblewrap (``bwrap``, Debian's
``bubblewrap``) in a fresh private folder, and returns each cell's outputs and,
per part and case, what the learner's function returned (decoded by
``_codec``), which the grader then verifies outside the sandbox.

What the sandbox sees (everything else of the host does not exist there):

- ``/usr`` (with Debian's ``/bin``, ``/lib``, ``/lib64``, ``/sbin`` links) and
  ``/etc/ld.so.cache``, read-only: the system's programs and libraries;
- the Python installation (``sys.base_prefix``) at its own path, read-only;
- the venv's ``site-packages`` at ``/opt/site-packages``, read-only, with
  ``rnncourse``'s editable-install hooks, ``torch``, ``scipy`` and
  ``nbgrader`` hidden (empty folders, empty files); the runner starts Python
  with ``-S`` so no ``.pth`` file runs, and answers their imports with a
  clear ImportError (``rnncourse.grading.<any>``: checks that do nothing);
- ``/work``: the private folder (the request, the runner, ``_codec.py``),
  writable; a private ``/tmp`` of at most 64 MiB; ``/proc`` and a minimal
  ``/dev``. Everything else, the sandbox's own ``/`` included, is read-only.

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
the runner stops a cell or a call after ``cell_seconds``; the grader kills
the whole sandbox at ``notebook_seconds`` of wall clock, or when its output
goes past ``output_bytes``. When the grader runs as root, the learner's code
runs as an otherwise unused user id (so the process limit counts only its
own processes) with no capabilities. Files the learner writes in ``/work``
are on the host's disk (each at most ``output_bytes``). Not isolated: CPU time and memory
bandwidth shared with the other sandboxes; without the memory cgroup, the sum
of the memory of several processes (each one has the bound).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnncourse.grading import _codec

SITE_IN_SANDBOX = "/opt/site-packages"
HIDDEN_PACKAGES = ("torch", "torchgen", "functorch", "scipy", "nbgrader", "rnncourse")
REPORT_CAP = 256 * 1024**2  # what the runner may send back, answers and cell outputs together
TMP_BYTES = 64 * 1024**2  # the private /tmp lives in memory: bounded
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
    cell_seconds: float = 60.0  # per cell, and per function call of a part
    notebook_seconds: float = 300.0  # the whole run, wall clock: the grader kills the sandbox
    output_bytes: int = 1_000_000  # per cell's captured text; also RLIMIT_FSIZE for files written
    processes: int = 64  # RLIMIT_NPROC inside


@dataclass(frozen=True)
class PartRequest:
    """One graded function to call inside the sandbox."""

    grade_id: str
    function: str
    cases: list[tuple[str, tuple[Any, ...]]]  # (case name, positional args); args encodable by _codec
    substitutes: dict[str, str]  # name -> source defining that function


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
    work = Path(tempfile.mkdtemp(prefix="rnncourse-sandbox-"))
    try:
        uid = _sandbox_uid()
        _prepare(work, cells, parts, limits, uid)
        run = _Run(limits, start)
        run.execute(_command(work, uid), _environment())
        return run.result(time.monotonic() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- preparing the private folder ---------------------------------------------------------------


def _prepare(
    work: Path, cells: list[tuple[int, str]], parts: list[PartRequest], limits: Limits, uid: int | None
) -> None:
    work.chmod(0o700)
    arrays: dict[str, np.ndarray] = {}
    request = {
        "cells": [[index, source] for index, source in cells],
        "parts": [
            {
                "grade_id": part.grade_id,
                "function": part.function,
                "cases": [
                    [name, _codec.encode(tuple(args), arrays, f"p{p}c{c}_")]
                    for c, (name, args) in enumerate(part.cases)
                ],
                "substitutes": dict(part.substitutes),
            }
            for p, part in enumerate(parts)
        ],
        "limits": {
            "cell_seconds": limits.cell_seconds,
            "output_bytes": limits.output_bytes,
            "memory_bytes": limits.memory_bytes,
        },
    }
    (work / "request.json").write_text(json.dumps(request))
    np.savez(work / "inputs.npz", allow_pickle=False, **arrays)
    # The runner keeps its in-sandbox name, /work/_runner.py; the codec comes from grading/.
    shutil.copy(Path(__file__).with_name("runner.py"), work / "_runner.py")
    shutil.copy(_codec.__file__, work / "_codec.py")
    if uid is not None:
        for path in [work, *work.iterdir()]:
            os.chown(path, uid, uid)


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


def _command(work: Path, uid: int | None) -> list[str]:
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
    command += ["--bind", str(work), "/work", "--chdir", "/work"]
    command += ["--remount-ro", "/"]  # the sandbox's own root folder too: only /work and /tmp are writable
    if uid is not None:
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
        command += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        command += ["--inh-caps=-all", "--bounding-set=-all"]
    else:
        command += ["--"]
    return command + [str(python), "-S", "-B", "/work/_runner.py"]


def _environment() -> dict[str, str]:
    """The whole environment inside: nothing of the grader's leaks in."""
    threads = "1"  # the grader runs several sandboxes side by side
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/work",
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


@dataclass
class _Run:
    """One sandbox process and everything it reported."""

    limits: Limits
    start: float
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

    def execute(self, command: list[str], environment: dict[str, str]) -> None:
        processes = self.limits.processes
        if os.geteuid() != 0:
            # Not root: the count is the grader's whole user's, so the bound is on top of what runs already.
            processes += _threads_of_user(os.getuid())
        group = MemoryGroup.create(self.limits.memory_bytes)
        read_end, write_end = os.pipe()
        environment = {**environment, "RNNCOURSE_REPORT_FD": str(write_end)}
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_end,),
                env=environment,
                start_new_session=True,
                preexec_fn=lambda: _limit_child(self.limits, processes, group),
                cwd="/",
            )
        except BaseException:
            if group is not None:
                group.remove()
            raise
        finally:
            os.close(write_end)
        try:
            self._read(process, read_end)
        finally:
            os.close(read_end)
            if process.poll() is None:
                self._kill(process)
            self.returncode = process.wait()
            if group is not None:
                self.oom_kills = group.oom_kills()
                group.remove()

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def _read(self, process: subprocess.Popen[bytes], report_fd: int) -> None:
        assert process.stdout is not None and process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ, "output")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        selector.register(report_fd, selectors.EVENT_READ, "report")
        pending = b""
        deadline = self.start + self.limits.notebook_seconds
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                self.killed_for = "time limit"
                self._kill(process)
                return
            for key, _ in selector.select(timeout=min(left, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "report":
                    self.report_seen += len(chunk)
                    if self.report_seen > REPORT_CAP:
                        self.killed_for = "report limit"
                        self._kill(process)
                        return
                    pending = self._lines(pending + chunk)
                    continue
                # Output that went around the runner's capture (os.write, subprocesses): counted and dropped.
                if key.data == "stderr" and len(self.stderr_head) < 4096:
                    self.stderr_head += chunk[: 4096 - len(self.stderr_head)]
                self.output_seen += len(chunk)
                if self.output_seen > self.limits.output_bytes:
                    self.killed_for = "output limit"
                    self._kill(process)
                    return
        self._lines(pending + b"\n")

    def _lines(self, data: bytes) -> bytes:
        *lines, rest = data.split(b"\n")
        for line in lines:
            if line.strip():
                self._message(line)
        return rest

    def _message(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            return  # not the runner's: a learner writing on the report pipe only spoils its own report
        if not isinstance(message, dict):
            return
        if "cell" in message and isinstance(message["cell"], int):
            self.current_cell = message["cell"]
        elif "outputs" in message and isinstance(message.get("list"), list):
            if isinstance(message["outputs"], int):
                self.cell_outputs[message["outputs"]] = [o for o in message["list"] if isinstance(o, dict)]
        elif "case" in message:
            self.in_parts = True
        elif "part" in message:
            self.parts[str(message["part"])] = _decode_part(message)
        elif message.get("done") is True:
            self.done = True

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
            return "output limit", f"the answers were larger than {REPORT_CAP // 1024**2} MB{where}"
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


def _decode_part(message: dict[str, Any]) -> dict[str, object]:
    """One part's answers, decoded to plain values; an unreadable one becomes an error entry."""
    try:
        data = base64.b64decode(str(message.get("npz", "")), validate=True)
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
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
