"""Standard test sets for word vectors, read from the files the ``gensim`` package ships.

``gensim`` is installed with ``--no-deps`` and never imported (LGPL-2.1); the
course only reads three files under its ``test/test_data/`` folder:

- ``questions-words.txt``: the analogy questions of Mikolov et al. (2013),
  19,544 lines ``a b c d`` meaning "a is to b as c is to d", in 14 sections
  (5 semantic, such as ``capital-common-countries``, 9 syntactic, named
  ``gram1-...`` to ``gram9-...``), each opened by a line ``: name``.
- ``wordsim353.tsv``: 353 word pairs with a mean human relatedness score,
  0 to 10 (Finkelstein et al., 2002).
- ``simlex999.txt``: 999 pairs scored for similarity proper, 0 to 10
  (Hill, Reichart and Korhonen, 2015): "coast" and "shore" high, "cup" and
  "coffee" low, where WordSim rates relatedness.

Words are lower-cased, as GloVe's vocabulary is.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from rnncourse.data.packaged import data_file


def _test_file(name: str) -> Path:
    return data_file("gensim", "test", "test_data", name)


class Analogy(NamedTuple):
    """``a`` is to ``b`` as ``c`` is to ``d``, from the section ``section``."""

    section: str
    a: str
    b: str
    c: str
    d: str


class ScoredPair(NamedTuple):
    """Two words and the mean human score of how alike they are."""

    first: str
    second: str
    score: float


def load_analogies() -> list[Analogy]:
    """Every question of ``questions-words.txt``, lower-cased, in the file's order."""
    questions: list[Analogy] = []
    section = ""
    for line in _test_file("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip():
            a, b, c, d = line.lower().split()
            questions.append(Analogy(section, a, b, c, d))
    return questions


def is_semantic(section: str) -> bool:
    """Whether a section of the analogy file is semantic (the syntactic ones start with ``gram``)."""
    return not section.startswith("gram")


def _load_pairs(name: str) -> list[ScoredPair]:
    pairs = []
    for line in _test_file(name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        first, second, score = line.split("\t")[:3]
        pairs.append(ScoredPair(first.lower(), second.lower(), float(score)))
    return pairs


def load_wordsim353() -> list[ScoredPair]:
    """The 353 pairs of WordSim-353 with their mean relatedness (0-10)."""
    return _load_pairs("wordsim353.tsv")


def load_simlex999() -> list[ScoredPair]:
    """The 999 pairs of SimLex-999 with their mean similarity (0-10)."""
    return _load_pairs("simlex999.txt")
