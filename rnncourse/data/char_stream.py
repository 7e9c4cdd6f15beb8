"""Characters as integers, and one long stream cut into the (B, T) chunks of truncated BPTT.

A character-level language model reads text one character at a time and
predicts the next. Its data are one long stream of ids ``s_0, s_1, ..., s_{L-1}``.

**The vocabulary** (:class:`CharVocab`) numbers the distinct characters of a
text in sorted order, so the same text always gives the same ids.

**The batches** (:func:`stream_chunks`). Truncated BPTT carries the hidden
state from one chunk to the next, so chunk ``i + 1`` of a row must continue
the text exactly where chunk ``i`` of that row stopped. The stream is
therefore cut into B equal *parallel streams* (row b reads the b-th stretch
of the text), and the chunks walk along all B rows together, k steps at a
time::

    stream:  s_0 ........................................ s_{L-1}
    rows:    b=0: s_0     ... s_{n}       (n + 1 = (L - 1) // B + 1 ids each;
             b=1: s_{n}   ... s_{2n}       consecutive rows share one id)
             ...
    chunk i: x = rows[:, i k : (i + 1) k],  y = rows[:, i k + 1 : (i + 1) k + 1]

The targets are the inputs shifted by one: ``y[b, t]`` is the character that
follows ``x[b, t]``. Cutting the text into *independent* random windows
instead (as for a feed-forward model) would break the carried state: the
state at the end of one window would be fed to a window about something else.

Shapes: B parallel streams (the batch), k steps per chunk, n steps per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class CharVocab:
    """The distinct characters of a text, numbered in sorted order.

    Attributes:
        chars: the characters, ``chars[i]`` has id ``i``.
    """

    chars: tuple[str, ...]

    @classmethod
    def build(cls, text: str) -> CharVocab:
        """The vocabulary of every character that occurs in ``text``."""
        if not text:
            raise ValueError("cannot build a vocabulary from an empty text")
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        """V, the number of characters."""
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        """Character -> id."""
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        """``text`` as an int64 array of ids, shape (len(text),).

        Raises:
            ValueError: naming the first character that is not in the vocabulary.
        """
        index = self.index
        try:
            return np.array([index[c] for c in text], dtype=np.int64)
        except KeyError as error:
            raise ValueError(f"character {error.args[0]!r} is not in the vocabulary of {self.size}") from None

    def decode(self, ids: Sequence[int] | np.ndarray | torch.Tensor) -> str:
        """The text of a 1-D sequence of ids."""
        values = ids.tolist() if isinstance(ids, (np.ndarray, torch.Tensor)) else list(ids)
        if any(not 0 <= int(i) < self.size for i in values):
            raise ValueError(f"ids must lie in [0, {self.size}), got {values}")
        return "".join(self.chars[int(i)] for i in values)


def parallel_streams(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut one stream into B rows that continue one another, shape (B, n + 1).

    Row b holds ``ids[b n : (b + 1) n + 1]`` with ``n = (L - 1) // B``: its n
    inputs and, one step later, its n targets. The last row's end (fewer than
    B ids) is dropped.

    Args:
        ids: (L,) integer stream.
        batch_size: B >= 1.

    Returns:
        (B, n + 1) int64 rows.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got shape {ids.shape} and dtype {ids.dtype}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = (len(ids) - 1) // batch_size
    if n < 1:
        raise ValueError(f"a stream of {len(ids)} ids is too short for {batch_size} rows of 2 ids")
    starts = np.arange(batch_size)[:, None] * n  # (B, 1)
    return ids[starts + np.arange(n + 1)].astype(np.int64)  # (B, n + 1)


def num_chunks(length: int, batch_size: int, k: int) -> int:
    """How many chunks :func:`stream_chunks` yields for a stream of ``length`` ids."""
    n = (length - 1) // batch_size
    return -(-n // k)  # ceil(n / k): the last chunk may be shorter


def stream_chunks(ids: np.ndarray, batch_size: int, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive (inputs, targets) chunks of B parallel streams, k steps each.

    Chunk i of row b continues chunk i - 1 of row b, so a model that carries
    its state from one chunk to the next reads each row as one text. The last
    chunk is shorter when n is not a multiple of k.

    Args:
        ids: (L,) integer stream.
        batch_size: B, the number of parallel streams.
        k: steps per chunk (the truncation length), >= 1.

    Yields:
        x: (B, k') int64 inputs and y: (B, k') int64 targets, ``y[:, t]`` the
        id that follows ``x[:, t]``; k' = k except perhaps for the last chunk.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    rows = parallel_streams(ids, batch_size)
    n = rows.shape[1] - 1
    for t0 in range(0, n, k):
        t1 = min(t0 + k, n)
        yield rows[:, t0:t1], rows[:, t0 + 1 : t1 + 1]


def torch_stream_chunks(
    ids: np.ndarray, batch_size: int, k: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """:func:`stream_chunks` as torch int64 (long) tensors, for ``nn.Embedding`` and ``cross_entropy``."""
    for x, y in stream_chunks(ids, batch_size, k):
        yield torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
