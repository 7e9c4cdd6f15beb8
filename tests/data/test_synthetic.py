"""The order-sentiment data: labels follow the stated rules, contrast reviews come in swapped
pairs, and the order-free bound is what the module claims."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from rnncourse.data.synthetic import NEGATIVE, POSITIVE, order_free_ceiling, order_sentiment
from rnncourse.data.text import tokenize


def _clause_label(words: list[str]) -> int:
    """The rule, written independently: the adjective's polarity, flipped by a "not" before it."""
    adjective = words[-1]
    assert adjective in POSITIVE + NEGATIVE, words
    positive = adjective in POSITIVE
    return int(positive != ("not" in words))


def _rule_label(text: str) -> int:
    words = tokenize(text)
    if "but" in words:
        cut = words.index("but")
        assert _clause_label(words[:cut]) != _clause_label(words[cut + 1 :]), "clauses of opposite polarity"
        return _clause_label(words[cut + 1 :])  # the clause after "but" decides
    return _clause_label(words)


@pytest.mark.parametrize("seed", [0, 7])
def test_labels_follow_negation_and_the_clause_after_but(seed: int) -> None:
    data = order_sentiment(400, seed=seed)
    assert len(data) == 400 and data.labels.dtype == np.int64 and data.contrast.dtype == bool
    assert [_rule_label(t) for t in data.texts] == data.labels.tolist()
    assert data.contrast.tolist() == ["but" in tokenize(t) for t in data.texts]
    lengths = [len(tokenize(t)) for t in data.texts]
    assert min(lengths) >= 3 and max(lengths) <= 13
    assert 0.4 < data.labels.mean() < 0.6  # both classes


def test_both_labels_and_both_kinds_of_clause_occur_with_negation() -> None:
    data = order_sentiment(400, seed=3)
    simple = [t for t, c in zip(data.texts, data.contrast) if not c]
    negated = [t for t in simple if "not" in tokenize(t)]
    assert 0.3 < len(negated) / len(simple) < 0.7
    assert {int(lbl) for t, lbl in zip(data.texts, data.labels) if t in negated} == {0, 1}


@pytest.mark.parametrize(("n", "share"), [(1000, 0.5), (301, 0.3), (50, 1.0), (40, 0.0)])
def test_contrast_reviews_come_in_swapped_pairs_with_opposite_labels(n: int, share: float) -> None:
    data = order_sentiment(n, contrast_share=share, seed=1)
    assert len(data) == n
    assert data.contrast.sum() == 2 * (int(n * share) // 2)
    label = dict(zip(data.texts, data.labels.tolist()))
    pairs = Counter()
    for text, contrast in zip(data.texts, data.contrast):
        if contrast:
            first, second = text.split(" but ")
            partner = f"{second} but {first}"
            assert partner in label and label[partner] != label[text]
            pairs[text] += 1
            pairs[partner] -= 1
    assert all(v == 0 for v in pairs.values()), "every review is matched by its partner as often as it occurs"


def test_seeded_and_different_seeds_differ() -> None:
    a, b, c = order_sentiment(200, seed=5), order_sentiment(200, seed=5), order_sentiment(200, seed=6)
    assert a.texts == b.texts and np.array_equal(a.labels, b.labels)
    assert a.texts != c.texts


@pytest.mark.parametrize("share", [0.5, 0.3, 1.0, 0.0])
def test_the_order_free_bound_is_one_minus_half_the_contrast_share(share: float) -> None:
    data = order_sentiment(1000, contrast_share=share, seed=2)
    assert order_free_ceiling(data.texts, data.labels) == pytest.approx(
        1 - data.contrast.mean() / 2, abs=1e-12
    )
    # an order-aware rule is right on all of them
    assert np.mean([_rule_label(t) for t in data.texts] == data.labels) == 1.0


def test_order_free_ceiling_groups_by_the_bag_of_words() -> None:
    texts = ["a b", "b a", "a b", "a a b", "c"]
    labels = [1, 0, 1, 0, 1]
    # bag {a, b}: labels 1, 0, 1 -> 2 right; {a: 2, b}: 1; {c}: 1
    assert order_free_ceiling(texts, labels) == pytest.approx(4 / 5)
    assert order_free_ceiling(["x y", "y x"], [0, 1]) == 0.5
    assert order_free_ceiling([], []) == 1.0
    with pytest.raises(ValueError):
        order_free_ceiling(["a"], [0, 1])


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        order_sentiment(-1, seed=0)
    with pytest.raises(ValueError):
        order_sentiment(10, contrast_share=1.5, seed=0)
