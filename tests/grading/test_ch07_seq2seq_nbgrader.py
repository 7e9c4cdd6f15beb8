"""Exercise 7 through real nbgrader: the proof every exercise owes, and chapter 7's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch07_seq2seq_answers
from tests.grading.exercise_proof import ExerciseProof, feedback_html

pytestmark = pytest.mark.slow


class TestCh07Seq2seqExercise(ExerciseProof):
    ASSIGNMENT = "ch07_seq2seq"
    ANSWERS = ch07_seq2seq_answers
    TOTAL_POINTS = 13

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "masked_cross_entropy": "divided by N*T",
            "additive_attention": "softmax over padding",
            "greedy_decode": "leave &lt;bos&gt; out",
            "beam_search": "the length penalty is inverted",
            "corpus_bleu": "n-gram counts are not clipped",
        }
        for part, message in expected.items():
            assert message in feedback_html(course, self.ASSIGNMENT, f"wrong-{part}"), part
