"""``bench/bench_grading_steps.py --quick``: every step of the single pass is timed, and the grades hold.

The times depend on the machine and are read by people (``bench/README.md``);
what is asserted is that each of the pass's steps has its row, nbgrader's
sanitising and recording steps included one by one, and that the class was
graded as its answers earn (so the steps timed are the whole pass).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from nbgrader.preprocessors import SaveAutoGrades

from rnncourse.autograder import autograde

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_times_every_step_and_grades_the_class_right() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_grading_steps.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert done.stderr == "", done.stderr[-3000:]
    steps = [f"sanitise: nbgrader's {step.__name__}" for step in autograde.SANITIZE]
    steps += ["read the notebook", "sandbox", "verify the answers outside", "record: the submission's row"]
    steps += [f"record: nbgrader's {SaveAutoGrades.__name__}", "feedback page"]
    for step in steps:
        assert re.search(rf"^{re.escape(step)}\s+[\d.]+", out, re.M), f"no row for {step}:\n{out}"
    assert re.search(r"^all but the sandbox\s+[\d.]+$", out, re.M), out
    assert re.search(r"^an empty sandbox's start-up \(median of 3\): \d+ ms$", out, re.M), out
    assert "grades as their answers earn: 6 of 6 submissions" in out, out
    side_by_side = (
        r"^feedback pages made again, side by side in alternating order \(6 each\): median [\d.]+ ms"
    )
    assert re.search(side_by_side, out, re.M), out
