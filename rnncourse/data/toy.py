"""Small, fixed data sets that the book's worked examples compute on."""

from __future__ import annotations

#: The three-sentence corpus of chapter 1's worked example.
TOY_CORPUS: tuple[str, ...] = (
    "I love machine learning",
    "Deep learning is very difficult",
    "Learning models",
)

#: The classes of chapter 1's sentiment example, in output order.
SENTIMENT_CLASSES: tuple[str, ...] = ("Positive", "Neutral", "Negative")

#: The sentence traced step by step in chapter 1.
TRACE_SENTENCE = "How are you today ?"

#: The source and target sentences of chapter 1's encoder-decoder example.
TRANSLATION_PAIR: tuple[str, str] = ("the cat sleeps", "le chat dort")

#: How many words chapter 1's untrained captioning loop writes.
CAPTION_STEPS = 5

#: How many days each series of chapter 1's synced many-to-many forecast has.
FORECAST_DAYS = 6
