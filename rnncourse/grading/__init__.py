"""The checks that the exercise notebooks run, with messages that teach.

Every ``check_*`` function calls the learner's function on deterministic
float64 inputs, compares with the course's reference to a relative-error
threshold, and on failure raises :class:`GradingFailure` (an
``AssertionError``, which is what nbgrader counts) with a message that names
the likely mistake. While the learner's function runs, calls into
``rnncourse``'s own implementations (or into torch) are recorded, and a
function that makes one fails: the exercise is to write the code.
"""

from rnncourse.grading.ch01_recurrence import (
    check_build_vocab,
    check_classify,
    check_encode_and_pad,
    check_rnn_cell_forward,
    check_rnn_forward,
    check_softmax,
)
from rnncourse.grading.core import GradingFailure, run_learner_code

__all__ = [
    "GradingFailure",
    "check_build_vocab",
    "check_classify",
    "check_encode_and_pad",
    "check_rnn_cell_forward",
    "check_rnn_forward",
    "check_softmax",
    "run_learner_code",
]
