"""The memory group of a sandbox on cgroup v2, and every 'cannot' path, by simulation.

The machine's own cgroup (v1 here, as on the course's CI) is tested for real in
test_sandbox.py. cgroup v2's kernel side cannot be shown where the memory
controller is bound to v1, so these tests lay out the files the kernel would
show (``/proc/self/cgroup``, ``/proc/self/mounts``, the group's folder) in a
temporary folder and check what the grader reads and writes there, and what
``make grade`` says when it may not make a group.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rnncourse.autograder import sandbox


def lay_out(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    v1: str | None = None,
    v2: str | None = "/user.slice/grader.scope",
    offered: str = "cpu memory pids",
    enabled: str = "",
    processes: str = "",
) -> Path:
    """A fake cgroup layout; the grader's own v2 group (or the v1 memory group)."""
    proc = tmp_path / "proc"
    proc.mkdir()
    lines = []
    if v1 is not None:
        lines.append(f"4:memory:{v1}")
    if v2 is not None:
        lines.append(f"0::{v2}")
    (proc / "cgroup").write_text("\n".join(lines) + "\n")
    mount = tmp_path / "cgroup2"
    (proc / "mounts").write_text(f"cgroup2 {mount} cgroup2 rw,nosuid 0 0\n" if v2 is not None else "")
    monkeypatch.setattr(sandbox, "PROC_CGROUP", proc / "cgroup")
    monkeypatch.setattr(sandbox, "PROC_MOUNTS", proc / "mounts")
    monkeypatch.setattr(sandbox, "CGROUP_MEMORY", tmp_path / "memory")
    if v1 is not None:
        group = tmp_path / "memory" / v1.lstrip("/")
        group.mkdir(parents=True)
        (group / "memory.limit_in_bytes").write_text("9223372036854771712\n")
        return group
    own = mount / (v2 or "").lstrip("/")
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text(offered + "\n")
    (own / "cgroup.subtree_control").write_text(enabled + "\n")
    (own / "cgroup.procs").write_text(processes)
    return own


def test_v2_a_delegated_group_gets_memory_max_and_no_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = lay_out(tmp_path, monkeypatch)
    parent, version, why = sandbox.memory_group_parent()
    assert (parent, version, why) == (own, 2, "")
    assert (own / "cgroup.subtree_control").read_text() == "+memory"  # the controller handed to children
    original_mkdir = Path.mkdir

    def mkdir_like_the_kernel(self: Path, *args: object, **kwargs: object) -> None:
        original_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        if self.parent == own:
            (self / "memory.swap.max").write_text("max\n")  # what cgroupfs shows in a new group

    monkeypatch.setattr(Path, "mkdir", mkdir_like_the_kernel)
    group = sandbox.MemoryGroup.create(600 * 1024**2)
    assert group is not None and group.version == 2 and group.path.parent == own
    assert group.path.name.startswith(f"rnncourse-sandbox-{os.getpid()}-")
    assert (group.path / "memory.max").read_text() == str(600 * 1024**2)
    assert (group.path / "memory.swap.max").read_text() == "0"
    (group.path / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n")
    assert group.oom_kills() == 2


def test_v1_reads_its_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = lay_out(tmp_path, monkeypatch, v1="/docker/abc")
    monkeypatch.setattr(os, "access", lambda path, mode: True)
    group = sandbox.MemoryGroup.create(2 * 1024**3)
    assert group is not None and group.version == 1 and group.path.parent == own
    assert (group.path / "memory.limit_in_bytes").read_text() == str(2 * 1024**3)
    (group.path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert group.oom_kills() == 1


@pytest.mark.parametrize(
    ("layout", "says"),
    [
        ({"offered": "cpu pids"}, "the memory controller is not delegated to"),
        ({"v2": None}, "no cgroup memory controller mounted"),
    ],
)
def test_where_no_group_can_be_made_make_grade_says_which_bound_is_missing_and_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: dict[str, str | None], says: str
) -> None:
    lay_out(tmp_path, monkeypatch, **layout)  # type: ignore[arg-type]
    assert sandbox.MemoryGroup.create(1024**3) is None
    message = sandbox.missing_memory_bound()
    assert message is not None and says in message
    assert "memory bound on all of a sandbox's processes together is missing" in message
    assert "each process of a sandbox is bounded alone (RLIMIT_AS)" in message
    assert "Delegate=yes" in message and "cgroup v1" in message


def test_v2_a_group_that_holds_other_processes_cannot_hand_memory_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = lay_out(tmp_path, monkeypatch, processes=f"{os.getpid()}\n1234\n")
    (own / "cgroup.subtree_control").unlink()
    (own / "cgroup.subtree_control").mkdir()  # a write fails, as the kernel's EBUSY would
    (own / "cgroup.subtree_control" / "x").touch()
    monkeypatch.setattr(Path, "read_text", _reads_folders_as_empty(Path.read_text))
    message = sandbox.missing_memory_bound()
    assert message is not None and "cannot enable the memory controller" in message
    assert not (own / "rnncourse-grader").exists(), "the grader must not move when others share its group"


def test_v1_a_user_who_may_not_write_there_is_told_to_run_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay_out(tmp_path, monkeypatch, v1="/user/1000")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    parent, _, why = sandbox.memory_group_parent()
    assert parent is None and "run as root" in why


def test_v2_the_grader_alone_in_its_group_moves_to_a_leaf_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = lay_out(tmp_path, monkeypatch, processes=f"{os.getpid()}\n")
    sandbox.move_to_leaf()
    assert (own / "rnncourse-grader" / "cgroup.procs").read_text() == str(os.getpid())


def test_this_machine_gives_a_group_or_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """For real: either a group is made (and removed), or the reason is one of the named ones."""
    monkeypatch.setattr(sandbox, "move_to_leaf", lambda: None)  # never move the test process
    parent, version, why = sandbox.memory_group_parent()
    group = sandbox.MemoryGroup.create(1024**3)
    if parent is None:
        assert group is None and why.startswith(("cgroup v1", "cgroup v2", "this machine has no cgroup"))
        return
    assert group is not None and group.version == version and group.path.is_dir()
    group.remove()
    assert not group.path.exists()


def _reads_folders_as_empty(read_text):  # type: ignore[no-untyped-def]
    def read(self: Path, *args: object, **kwargs: object) -> str:
        return "" if self.is_dir() else read_text(self, *args, **kwargs)

    return read
