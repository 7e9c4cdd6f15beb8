"""Correct earlier parts and the code an exercise gives, as real Python: one file per chapter.

A later part calls earlier ones (``rnn_forward`` calls ``rnn_cell_forward``).
While it is checked, the correct versions here replace the learner's, so each
part earns its points on its own (``rnncourse.grading.parts``). The functions
are written with NumPy alone, each self-contained (no helper outside its own
body), because the sandbox that runs a learner's notebook cannot import
``rnncourse``: :func:`source_of` gives the text of one function, which the
sandbox executes on its own. ``tests/grading/test_substitutes.py`` proves each
equal to the course's reference in ``rnncourse.scratch`` (or the check's own).

=======================  ===================================================
``ch01_recurrence``      the cell, the forward pass, softmax
``ch02_bptt``            one step's backward, BPTT over a sequence, clipping by global norm
``ch03_vanishing``       the scalar network of part 4 (given)
``ch04_lstm``            the LSTM step and the LSTM over a padded batch
``ch05_gru``             the GRU step, its backward, and the given RNN step
``ch07_seq2seq``         the given step function of the decoding parts
``ch08_applications``    the data preparation, the given model, early stopping
=======================  ===================================================
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

HEADER = "import numpy as np\n\n\n"


def source_of(function: Callable[..., Any]) -> str:
    """A module's source that defines ``function`` alone: NumPy's import, then its definition."""
    return HEADER + textwrap.dedent(inspect.getsource(function))
