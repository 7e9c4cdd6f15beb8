"""``bench/bench_grading.py``: the class it builds, and what ``--quick`` prints.

The times depend on the machine and are read by people, not asserted; what
is asserted is that the class is what the benchmark says it is, that both
runs are reported, and that they agree on every grade.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.grading.notebooks import points, read

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "ch01_recurrence"


def load_bench() -> ModuleType:
    """The script as a module (it imports ``verdict`` from its own folder, as when run)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_grading", REPO / "bench" / "bench_grading.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_grading"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "bench"))
    return module


bench = load_bench()
SOURCE = read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
RELEASE = read(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def build(seed: int, quick: bool = False, size: int = 64) -> list:
    return bench.build_class(REPO, SOURCE, RELEASE, size, quick, seed)


def test_the_full_class_has_every_kind_of_submission() -> None:
    submissions = build(seed=0)
    assert len(submissions) == 64 and len({s.student for s in submissions}) == 64
    kinds = [s.kind for s in submissions]
    assert kinds.count("blank") >= 5 and kinds.count("correct") >= 15 and kinds.count("partly wrong") >= 20
    hostile = {s.what for s in submissions if s.kind == "hostile"}
    assert hostile == {"infinite-loop", "sys-exit", "memory-bomb", "many-lines"}


def test_expected_grades_follow_the_answers() -> None:
    full = points(SOURCE)
    submissions = build(seed=0)
    for s in submissions:
        assert set(s.expected) == set(full), s.what
        if s.kind == "correct":
            assert s.expected == full
        elif s.kind == "blank":
            assert not any(s.expected.values())
            # the release with one comment of its own: untouched answers, no shared sandbox run
            mine, given = [c.source for c in s.notebook.cells], [c.source for c in RELEASE.cells]
            changed = [i for i, (a, b) in enumerate(zip(mine, given, strict=True)) if a != b]
            assert len(changed) == 1 and mine[changed[0]].startswith("# opened by the learner")
            assert (
                mine[changed[0]].endswith(given[changed[0]])
                and "raise NotImplementedError()" in mine[changed[0]]
            )
            assert s.notebook.cells[changed[0]].metadata["nbgrader"]["solution"]  # not restored by nbgrader
            assert s.notebook != RELEASE
        elif s.kind == "partly wrong":
            lost = [cell for cell, value in s.expected.items() if value != full[cell]]
            assert len(lost) == 1 and s.expected[lost[0]] == 0.0, s.what
            assert s.what.startswith(lost[0].removeprefix("test_") + " wrong"), s.what
    # every part is wrong in some submission
    wrong_parts = {s.what.split()[0] for s in submissions if s.kind == "partly wrong"}
    assert {f"test_{part}" for part in wrong_parts} == set(full)


def test_a_mistake_without_a_message_is_not_counted_wrong() -> None:
    accepted = [code for code, message in bench.answers.MISTAKES["encode_and_pad"] if not message]
    assert accepted, "the answers file lost its accepted variant: this test checks nothing"
    assert not set(accepted) & set(bench.wrong_answers("encode_and_pad"))


def test_the_class_depends_on_the_seed_only() -> None:
    def sources(submissions: list) -> list[str]:
        return ["".join(cell.source for cell in s.notebook.cells) for s in submissions]

    assert sources(build(seed=3)) == sources(build(seed=3))
    assert sources(build(seed=3)) != sources(build(seed=4))


def test_quick_is_a_small_class_of_every_kind() -> None:
    submissions = build(seed=0, quick=True)
    assert len(submissions) == 6
    assert {s.kind for s in submissions} == {"correct", "partly wrong", "blank", "hostile"}


def test_differences_name_each_student_whose_grades_differ() -> None:
    one = {"a": {"test_softmax": 2.0}, "b": {"test_softmax": 2.0}}
    other = {"a": {"test_softmax": 2.0}, "b": {"test_softmax": 0.0}}
    assert bench.differences(one, other, ["a", "b", "c"]) == [
        "  b: {'test_softmax': 2.0} vs {'test_softmax': 0.0}"
    ]
    assert bench.differences(one, dict(one), ["a", "b"]) == []


@pytest.mark.slow
def test_quick_benchmark_grades_twice_and_agrees(tool_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_grading.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=tool_env,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    cores = os.cpu_count() or 1
    loads = r"[\d.]+ [\d.]+ [\d.]+"
    assert re.search(rf"^load average \(1, 5, 15 min\) at the start: {loads} on {cores} cores$", out, re.M), (
        out
    )
    assert re.search(rf"^load average \(1, 5, 15 min\) at the end: {loads} on {cores} cores", out, re.M), out
    assert re.search(
        r"^class: 6 submissions of ch01_recurrence \(seed 0\): 2 correct, 2 partly wrong, 1 blank, 1 hostile",
        out,
        re.M,
    ), out
    # one row per run: pair, workers, total, serial, reading, sandboxes, nbgrader, submissions/min, reused,
    # the load before and after
    for workers in {1, cores}:
        assert re.search(rf"^\s+1\s+{workers}" + r"\s+[\d.]+" * 6 + r"\s+0\s+[\d.]+\s+[\d.]+$", out, re.M), (
            out
        )
    assert re.search(
        rf"^submissions per minute, side by side: pair 1: 1 worker [\d.]+, {cores} workers [\d.]+ \(load before ",
        out,
        re.M,
    ), out
    assert re.search(
        rf"^{cores} workers / 1 worker: [\d.]+x submissions per minute, the median of 1 pair \(", out, re.M
    ), out
    assert re.search(r"^overhead per submission beyond running the notebook: [\d.]+ s = ", out, re.M), out
    runs = 2 if cores > 1 else 1
    assert f"same grades in all {runs} runs (1 and {cores} workers) for all 6 submissions" in out, out
    assert "grades as their answers earn: 6 of 6 submissions" in out, out
    assert "correct: 2 submissions, mean 15.0 / 15" in out and "blank: 1 submissions, mean 0.0 / 15" in out
    verdicts = re.findall(r"^  \[(met|NOT met|--)\] ", out, re.M)
    assert len(verdicts) == (2 if cores >= 2 else 1), out
    assert ("--" in verdicts) == ("no verdict" in out), out
