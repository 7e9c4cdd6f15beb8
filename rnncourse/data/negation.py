"""Generated sentences whose label is decided by word order: negation and contrast.

A sentence is one to three clauses joined by a contrast word ("but"); a
clause names a subject, a link ("is"), perhaps a negator ("not", "never") and
perhaps an intensifier ("very"), then a sentiment word:

    the plot is not very dull , but the acting is never good .
    '------------ clause 1 ---'       '------ clause 2 ------'

The label is the sentiment of the **last** clause, flipped when that clause
is negated: ``label = polarity(word) XOR negated``. Two rules of real
reviews, reduced to their bones: what follows "but" outweighs what comes
before it, and "not" turns the next sentiment word around.

Why an order-free model cannot learn it: "A is not good, but B is dull" and
"A is dull, but B is not good" hold the same words (the same bag) with
opposite labels, and so do "A is good, but B is dull" and "A is dull, but B
is good". Only single clauses are decided by their bag of words, so a model
that counts words is right on those and about half of the rest, while a
recurrent model that reads the clauses in order can be right on all.

The same generator writes English (the sentiment page, with ``REVIEW_LEXICON``)
and integer ids (exercise 8, with roles drawn for each case): a
:class:`Lexicon` maps each role to its tokens, whatever they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

__all__ = ["REVIEW_LEXICON", "Lexicon", "Sentences", "id_lexicon", "left_padded", "sentences"]

Token = TypeVar("Token", str, int)


@dataclass(frozen=True)
class Lexicon(Generic[Token]):
    """The tokens of each role. ``subjects`` and ``contrast`` may be several tokens each."""

    positive: tuple[Token, ...]
    negative: tuple[Token, ...]
    negators: tuple[Token, ...]
    intensifiers: tuple[Token, ...]
    subjects: tuple[tuple[Token, ...], ...]
    link: tuple[Token, ...]
    contrast: tuple[Token, ...]
    end: tuple[Token, ...] = ()

    def __post_init__(self) -> None:
        for role in ("positive", "negative", "negators", "subjects"):
            if not getattr(self, role):
                raise ValueError(f"the lexicon needs at least one token of the role {role!r}")


@dataclass(frozen=True)
class Sentences(Generic[Token]):
    """Generated sentences: tokens, label (1 positive, 0 negative), and how many clauses each has."""

    tokens: list[list[Token]]
    labels: np.ndarray
    clauses: np.ndarray


def sentences(
    lexicon: Lexicon[Token],
    count: int,
    rng: np.random.Generator,
    max_clauses: int = 3,
    negation_rate: float = 0.5,
    intensifier_rate: float = 0.3,
    min_clauses: int = 1,
) -> Sentences[Token]:
    """``count`` sentences of ``min_clauses`` to ``max_clauses`` clauses (uniform), labelled by their last clause.

    Each clause draws its subject, its sentiment word's polarity (fair coin) and
    word, whether it is negated (``negation_rate``) and intensified
    (``intensifier_rate``). The label is ``polarity XOR negated`` of the last clause.
    """
    if count < 1 or not 1 <= min_clauses <= max_clauses:
        raise ValueError(
            f"need count >= 1 and 1 <= min_clauses <= max_clauses, got {count}, {min_clauses}, {max_clauses}"
        )
    tokens: list[list[Token]] = []
    labels = np.zeros(count, dtype=np.int64)
    clauses = rng.integers(min_clauses, max_clauses + 1, size=count)
    for n in range(count):
        sentence: list[Token] = []
        for c in range(int(clauses[n])):
            if c:
                sentence += lexicon.contrast
            positive = bool(rng.random() < 0.5)
            negated = bool(rng.random() < negation_rate)
            sentence += lexicon.subjects[rng.integers(len(lexicon.subjects))]
            sentence += lexicon.link
            if negated:
                sentence.append(lexicon.negators[rng.integers(len(lexicon.negators))])
            if lexicon.intensifiers and rng.random() < intensifier_rate:
                sentence.append(lexicon.intensifiers[rng.integers(len(lexicon.intensifiers))])
            words = lexicon.positive if positive else lexicon.negative
            sentence.append(words[rng.integers(len(words))])
            labels[n] = int(positive != negated)
        tokens.append(sentence + list(lexicon.end))
    return Sentences(tokens, labels, clauses)


def id_lexicon(rng: np.random.Generator, vocab_size: int = 24) -> Lexicon[int]:
    """A lexicon of integer ids 1 .. vocab_size - 1 (0 is padding), each role's ids drawn at random.

    Roles: 4 positive and 4 negative words, 2 negators, 2 intensifiers, 3
    one-token subjects, 1 link and 1 contrast id; the rest are unused.
    """
    needed = 4 + 4 + 2 + 2 + 3 + 1 + 1
    if vocab_size - 1 < needed:
        raise ValueError(f"vocab_size must be at least {needed + 1}, got {vocab_size}")
    ids = [int(i) for i in rng.permutation(np.arange(1, vocab_size))[:needed]]
    return Lexicon(
        positive=tuple(ids[0:4]),
        negative=tuple(ids[4:8]),
        negators=tuple(ids[8:10]),
        intensifiers=tuple(ids[10:12]),
        subjects=tuple((i,) for i in ids[12:15]),
        link=(ids[15],),
        contrast=(ids[16],),
    )


def left_padded(tokens: Sequence[Sequence[int]], length: int | None = None) -> np.ndarray:
    """(N, T) int64 ids with the padding (0) *before* each sequence, so that every one ends at column T - 1."""
    T = max(len(t) for t in tokens) if length is None else length
    if any(len(t) > T for t in tokens):
        raise ValueError(f"a sequence is longer than the padded length {T}")
    out = np.zeros((len(tokens), T), dtype=np.int64)
    for row, t in enumerate(tokens):
        if len(t):
            out[row, T - len(t) :] = t
    return out


#: The sentiment page's English lexicon: adjectives that film reviews use with a clear polarity
#: (each is more frequent in the fresh, or in the rotten, snippets of ``rnncourse.data.reviews``,
#: as ``tests/data/test_negation.py`` checks; "good" is not: it leans too little), subjects a
#: review talks about, "not" and "never".
REVIEW_LEXICON: Lexicon[str] = Lexicon(
    positive=(
        "great", "funny", "moving", "charming", "beautiful", "wonderful", "smart",
        "entertaining", "touching", "engaging", "compelling", "enjoyable", "witty", "powerful", "fresh",
        "delightful", "fascinating", "brilliant", "satisfying", "impressive",
    ),
    negative=(
        "bad", "boring", "dull", "tedious", "stupid", "predictable", "flat", "lifeless", "pointless",
        "mediocre", "pretentious", "awful", "weak", "bland", "silly", "forgettable", "tiresome",
        "annoying", "clumsy", "lame", "dumb", "unfunny", "shallow", "sloppy",
    ),
    negators=("not", "never"),
    intensifiers=("very", "really", "quite"),
    subjects=(
        ("the", "film"), ("the", "plot"), ("the", "acting"), ("the", "script"), ("the", "ending"),
        ("the", "cast"),
    ),
    link=("is",),
    contrast=(",", "but"),
    end=(".",),
)  # fmt: skip
