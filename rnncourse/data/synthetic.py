"""Synthetic data generated in code, seeded: tasks whose answer is known by construction.

``order_sentiment`` makes short film reviews whose sentiment depends on word
*order*, so that a model that reads the order (an RNN) can be compared with one
that cannot (a bag of words) on the same data:

* a **simple** review is one clause, ``<subject> <verb> [not] [very|really] <adjective>``:
  "the plot was not very good". Its label is the adjective's polarity, flipped
  by "not". The tokens alone decide it (a bag of words can learn it, though not
  with a linear model: "not" must flip "good" and "bad" alike).
* a **contrast** review joins two clauses of opposite polarity with "but":
  "the acting was great but the ending was slow". The clause after "but" decides.
  Contrast reviews come in pairs, ``A but B`` and ``B but A``: the same tokens,
  the same counts, opposite labels.

Because of the pairs, the tokens of a contrast review carry no information at
all about its label, so *no* classifier that ignores order (bag of words,
counts, tf-idf, any function of the multiset of tokens) can be right on more
than half of them, while the simple reviews can all be right. With a share
``s`` of contrast reviews the best order-free accuracy is exactly ``1 - s/2``
(0.75 for the default ``s = 0.5``) on every data set this module makes, and
``order_free_ceiling`` computes it from the data as a check. A model that
reads the order can reach 1.

Labels: 1 positive, 0 negative. Reviews have 3 to 13 tokens.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnncourse.data.text import tokenize

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "OrderSentiment",
    "order_free_ceiling",
    "order_sentiment",
]

POSITIVE: tuple[str, ...] = ("good", "great", "fun", "clever", "moving")
NEGATIVE: tuple[str, ...] = ("bad", "boring", "dull", "silly", "slow")
SUBJECTS: tuple[str, ...] = ("the film", "the plot", "the acting", "the story", "the ending", "it")
VERBS: tuple[str, ...] = ("was", "is")
INTENSIFIERS: tuple[str, ...] = ("", "very", "really")


@dataclass(frozen=True)
class OrderSentiment:
    """A data set of reviews.

    Attributes:
        texts: N reviews, tokens separated by single spaces.
        labels: (N,) int64, 1 positive and 0 negative.
        contrast: (N,) bool, True for a two-clause "A but B" review.
    """

    texts: list[str]
    labels: np.ndarray
    contrast: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)


def _clause(rng: np.random.Generator) -> tuple[str, int]:
    """One clause and its polarity (+1 positive, -1 negative)."""
    subject = SUBJECTS[rng.integers(len(SUBJECTS))]
    verb = VERBS[rng.integers(len(VERBS))]
    negated = bool(rng.integers(2))
    intensifier = INTENSIFIERS[rng.integers(len(INTENSIFIERS))]
    positive = bool(rng.integers(2))
    words = POSITIVE if positive else NEGATIVE
    adjective = words[rng.integers(len(words))]
    polarity = (1 if positive else -1) * (-1 if negated else 1)
    text = " ".join(w for w in (subject, verb, "not" if negated else "", intensifier, adjective) if w)
    return text, polarity


def order_sentiment(n: int, *, contrast_share: float = 0.5, seed: int) -> OrderSentiment:
    """``n`` reviews, a share ``contrast_share`` of them contrast reviews, in random order.

    Args:
        n: the number of reviews.
        contrast_share: the fraction of contrast reviews, in [0, 1]. Their number is
            rounded down to an even count (they come in pairs); the rest are simple.
        seed: seeds the generator; the same arguments always give the same data.

    Returns:
        An ``OrderSentiment`` with ``n`` reviews. Every contrast review ``A but B``
        has its partner ``B but A``, with the opposite label, in the same set.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= contrast_share <= 1.0:
        raise ValueError(f"contrast_share must be in [0, 1], got {contrast_share}")
    rng = np.random.default_rng(seed)
    pairs = int(n * contrast_share) // 2
    rows: list[tuple[str, int, bool]] = []
    for _ in range(n - 2 * pairs):
        text, polarity = _clause(rng)
        rows.append((text, int(polarity > 0), False))
    for _ in range(pairs):
        first, p1 = _clause(rng)
        second, p2 = _clause(rng)
        while p2 == p1:  # "but" joins clauses of opposite polarity
            second, p2 = _clause(rng)
        rows.append((f"{first} but {second}", int(p2 > 0), True))
        rows.append((f"{second} but {first}", int(p1 > 0), True))
    order = rng.permutation(len(rows))
    return OrderSentiment(
        texts=[rows[i][0] for i in order],
        labels=np.array([rows[i][1] for i in order], dtype=np.int64),
        contrast=np.array([rows[i][2] for i in order], dtype=bool),
    )


def order_free_ceiling(texts: Sequence[str], labels: Sequence[int] | np.ndarray) -> float:
    """The best accuracy on (``texts``, ``labels``) of any classifier that ignores word order.

    Such a classifier sees only the multiset of tokens (the bag of words), so texts
    with the same bag get the same answer; the best it can do is the majority label
    of each bag. Returns the sum over bags of the majority count, divided by N
    (1.0 for an empty set).
    """
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts and {len(labels)} labels")
    by_bag: dict[tuple[tuple[str, int], ...], Counter[int]] = defaultdict(Counter)
    for text, label in zip(texts, labels):
        bag = tuple(sorted(Counter(tokenize(text)).items()))
        by_bag[bag][int(label)] += 1
    best = sum(max(counts.values()) for counts in by_bag.values())
    return best / len(texts) if len(texts) else 1.0
