"""Exercise 6 through real nbgrader: the proof every exercise owes, and chapter 6's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch06_embeddings_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_text

pytestmark = pytest.mark.slow


class TestCh06EmbeddingsExercise(ExerciseProof):
    ASSIGNMENT = "ch06_embeddings"
    ANSWERS = ch06_embeddings_answers
    TOTAL_POINTS = 12

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        text = {
            part: feedback_text(course, self.ASSIGNMENT, f"wrong-{part}")
            for part in ("embedding_backward", "noise_distribution", "analogy")
        }
        assert "overwritten instead of added" in text["embedding_backward"]
        assert "not raised to the power 0.75" in text["noise_distribution"]
        assert "query words are not excluded" in text["analogy"]
