"""Question-reply pairs from the ``chatterbot-corpus`` package (BSD-3), read as YAML files.

The package ships 21 English topic files (``greetings.yml``, ``ai.yml``, ...)
under ``chatterbot_corpus/data/english``; each holds a list of
conversations, and each conversation a list of utterances in order. A
conversation of n utterances gives n - 1 (prompt, reply) pairs: every
utterance answered by the next one. The package is installed with
``--no-deps`` and never imported; only its files are read.

:func:`reply_streams` turns pairs into what a next-word model reads: each pair
one stream of word ids, ``<bos> prompt <eos> reply <eos>``, and a mask of the
steps whose next word belongs to the reply, the words a chatbot must predict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from rnncourse.data.packaged import data_file
from rnncourse.data.pairs import BOS_ID, EOS_ID, PAD_ID, PairVocabulary

__all__ = ["dialogue_pairs", "reply_streams", "topics"]


def _english() -> Path:
    return data_file("chatterbot_corpus", "data", "english")


def topics() -> list[str]:
    """The topic files' names without ``.yml``, e.g. ``"greetings"``, sorted."""
    return sorted(path.stem for path in _english().glob("*.yml"))


def _as_text(utterance: object) -> str:
    # A few replies are YAML lists or numbers rather than strings: join or format them.
    if isinstance(utterance, list):
        return " ".join(_as_text(u) for u in utterance)
    return " ".join(str(utterance).split())


def dialogue_pairs(topic: str | None = None, skip_malformed: bool = False) -> list[tuple[str, str]]:
    """(prompt, reply) pairs of one topic, or of every topic in ``topics()`` order.

    Args:
        topic: a name from :func:`topics`, or None for all of them.
        skip_malformed: skip a conversation written as one string instead of a
            list of utterances (``trivia.yml`` has one). By default it is read as
            it always was here, one character per utterance, which gives about
            100 one-character pairs (chapter 4's stored run was made so).

    Returns:
        Pairs of non-empty strings with white space collapsed, in file order.
    """
    names = topics() if topic is None else [topic]
    pairs: list[tuple[str, str]] = []
    for name in names:
        path = _english() / f"{name}.yml"
        if not path.is_file():
            raise ValueError(f"unknown topic {name!r}; known: {topics()}")
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for conversation in document.get("conversations", []):
            if skip_malformed and not isinstance(conversation, list):
                continue
            lines = [_as_text(u) for u in conversation]
            pairs += [(a, b) for a, b in zip(lines, lines[1:]) if a and b]
    return pairs


def reply_streams(
    pairs: Sequence[tuple[str, str]], vocab: PairVocabulary, max_words: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Each (prompt, reply) as one stream ``<bos> prompt <eos> reply <eos>``, padded with ``<pad>`` (0).

    Args:
        pairs: N (prompt, reply) pairs.
        vocab: the words (``PairVocabulary``: its ``encode`` ends a text with ``<eos>``,
            an unknown word is ``<unk>``).
        max_words: each side is cut to its first ``max_words`` words (before its ``<eos>``).

    Returns:
        ids: (N, T) int64, padded at the end. reply: (N, T - 1) bool, True at step t when
        the next id, ``ids[:, t + 1]``, is a word of the reply or its closing ``<eos>``:
        the targets of a next-word model that reads ``ids[:, :-1]``.
    """
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")
    streams, starts = [], []
    for prompt, reply in pairs:
        first = [BOS_ID, *vocab.encode(prompt)[:-1][:max_words], EOS_ID]
        second = [*vocab.encode(reply)[:-1][:max_words], EOS_ID]
        streams.append(first + second)
        starts.append(len(first))
    ids = np.full((len(streams), max(map(len, streams), default=1)), PAD_ID, dtype=np.int64)
    reply_mask = np.zeros((ids.shape[0], ids.shape[1] - 1), dtype=bool)
    for row, (stream, start) in enumerate(zip(streams, starts)):
        ids[row, : len(stream)] = stream
        reply_mask[row, start - 1 : len(stream) - 1] = True  # steps whose next id is a reply id
    return ids, reply_mask
