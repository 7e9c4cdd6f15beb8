"""Vocabulary, tokenising and padding: the conventions chapter 1 and exercise 1 use."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.data.text import PAD, UNK, Vocabulary, pad_batch, tokenize
from rnncourse.data.toy import TOY_CORPUS


def test_tokens_are_lower_cased_and_split_on_white_space() -> None:
    assert tokenize("How are  you\ttoday ?") == ["how", "are", "you", "today", "?"]


def test_indices_follow_first_appearance_after_the_special_tokens() -> None:
    vocab = Vocabulary.build(TOY_CORPUS)
    assert vocab.tokens[:2] == [PAD, UNK]
    assert vocab.tokens[2:6] == ["i", "love", "machine", "learning"]
    assert vocab.index["deep"] == 6  # "learning" (index 5) is not numbered twice
    assert len(vocab) == len(set(" ".join(TOY_CORPUS).lower().split())) + 2


def test_unknown_words_and_round_trip() -> None:
    vocab = Vocabulary.build(["a b c"])
    assert vocab.encode("c z a") == [4, 1, 2]
    assert vocab.decode([4, 1, 2, 0, 0]) == ["c", UNK, "a"]


def test_min_count_drops_rare_tokens() -> None:
    vocab = Vocabulary.build(["a a b"], min_count=2)
    assert vocab.tokens == [PAD, UNK, "a"]


def test_padding_at_the_end_and_cutting_long_sequences() -> None:
    ids, lengths = pad_batch([[5, 6, 7], [8], []], max_len=2)
    assert ids.dtype == np.int64
    assert ids.tolist() == [[5, 6], [8, 0], [0, 0]]
    assert lengths.tolist() == [2, 1, 0]
    ids, lengths = pad_batch([[1, 2], [3]])
    assert ids.shape == (2, 2) and lengths.tolist() == [2, 1]


def test_a_malformed_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="once"):
        Vocabulary([PAD, UNK, "a", "a"])
