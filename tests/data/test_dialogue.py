"""chatterbot-corpus question-reply pairs."""

from __future__ import annotations

import pytest

from rnncourse.data.dialogue import dialogue_pairs, topics


def test_dialogue_pairs_follow_the_conversations() -> None:
    assert "greetings" in topics() and len(topics()) == 21
    greetings = dialogue_pairs("greetings")
    # the file's first conversation is "Hello" -> "Hi"; each reply is the next prompt's predecessor
    assert greetings[0] == ("Hello", "Hi")
    everything = dialogue_pairs()
    assert 2000 < len(everything) < 3000  # DATASETS.md: about 2,400 pairs
    assert all(a.strip() == a and b and "  " not in b for a, b in everything)
    with pytest.raises(ValueError, match="unknown topic"):
        dialogue_pairs("weather")
