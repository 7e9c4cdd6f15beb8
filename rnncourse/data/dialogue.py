"""Question-reply pairs from the ``chatterbot-corpus`` package (BSD-3), read as YAML files.

The package ships 21 English topic files (``greetings.yml``, ``ai.yml``, ...)
under ``chatterbot_corpus/data/english``; each holds a list of
conversations, and each conversation a list of utterances in order. A
conversation of n utterances gives n - 1 (prompt, reply) pairs: every
utterance answered by the next one. The package is installed with
``--no-deps`` and never imported; only its files are read.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from rnncourse.data.packaged import data_file

__all__ = ["dialogue_pairs", "topics"]


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


def dialogue_pairs(topic: str | None = None) -> list[tuple[str, str]]:
    """(prompt, reply) pairs of one topic, or of every topic in ``topics()`` order.

    Args:
        topic: a name from :func:`topics`, or None for all of them.

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
            lines = [_as_text(u) for u in conversation]
            pairs += [(a, b) for a, b in zip(lines, lines[1:]) if a and b]
    return pairs
