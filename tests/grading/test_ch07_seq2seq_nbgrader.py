"""Exercise 7 through real nbgrader: the proof every exercise owes, and chapter 7's own messages."""

from __future__ import annotations

import pytest

from tests.grading import ch07_seq2seq_answers
from tests.grading.exercise_proof import ExerciseProof, Submissions, feedback_text
from tests.grading.notebooks import filled, points, solution_sources

#: Issue 18, item 8: BLEU computed by a library that implements it earns nothing.
BY_SACREBLEU = """
import sacrebleu

def corpus_bleu(hypotheses, references):
    joined = [" ".join(h) for h in hypotheses]
    found = sacrebleu.corpus_bleu(joined, [[" ".join(r) for r in references]], tokenize="none", smooth_method="none")
    return found.score / 100
"""
BY_SACREBLEU_INSIDE = BY_SACREBLEU.replace(
    "import sacrebleu\n\ndef corpus_bleu(hypotheses, references):\n",
    "def corpus_bleu(hypotheses, references):\n    import sacrebleu\n",
)

pytestmark = pytest.mark.slow


class TestCh07Seq2seqExercise(ExerciseProof):
    ASSIGNMENT = "ch07_seq2seq"
    ANSWERS = ch07_seq2seq_answers
    TOTAL_POINTS = 13

    def extra_submissions(self, source, release) -> Submissions:
        correct = solution_sources(source)
        return {
            "sacrebleu": filled(release, correct | {"corpus_bleu": BY_SACREBLEU}),
            "sacrebleu-inside": filled(release, correct | {"corpus_bleu": BY_SACREBLEU_INSIDE}),
        }

    def test_bleu_from_a_library_earns_nothing_and_says_why(self, graded, source) -> None:
        course, log = graded
        full = points(source)
        for student in ("sacrebleu", "sacrebleu-inside"):
            assert self.scores(course, student) == full | {"test_corpus_bleu": 0.0}, f"{student}\n{log}"
            assert "sacrebleu is not available while grading" in feedback_text(
                course, self.ASSIGNMENT, student
            )

    def test_feedback_names_the_likely_mistake(self, graded) -> None:
        course, _log = graded
        expected = {
            "masked_cross_entropy": "divided by N*T",
            "additive_attention": "softmax over padding",
            "greedy_decode": "leave <bos> out",
            "beam_search": "the length penalty is inverted",
            "corpus_bleu": "n-gram counts are not clipped",
        }
        for part, message in expected.items():
            assert message in feedback_text(course, self.ASSIGNMENT, f"wrong-{part}"), part
