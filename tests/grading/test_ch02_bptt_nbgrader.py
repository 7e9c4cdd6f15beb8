"""Exercise 2 through real nbgrader: the proof every exercise owes, and chapter 2's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch02_bptt_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_text

pytestmark = pytest.mark.slow


class TestCh02BpttExercise(ExerciseProof):
    ASSIGNMENT = "ch02_bptt"
    ANSWERS = ch02_bptt_answers
    TOTAL_POINTS = 14

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "wrong-rnn_step_backward": "the tanh derivative is missing",
            "wrong-bptt": "the recurrent term is dropped",
            "wrong-clip_by_global_norm": "each element is clipped on its own",
            "wrong-tbptt_train": "the state is not carried",
            "wrong-generate": "the logits are multiplied by the temperature",
        }
        for student, message in expected.items():
            assert message in feedback_text(course, self.ASSIGNMENT, student), student
