"""chatterbot-corpus question-reply pairs."""

from __future__ import annotations

import pytest

from rnncourse.data.dialogue import dialogue_pairs, reply_streams, topics
from rnncourse.data.pairs import BOS_ID, EOS_ID, UNK_ID, PairVocabulary, words


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


def test_skip_malformed_drops_the_conversation_read_letter_by_letter() -> None:
    trivia, kept = dialogue_pairs("trivia"), dialogue_pairs("trivia", skip_malformed=True)
    letters = [pair for pair in trivia if len(pair[0]) == 1 and len(pair[1]) == 1]
    # trivia.yml's one conversation written as a string: read by default as one character per line
    assert len(letters) > 50
    assert not any(len(a) == 1 and len(b) == 1 for a, b in kept)
    assert set(kept) <= set(trivia) and len(trivia) - len(kept) >= len(letters)
    assert dialogue_pairs("greetings", skip_malformed=True) == dialogue_pairs("greetings")


def test_reply_streams_mark_the_reply_words_as_targets() -> None:
    vocab = PairVocabulary.from_texts(["hello there", "hi"], words)
    ids, reply = reply_streams([("Hello there", "Hi"), ("hello", "hi friend")], vocab, max_words=5)
    hello, there, hi = (vocab.index[w] for w in ("hello", "there", "hi"))
    assert ids.tolist() == [
        [BOS_ID, hello, there, EOS_ID, hi, EOS_ID],
        [BOS_ID, hello, EOS_ID, hi, UNK_ID, EOS_ID],
    ]
    # step t predicts ids[:, t + 1]: the reply's words and its <eos>, not the prompt
    assert reply.tolist() == [[False, False, False, True, True], [False, False, True, True, True]]
    cut, _ = reply_streams([("a b c d", "e f g")], vocab, max_words=2)
    assert cut.shape == (1, 7)  # <bos> a b <eos> e f <eos>
    with pytest.raises(ValueError, match="max_words"):
        reply_streams([("a", "b")], vocab, max_words=0)
