"""Exercise 5 through real nbgrader: the proof every exercise owes, and chapter 5's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch05_gru_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_html

pytestmark = pytest.mark.slow


class TestCh05GruExercise(ExerciseProof):
    ASSIGNMENT = "ch05_gru"
    ANSWERS = ch05_gru_answers
    TOTAL_POINTS = 14

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "gru_step_forward": "roles are swapped",
            "gru_step_backward": "misses the direct path",
            "gru_reset_before_step_forward": "variant (the reset multiplies W_hn h_{t-1} + b_hn",
            "train_loss_curves": "the loss grows during training",
        }
        for part, message in expected.items():
            assert message in feedback_html(course, self.ASSIGNMENT, f"wrong-{part}"), part
