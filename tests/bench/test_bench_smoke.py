"""The benchmark runs: ``bench/bench_recurrent.py --quick`` prints its tables.

Only that it runs and what it prints; the numbers themselves depend on the
machine and are read by people (bench/README.md), not asserted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_recurrent.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"numpy ms\s+torch ms\s+numpy/torch", out), out
    for model in ("lstm", "gru", "rnn"):
        for dtype in ("float32", "float64"):
            # a row: shape, model, dtype, two times, a ratio, then throughput
            row = rf"\(5, 4, 8, 16\)\s+{model}\s+{dtype}\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+"
            assert re.search(row, out), f"no row for {model} {dtype} in:\n{out}"
        memory_row = rf"^{model}" + r"\s+[\d.]+" * 4 + r"\s+[\d.]+x$"
        assert re.search(memory_row, out, re.M), out
    assert "memory of NumPy forward+backward" in out, out
    # the machine's state at both ends, and no share of the matrix products above 100%
    cores = r"on \d+ cores"
    assert re.search(
        rf"^load average \(1, 5, 15 min\) at the start: [\d.]+ [\d.]+ [\d.]+ {cores}$", out, re.M
    ), out
    assert re.search(
        rf"^load average \(1, 5, 15 min\) at the end: [\d.]+ [\d.]+ [\d.]+ {cores}", out, re.M
    ), out
    shares = [int(share) for share in re.findall(r"\s(\d+)%\*?\s+\d+%$", out, re.M)]
    assert len(shares) == 6 and max(shares) <= 100, out
