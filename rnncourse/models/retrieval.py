"""Retrieval: answer a source with the target of the most similar training source.

The baseline a generative sequence-to-sequence model must beat: it can only
say what is in its training targets, but every answer is fluent and on some
topic. Similarity is the cosine between bags of lower-cased words weighted by
inverse document frequency, ``idf(w) = log(N / df(w))``, so that rare words
count more than "the".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rnncourse.data.pairs import words

__all__ = ["RetrievalModel"]


class RetrievalModel:
    """The nearest training source by tf-idf cosine, and its target.

    Args:
        pairs: the N (source, target) training pairs.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            raise ValueError("a retrieval model needs at least one pair")
        self.targets = [t for _, t in pairs]
        docs = [Counter(w.lower() for w in words(s)) for s, _ in pairs]
        df = Counter(w for d in docs for w in d)
        self.vocab = {w: i for i, w in enumerate(df)}
        self.idf = np.array([math.log(len(docs) / df[w]) + 1e-3 for w in self.vocab])
        self.matrix = np.stack([self._vector(d) for d in docs])  # (N, W), rows of unit length

    def _vector(self, bag: Counter[str]) -> np.ndarray:
        v = np.zeros(len(self.vocab))
        for w, n in bag.items():
            if w in self.vocab:
                v[self.vocab[w]] = n * self.idf[self.vocab[w]]
        norm = np.linalg.norm(v)
        return v / norm if norm > 0 else v

    def reply(self, source: str) -> str:
        """The target of the training source with the highest cosine (the first on ties)."""
        scores = self.matrix @ self._vector(Counter(w.lower() for w in words(source)))
        return self.targets[int(np.argmax(scores))]
