"""Exercise 8 through real nbgrader: the proof every exercise owes, and chapter 8's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch08_applications_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_text

pytestmark = pytest.mark.slow


class TestCh08ApplicationsExercise(ExerciseProof):
    ASSIGNMENT = "ch08_applications"
    ANSWERS = ch08_applications_answers
    TOTAL_POINTS = 17

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded

        def feedback(part: str) -> str:
            return feedback_text(course, self.ASSIGNMENT, f"wrong-{part}")

        assert "LEAKAGE: the scaler is fitted on the whole series" in feedback("prepare_data")
        assert "the temperature multiplies the logits" in feedback("sample_tokens")
        assert "the weights of the LAST epoch are returned" in feedback("fit_early_stopping")
        assert "look like scaled values" in feedback("fit_and_forecast")
        assert "order-free model" in feedback("fit_and_classify")
