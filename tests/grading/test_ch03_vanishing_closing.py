"""Exercise 3's closing cells: the learner's parts judge three recurrent matrices, and the
learner's identity initialisation trains a ReLU RNN on the adding problem.

The grader skips the training cell (it needs PyTorch and the course package), so this test
runs the source notebook's code, the solution's parts included, and checks what it shows.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.conftest import REPO
from tests.grading.notebooks import run_code_cells

pytestmark = pytest.mark.slow


def test_the_verdicts_and_the_identity_initialisation_do_what_the_text_says(
    tool_env: dict[str, str],
) -> None:
    printed = run_code_cells(REPO / "solutions" / "ch03_vanishing" / "ch03_vanishing.ipynb", tool_env)
    verdicts = re.findall(r"gain [\d.]+: '([a-z ]+)'", printed)
    assert verdicts == ["neutral", "vanishes", "explodes"]
    curves = {
        name: np.array([float(v) for v in values.split()])
        for name, values in re.findall(r"^(tanh RNN|ReLU RNN).*?\[([\d. ]+)\]", printed, re.MULTILINE)
    }
    baseline = 1 / 6  # predicting 1 for every sequence
    assert curves["ReLU RNN"][-1] < 0.3 * baseline  # the IRNN learns the sum (measured 0.02)
    assert curves["tanh RNN"][-1] > 0.6 * baseline  # the default tanh RNN stays near it (0.15)
