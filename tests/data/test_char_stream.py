"""Tests of the character vocabulary and the stream cut into truncated-BPTT chunks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.char_stream import (
    CharVocab,
    num_chunks,
    parallel_streams,
    stream_chunks,
    torch_stream_chunks,
)


def test_vocab_round_trip_and_sorted_ids() -> None:
    vocab = CharVocab.build("to be, or not to be")
    assert vocab.chars == (" ", ",", "b", "e", "n", "o", "r", "t")
    ids = vocab.encode("not to be")
    assert ids.dtype == np.int64 and ids.tolist() == [4, 5, 7, 0, 7, 5, 0, 2, 3]
    assert vocab.decode(ids) == "not to be"
    assert vocab.decode(torch.from_numpy(ids)) == "not to be"


def test_vocab_errors_name_the_problem() -> None:
    vocab = CharVocab.build("abc")
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("az")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="empty"):
        CharVocab.build("")


@pytest.mark.parametrize(("length", "B", "k"), [(101, 4, 7), (50, 1, 50), (23, 3, 1), (40, 2, 100)])
def test_each_row_reads_a_contiguous_stretch_and_targets_shift_by_one(length: int, B: int, k: int) -> None:
    ids = np.arange(1000, 1000 + length, dtype=np.int64)  # distinct ids: their position is their value
    chunks = list(stream_chunks(ids, B, k))
    assert len(chunks) == num_chunks(length, B, k)
    x = np.concatenate([c[0] for c in chunks], axis=1)
    y = np.concatenate([c[1] for c in chunks], axis=1)
    n = (length - 1) // B
    assert x.shape == y.shape == (B, n)
    assert all(c[0].shape[1] == k for c in chunks[:-1])
    for b in range(B):
        np.testing.assert_array_equal(
            x[b], ids[b * n : b * n + n]
        )  # row b continues itself chunk after chunk
        np.testing.assert_array_equal(y[b], ids[b * n + 1 : b * n + n + 1])
    # The rows together cover the stream in order (no id skipped between rows).
    np.testing.assert_array_equal(x.reshape(-1), ids[: B * n])


def test_parallel_streams_and_torch_chunks() -> None:
    ids = np.arange(11, dtype=np.int64)
    rows = parallel_streams(ids, 2)
    assert rows.tolist() == [[0, 1, 2, 3, 4, 5], [5, 6, 7, 8, 9, 10]]
    x, y = next(torch_stream_chunks(ids, 2, 3))
    assert (
        x.dtype == torch.int64
        and x.tolist() == [[0, 1, 2], [5, 6, 7]]
        and y.tolist() == [[1, 2, 3], [6, 7, 8]]
    )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="too short"):
        parallel_streams(np.arange(3), 4)
    with pytest.raises(ValueError, match="1-D integer"):
        parallel_streams(np.zeros(10), 2)
    with pytest.raises(ValueError, match="k must be"):
        list(stream_chunks(np.arange(10), 2, 0))
