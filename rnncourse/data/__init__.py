"""Text as numbers: tokens, vocabularies, padding, and the course's toy data."""

from rnncourse.data.text import PAD, UNK, Vocabulary, pad_batch, tokenize

__all__ = ["PAD", "UNK", "Vocabulary", "pad_batch", "tokenize"]
