"""Exercise 1 through real nbgrader: the proof every exercise owes, and chapter 1's own messages."""

from __future__ import annotations

import nbformat
import pytest

from tests.grading import ch01_recurrence_answers
from tests.grading.exercise_proof import ExerciseProof, Submissions, feedback_text
from tests.grading.notebooks import filled, solution_sources

pytestmark = pytest.mark.slow


class TestCh01RecurrenceExercise(ExerciseProof):
    ASSIGNMENT = "ch01_recurrence"
    ANSWERS = ch01_recurrence_answers
    TOTAL_POINTS = 15
    CELL_TIMEOUT = 2  # the endless loop below is stopped by it

    def extra_submissions(self, source, release) -> Submissions:
        correct = solution_sources(source)
        endless = correct | {
            "softmax": "def softmax(logits):\n    while True:\n        pass\nsoftmax(None)\n"
        }
        extra: dict[str, nbformat.NotebookNode | str] = {
            "endless-loop": filled(release, endless),
            "not-a-notebook": "this is not JSON {",
        }
        return extra

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        assert "the bias b_h is missing" in feedback_text(course, self.ASSIGNMENT, "wrong-rnn_cell_forward")
        assert "read the state after the padding" in feedback_text(course, self.ASSIGNMENT, "wrong-classify")

    def test_bad_submissions_do_not_stop_the_others(self, graded) -> None:
        course, log = graded
        assert "not-a-notebook" in log and "not a valid notebook" in log
        # The endless loop is stopped by the cell timeout and graded like any failure.
        endless = self.scores(course, "endless-loop")
        assert endless["test_softmax"] == 0 and endless["test_classify"] == 3, log
