"""Tests of cosine neighbours, analogies (with and without excluding the query) and correlations."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.evaluation.vectors import (
    analogy_accuracy,
    analogy_scores,
    answer_analogies,
    gender_lean,
    neighbours,
    ranks,
    similarity_correlation,
    spearman,
    unit_rows,
)
from rnncourse.gradcheck import rel_error

# A toy space where king - man + woman lands nearest to a query word itself, as it does in GloVe.
WORDS = ["man", "woman", "king", "queen", "apple"]
TOY = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 2.0, 0.0],
        [0.0, 0.5, 1.0, 3.0],
        [-1.0, -1.0, 0.0, 0.2],
    ]
)
LOOKUP = {w: i for i, w in enumerate(WORDS)}


def test_unit_rows_have_length_one_and_zero_rows_stay_zero() -> None:
    unit = unit_rows(np.vstack([TOY, np.zeros(4)]))
    assert rel_error(np.linalg.norm(unit[:-1], axis=1), np.ones(5)) < 1e-15 and not unit[-1].any()


def test_neighbours_by_cosine_not_by_dot_product() -> None:
    vectors = np.array([[1.0, 0.0], [10.0, 10.0], [0.9, 0.1]])
    names = ["q", "long", "close"]
    assert neighbours(unit_rows(vectors), names, vectors[0], k=1, exclude=[0])[0][0] == "close"


@pytest.mark.parametrize("method", ["add", "mul"])
def test_excluding_the_query_words_changes_the_answer(method: str) -> None:
    unit = unit_rows(TOY)
    a, b, c = np.array([0]), np.array([2]), np.array([1])  # man : king :: woman : ?
    assert analogy_scores(unit, a, b, c, method, exclude_query=False).argmax() in (0, 1, 2)
    scores = analogy_scores(unit, a, b, c, method)
    assert scores.argmax() == LOOKUP["queen"] and np.isneginf(scores[0, [0, 1, 2]]).all()


def test_3cosadd_is_a_sum_of_three_cosines() -> None:
    rng = np.random.default_rng(0)
    unit = unit_rows(rng.normal(size=(20, 6)))
    scores = analogy_scores(unit, np.array([1]), np.array([2]), np.array([3]), "add", exclude_query=False)
    by_hand = np.array([w @ unit[2] - w @ unit[1] + w @ unit[3] for w in unit])
    assert rel_error(scores[0], by_hand) < 1e-13


@pytest.mark.parametrize("method", ["add", "mul"])
def test_answers_in_chunks_are_the_best_scores_of_all_questions_at_once(method: str) -> None:
    rng = np.random.default_rng(1)
    unit = unit_rows(rng.normal(size=(30, 5)))
    questions = rng.integers(0, 30, size=(7, 3))
    best = analogy_scores(unit, *questions.T, method).argmax(axis=1)
    assert answer_analogies(unit, questions, method=method, chunk=3).tolist() == best.tolist()
    assert answer_analogies(unit, questions[:0]).shape == (0,)


def test_answer_analogies_names_the_shape_it_needs() -> None:
    with pytest.raises(ValueError, match=r"\(Q, 3\) rows \(a, b, c\), got shape \(2, 4\)"):
        answer_analogies(unit_rows(TOY), np.zeros((2, 4), dtype=int))


def test_analogy_accuracy_skips_questions_outside_the_vocabulary() -> None:
    questions = [("man", "king", "woman", "queen"), ("man", "king", "woman", "emperor")]
    assert analogy_accuracy(unit_rows(TOY), LOOKUP, questions) == (1.0, 1)


def test_ranks_share_ties_and_spearman_is_one_for_monotone_data() -> None:
    assert ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    x = np.arange(10.0)
    assert abs(spearman(x, x**3) - 1) < 1e-15 and abs(spearman(x, -x) + 1) < 1e-15
    # Against the textbook formula 1 - 6 sum d^2 / (n (n^2 - 1)), valid without ties.
    rng = np.random.default_rng(1)
    a, b = rng.permutation(12).astype(float), rng.permutation(12).astype(float)
    assert abs(spearman(a, b) - (1 - 6 * np.sum((a - b) ** 2) / (12 * 143))) < 1e-12


def test_similarity_correlation_uses_pairs_in_the_vocabulary() -> None:
    pairs = [("king", "queen", 8.0), ("man", "woman", 7.0), ("king", "apple", 1.0), ("king", "zebra", 5.0)]
    rho, used = similarity_correlation(unit_rows(TOY), LOOKUP, pairs)
    assert used == 3 and -1 <= rho <= 1


def test_gender_lean_sign() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.2]])
    lean = gender_lean(unit_rows(vectors), {"he": 0, "she": 1, "x": 2}, ["x", "missing"])
    assert list(lean) == ["x"] and lean["x"] > 0.5
