"""Tokens, vocabularies and padding: how a sentence becomes an index sequence.

The conventions, used by the book, the exercises and the graders alike:

- a text is lower-cased and split on white space (so "today ?" gives two
  tokens and "today?" one);
- index 0 is the padding token ``<pad>``, index 1 the unknown token ``<unk>``,
  and every other token gets the next free index in order of first appearance;
- a batch is padded at the end with index 0 to a common length, and longer
  sequences are cut to that length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

PAD = "<pad>"
UNK = "<unk>"


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and split it on white space."""
    return text.lower().split()


class Vocabulary:
    """A two-way map between tokens and integer indices.

    Attributes:
        tokens: the token of every index, ``tokens[i]``.
        index: the index of every token, ``index[token]``.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        if list(tokens[:2]) != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r} and {UNK!r}, got {list(tokens[:2])}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary lists every token once")
        self.tokens: list[str] = list(tokens)
        self.index: dict[str, int] = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> Vocabulary:
        """Collect the tokens of ``texts`` in order of first appearance.

        Tokens seen fewer than ``min_count`` times are left out (they will
        be encoded as ``<unk>``).
        """
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(tokenize(text))
        # Counter keeps insertion order, which is the order of first appearance.
        kept = [token for token, count in counts.items() if count >= min_count]
        return cls([PAD, UNK, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Indices of the tokens of ``text``; unknown tokens become 1."""
        unknown = self.index[UNK]
        return [self.index.get(token, unknown) for token in tokenize(text)]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Tokens of ``indices``, dropping padding."""
        return [self.tokens[i] for i in indices if i != self.index[PAD]]


def pad_batch(
    sequences: Sequence[Sequence[int]], max_len: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stack index sequences into one array, padding at the end with 0.

    Args:
        sequences: N sequences of indices, of any lengths.
        max_len: the common length; defaults to the longest sequence.
            Longer sequences are cut to their first ``max_len`` indices.

    Returns:
        ids: (N, max_len) int64 array.
        lengths: (N,) int64, how many entries of each row are real tokens.
    """
    if max_len is None:
        max_len = max((len(s) for s in sequences), default=0)
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    ids = np.zeros((len(sequences), max_len), dtype=np.int64)
    lengths = np.zeros(len(sequences), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        kept = list(sequence)[:max_len]
        ids[row, : len(kept)] = kept
        lengths[row] = len(kept)
    return ids, lengths
