"""The Kneser-Ney baseline: a distribution at every context, the textbook's numbers, and clear errors."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from rnncourse.evaluation.ngram import KneserNey

TEXT = np.array([0, 1, 2, 0, 1, 0, 1, 2, 2, 0, 1, 3])  # V = 4


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_every_context_gets_a_distribution(order: int) -> None:
    model = KneserNey(order, 4).fit(TEXT)
    rng = np.random.default_rng(0)
    contexts = [np.array([], dtype=int), np.array([3, 3, 3, 3]), TEXT[:4], rng.integers(0, 4, 7)]
    for context in contexts:
        p = model.probabilities(context)
        assert p.shape == (4,) and np.all(p > 0) and abs(p.sum() - 1) < 1e-12


def test_the_bigram_probability_by_hand() -> None:
    # Counted by hand from TEXT. Bigrams: 01 x4, 12 x2, 20 x2, 10, 22, 13 (c(1 .) = 4, N(1 .) = 3).
    # Discount of the top order: n1 = 3 (10, 22, 13), n2 = 2 (12, 20): D2 = 3 / (3 + 4) = 3/7.
    # Continuation counts of the unigrams, N(. w), from the bigram types {01, 12, 20, 10, 22, 13}:
    # N(. 0) = 2, N(. 1) = 1, N(. 2) = 2, N(. 3) = 1; total 6, 4 types.
    # Their discount: n1 = 2, n2 = 2, D1 = 2 / 6 = 1/3. p1(2) = (2 - 1/3) / 6 + (1/3) 4 / 6 / 4.
    p1 = (2 - 1 / 3) / 6 + (1 / 3) * 4 / 6 * (1 / 4)
    p2 = (2 - 3 / 7) / 4 + (3 / 7) * 3 / 4 * p1  # p(2 | 1)
    model = KneserNey(2, 4).fit(TEXT)
    assert model.probabilities(np.array([1]))[2] == pytest.approx(p2, rel=1e-12)


def test_unseen_context_hands_everything_to_the_lower_order() -> None:
    model = KneserNey(2, 4).fit(TEXT)
    # 3 is the last symbol of TEXT: no bigram starts with it, so p(. | 3) is the unigram model.
    assert np.allclose(model.probabilities(np.array([3])), model.probabilities(np.array([], dtype=int)))


def test_nats_is_the_mean_negative_log_probability_of_each_symbol() -> None:
    model = KneserNey(3, 4).fit(TEXT)
    held = np.array([0, 1, 2, 2, 1, 0, 3])
    by_hand = -np.mean([math.log(model.probabilities(held[:i])[held[i]]) for i in range(len(held))])
    assert model.nats(held) == pytest.approx(by_hand, rel=1e-12)


def test_a_longer_context_predicts_a_regular_text_better() -> None:
    rng = np.random.default_rng(1)
    words = ["the ", "cat ", "sat ", "on ", "mat "]
    text = "".join(words[i] for i in rng.integers(0, 5, 4000))
    vocab = sorted(set(text))
    ids = np.array([vocab.index(c) for c in text])
    train, held = ids[:12000], ids[12000:]
    scores = [KneserNey(n, len(vocab)).fit(train).nats(held) for n in (1, 2, 4)]
    unigram = Counter(train.tolist())
    entropy = -sum(c / len(train) * math.log(c / len(train)) for c in unigram.values())
    assert scores[0] == pytest.approx(entropy, abs=0.02)  # order 1: the unigram entropy, nearly
    assert scores[0] > scores[1] > scores[2] and scores[2] < 0.5 * scores[0]


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="order must be at least 1"):
        KneserNey(0, 4)
    with pytest.raises(ValueError, match="does not fit in int64"):
        KneserNey(12, 100)
    model = KneserNey(2, 4)
    with pytest.raises(RuntimeError, match="call fit"):
        model.nats(TEXT)
    with pytest.raises(ValueError, match=r"outside \[0, 4\)"):
        model.fit(np.array([0, 1, 4, 2]))
    with pytest.raises(TypeError, match="integer ids"):
        model.fit(np.array([0.0, 1.0, 2.0]))
