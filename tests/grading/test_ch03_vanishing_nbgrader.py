"""Exercise 3 through real nbgrader: the proof every exercise owes, and chapter 3's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch03_vanishing_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_text

pytestmark = pytest.mark.slow


class TestCh03VanishingExercise(ExerciseProof):
    ASSIGNMENT = "ch03_vanishing"
    ANSWERS = ch03_vanishing_answers
    TOTAL_POINTS = 15

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "gradient_norms": "the tanh derivative is missing",
            "diagnose": "from the eigenvalues alone",
            "jacobian_product_norms": "multiplied in the wrong order",
            "train_with_clipping": "the update lr * g is clipped",
            "recurrent_init": "the signs are not fixed",
        }
        for part, words in expected.items():
            assert words in feedback_text(course, self.ASSIGNMENT, f"wrong-{part}"), part
