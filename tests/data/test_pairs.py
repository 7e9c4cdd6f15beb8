"""Tests of the pair tasks: generated dates, the English-French verses, the pair vocabulary."""

from __future__ import annotations

import datetime as dt

import numpy as np

from rnncourse.data.pairs import (
    BOS_ID,
    DATE_FORMATS,
    EOS_ID,
    PairVocabulary,
    bible_pairs,
    characters,
    date_pairs,
    encode_pairs,
    words,
)


def test_dates_are_right_by_an_independent_parse() -> None:
    pairs = date_pairs(300, seed=0)
    assert len({s for s, _ in pairs}) > 250
    for source, target in pairs:
        date = dt.date.fromisoformat(target)
        assert str(date.year) in source and (str(date.day) in source)
    assert date_pairs(5, seed=1) == date_pairs(5, seed=1)
    assert DATE_FORMATS["21 nov 2026"](dt.date(2026, 11, 21)) == "21 nov 2026"
    assert DATE_FORMATS["saturday the 21st of november 2026"](dt.date(2026, 11, 21)) == (
        "saturday the 21st of november 2026"
    )
    assert DATE_FORMATS["november 21st, 2026"](dt.date(2026, 11, 12)) == "november 12th, 2026"


def test_bible_pairs_are_short_aligned_verses() -> None:
    pairs = bible_pairs(max_words=12)
    assert 500 < len(pairs) < 5000
    assert ("Jesus wept.", "Jésus pleura.") in pairs
    assert all(len(words(e)) <= 12 and len(words(f)) <= 12 for e, f in pairs)


def test_vocabulary_and_encoding() -> None:
    assert words("Lord, come and see!") == ["lord", ",", "come", "and", "see", "!"]
    pairs = [("ab", "x"), ("b", "xy")]
    src_vocab = PairVocabulary.from_texts([s for s, _ in pairs], characters)
    tgt_vocab = PairVocabulary.from_texts([t for _, t in pairs], characters)
    assert src_vocab.tokens[:5] == ["<pad>", "<unk>", "<bos>", "<eos>", "b"]
    src, src_lengths, tgt, tgt_lengths = encode_pairs(pairs, src_vocab, tgt_vocab)
    a, b = src_vocab.index["a"], src_vocab.index["b"]
    x, y = tgt_vocab.index["x"], tgt_vocab.index["y"]
    assert src.tolist() == [[a, b, EOS_ID], [b, EOS_ID, 0]] and src_lengths.tolist() == [3, 2]
    assert tgt.tolist() == [[BOS_ID, x, EOS_ID, 0], [BOS_ID, x, y, EOS_ID]] and tgt_lengths.tolist() == [2, 3]
    reversed_src, *_ = encode_pairs(pairs, src_vocab, tgt_vocab, reverse_source=True)
    assert reversed_src.tolist() == [[b, a, EOS_ID], [b, EOS_ID, 0]]
    assert src_vocab.decode([a, b, EOS_ID, a]) == ["a", "b"]
    assert src_vocab.encode("az") == [a, 1, EOS_ID]
    assert np.issubdtype(src.dtype, np.integer)


def test_copy_pairs_are_digit_strings_of_every_length_in_range() -> None:
    from rnncourse.data.pairs import copy_pairs

    pairs = copy_pairs(400, seed=0, min_len=2, max_len=20)
    assert all(source == target and source.isdigit() for source, target in pairs)
    assert {len(source) for source, _ in pairs} == set(range(2, 21))
