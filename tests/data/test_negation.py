"""rnncourse.data.negation: generated sentences whose label word order decides."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.data import negation

WORDS = negation.Lexicon(
    positive=("good", "fine"),
    negative=("dull", "bad"),
    negators=("not", "never"),
    intensifiers=("very",),
    subjects=(("the", "plot"), ("the", "acting")),
    link=("is",),
    contrast=(",", "but"),
    end=(".",),
)


def _label_by_hand(tokens: list[str]) -> int:
    """The rule read from the words: the last clause's word, flipped by a negator in that clause."""
    last = " ".join(tokens).split(", but")[-1].split()
    positive = any(w in WORDS.positive for w in last)
    negated = any(w in WORDS.negators for w in last)
    return int(positive != negated)


def test_labels_follow_the_last_clause_and_its_negation() -> None:
    made = negation.sentences(WORDS, 300, np.random.default_rng(3), max_clauses=3)
    assert len(made.tokens) == 300 and made.labels.shape == (300,)
    assert [_label_by_hand(t) for t in made.tokens] == made.labels.tolist()
    counted = [" ".join(t).count(", but") + 1 for t in made.tokens]
    assert counted == made.clauses.tolist()
    assert set(made.clauses.tolist()) == {1, 2, 3}
    assert 0.35 < made.labels.mean() < 0.65  # fair coins, 300 draws


def test_the_same_bag_comes_with_both_labels() -> None:
    """What makes the task order-dependent: some bags of words are labelled both ways."""
    made = negation.sentences(WORDS, 400, np.random.default_rng(0), min_clauses=2)
    labels_of_bag: dict[tuple[str, ...], set[int]] = {}
    for tokens, label in zip(made.tokens, made.labels):
        labels_of_bag.setdefault(tuple(sorted(tokens)), set()).add(int(label))
    assert any(len(labels) == 2 for labels in labels_of_bag.values())


def test_id_lexicon_gives_each_role_its_own_ids() -> None:
    lexicon = negation.id_lexicon(np.random.default_rng(5), vocab_size=24)
    roles = [
        *lexicon.positive,
        *lexicon.negative,
        *lexicon.negators,
        *lexicon.intensifiers,
        *(s[0] for s in lexicon.subjects),
        *lexicon.link,
        *lexicon.contrast,
    ]
    assert len(set(roles)) == len(roles) == 17
    assert all(1 <= i < 24 for i in roles)
    with pytest.raises(ValueError, match="at least 18"):
        negation.id_lexicon(np.random.default_rng(0), vocab_size=10)


def test_left_padding_puts_every_sentence_at_the_end() -> None:
    padded = negation.left_padded([[3, 4], [5], [6, 7, 8]])
    assert padded.tolist() == [[0, 3, 4], [0, 0, 5], [6, 7, 8]]
    assert negation.left_padded([[1]], length=3).tolist() == [[0, 0, 1]]
    with pytest.raises(ValueError, match="longer than the padded length"):
        negation.left_padded([[1, 2, 3]], length=2)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="min_clauses"):
        negation.sentences(WORDS, 5, np.random.default_rng(0), max_clauses=1, min_clauses=2)
    with pytest.raises(ValueError, match="positive"):
        negation.Lexicon((), ("bad",), ("not",), (), (("it",),), ("is",), ("but",))


def test_the_review_lexicon_words_lean_the_way_the_reviews_use_them() -> None:
    """Each sentiment word of ``REVIEW_LEXICON`` is more frequent (share of snippets holding it)
    among the snippets of its own polarity than among the others'."""
    from collections import Counter

    from rnncourse.data.reviews import load_reviews

    reviews = load_reviews()
    seen: list[Counter[str]] = [Counter(), Counter()]
    for text, label in zip(reviews.texts, reviews.labels):
        seen[int(label)].update(set(text.lower().replace(",", " ").replace(".", " ").split()))
    sizes = np.bincount(reviews.labels, minlength=2)
    lexicon = negation.REVIEW_LEXICON
    for polarity, words in ((1, lexicon.positive), (0, lexicon.negative)):
        for word in words:
            share = [(seen[c][word] + 1) / sizes[c] for c in (0, 1)]
            lean = np.log(share[polarity] / share[1 - polarity])
            assert lean > 0.1, f"{word!r} leans {lean:.2f} towards its own polarity"
    assert not set(lexicon.positive) & set(lexicon.negative)


def test_review_sentences_are_seeded() -> None:
    a = negation.sentences(negation.REVIEW_LEXICON, 50, np.random.default_rng(7))
    b = negation.sentences(negation.REVIEW_LEXICON, 50, np.random.default_rng(7))
    assert a.tokens == b.tokens and a.labels.tolist() == b.labels.tolist()
    assert all(t[-1] == "." for t in a.tokens)
