"""Exercise 4 through real nbgrader: the proof every exercise owes, and chapter 4's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch04_lstm_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_text

pytestmark = pytest.mark.slow


class TestCh04LstmExercise(ExerciseProof):
    ASSIGNMENT = "ch04_lstm"
    ANSWERS = ch04_lstm_answers
    TOTAL_POINTS = 19

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "wrong-lstm_step_forward": "sliced in the order i, f, o, g",
            "wrong-lstm_step_backward": "arriving from the next step is not added",
            "wrong-lstm_forward": "the state keeps changing through the padding",
            "wrong-run_torch_lstm": "bias_hh is left out",
            "wrong-lstm_backward": "(its dc_prev) is not passed on",
        }
        for student, words in expected.items():
            assert words in feedback_text(course, self.ASSIGNMENT, student), student
