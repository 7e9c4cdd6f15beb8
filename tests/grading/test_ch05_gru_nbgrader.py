"""Exercise 5 through real nbgrader: the proof every exercise owes, and chapter 5's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch05_gru_answers
from tests.grading.exercise_proof import ExerciseProof, Submissions, feedback_text
from tests.grading.notebooks import filled, points, solution_sources

pytestmark = pytest.mark.slow


class TestCh05GruExercise(ExerciseProof):
    ASSIGNMENT = "ch05_gru"
    ANSWERS = ch05_gru_answers
    TOTAL_POINTS = 14

    def extra_submissions(self, source, release) -> Submissions:
        correct = solution_sources(source)
        return {
            f"training-{name}": filled(release, correct | {"train_loss_curves": answer})
            for name, (answer, _message) in ch05_gru_answers.TRAINING_MISTAKES.items()
        }

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "gru_step_forward": "roles are swapped",
            "gru_step_backward": "misses the direct path",
            "gru_reset_before_step_forward": "variant (the reset multiplies W_hn h_{t-1} + b_hn",
            "train_loss_curves": "the loss grows during training",
        }
        for part, message in expected.items():
            assert message in feedback_text(course, self.ASSIGNMENT, f"wrong-{part}"), part

    def test_training_that_did_not_happen_loses_part_4_and_is_named(self, graded, source) -> None:
        """A fabricated curve, or one recorded a step late, loses exactly part 4, with its own message."""
        course, log = graded
        full = points(source)
        for name, (_answer, message) in ch05_gru_answers.TRAINING_MISTAKES.items():
            assert self.scores(course, f"training-{name}") == full | {"test_train_loss_curves": 0.0}, (
                f"{name}\n{log}"
            )
            assert message in feedback_text(course, self.ASSIGNMENT, f"training-{name}"), name
