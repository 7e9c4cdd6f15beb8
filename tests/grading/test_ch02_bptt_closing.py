"""Exercise 2's closing cell: the learner's parts train a NumPy RNN on Hamlet and it writes.

The grader skips the cell (it needs the course's data), so this test runs the source
notebook's code, the solution's parts included, and checks what the cell's text promises.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from tests.grading.notebooks import run_code_cells

pytestmark = pytest.mark.slow


def test_the_learners_rnn_learns_hamlet_and_writes_a_play(tool_env: dict[str, str]) -> None:
    printed = run_code_cells(REPO / "solutions" / "ch02_bptt" / "ch02_bptt.ipynb", tool_env)
    held_out = [float(nats) for nats in re.findall(r"pass \d+: ([\d.]+) nats", printed)]
    assert len(held_out) == 8
    uniform = float(re.search(r"ln V = ([\d.]+)", printed).group(1))  # type: ignore[union-attr]
    # "the held-out loss falls to about 2 nats per character" (measured 1.97), from ln V = 4.1
    assert held_out[-1] < 2.05 and held_out[-1] < held_out[0] - 0.1 < uniform - 1.5
    sample = printed.rsplit("held-out tenth", 1)[1]
    assert len(sample.strip()) > 400
    # "the layout of a play": a speaker's name in capitals on its own line, then a speech
    assert re.search(r"^[A-Z]{3,}[A-Z ]*:$", sample, re.MULTILINE)
    words = re.findall(r"[a-z]+", sample.lower())
    common = {"the", "and", "of", "to", "my", "you", "that", "is", "not", "with", "his", "in"}
    assert sum(word in common for word in words) > 0.1 * len(words)
