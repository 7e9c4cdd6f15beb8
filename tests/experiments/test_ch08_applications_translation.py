"""Chapter 8's translation: the splits, early stopping on validation BLEU, BLEU by length, attention."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from rnncourse.data.pairs import bible_pairs, words
from rnncourse.experiments import ch07_seq2seq
from rnncourse.experiments.ch08_applications_translation import (
    LENGTH_EDGES,
    ORDERED,
    RANDOM,
    attention_example,
    attention_map,
    bleu_by_length,
    random_split,
    train_translator,
    verse_splits,
)

NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
NOMBRES = ["un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"]


def _number_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """Word-for-word 'translations' of 4 to 6 number words: a task a small model learns in a few epochs."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        picked = rng.integers(0, 10, size=rng.integers(4, 7))
        pairs.append((" ".join(NUMBERS[i] for i in picked), " ".join(NOMBRES[i] for i in picked)))
    return pairs


def test_the_random_split_tests_on_chapter_7s_verses() -> None:
    splits = verse_splits()
    train, val, test = splits[RANDOM]
    assert test == ch07_seq2seq.verse_task(16, test_size=200, seed=0).test
    assert len(val) == 200
    # the three parts share no verse (repeated verses such as "Yahweh spoke to Moses, saying," may
    # stand in several): together they are the corpus, each verse once
    assert Counter(train + val + test) == Counter(bible_pairs(16))
    ordered_train, ordered_val, ordered_test = splits[ORDERED]
    everything = ordered_train + ordered_val + ordered_test
    assert everything == bible_pairs(16) and len(ordered_val) == 200  # canonical order kept
    assert len(ordered_test) == round(0.1 * len(everything))
    assert ordered_test == everything[-len(ordered_test) :]  # the tail in canonical order


def test_the_attention_example_is_new_to_training_and_short_enough_to_read() -> None:
    test = [
        ("seen verse of seven words here now", "a"),  # in training: passed over
        ("too short new", "b"),
        ("a new verse of exactly seven words", "c"),
        ("another new verse of seven words too", "d"),
    ]
    seen = {"seen verse of seven words here now"}
    assert attention_example(test, seen) == 2
    with pytest.raises(ValueError, match="new to training"):
        attention_example(test[:2], seen)
    train, val, verses = verse_splits()[RANDOM]
    index = attention_example(verses, {source for source, _ in train + val})
    assert verses[index][0] not in {source for source, _ in train + val}


def test_random_split_draws_without_overlap_and_rejects_bad_sizes() -> None:
    rest, test = random_split(list(range(50)), 10, seed=3)
    assert sorted(rest + test) == list(range(50)) and len(test) == 10
    assert test != list(range(10))  # drawn, not the head
    for size in (0, 50):
        with pytest.raises(ValueError, match="test_size"):
            random_split(list(range(50)), size, seed=3)


def test_bleu_by_length_counts_every_pair_once() -> None:
    pairs = [(" ".join(["w"] * n), f"mot {n} ici maintenant") for n in (3, 10, 11, 12, 14, 16, 16)]
    perfect = [words(t) for _, t in pairs]
    rows = bleu_by_length(perfect, pairs)
    assert [r["pairs"] for r in rows] == [2, 2, 1, 2] and [(r["lo"], r["hi"]) for r in rows] == list(
        zip(LENGTH_EDGES[:-1], LENGTH_EDGES[1:])
    )
    assert all(abs(r["bleu"] - 100) < 1e-9 for r in rows)
    wrong = [["autre"] * 4 for _ in pairs]
    assert all(r["bleu"] == 0 for r in bleu_by_length(wrong, pairs))


def test_training_stops_on_validation_bleu_and_keeps_the_best_epoch() -> None:
    train, val = _number_pairs(800, 0), _number_pairs(60, 1)
    translator = train_translator(
        train, val, epochs=8, embed=16, hidden=32, dropout=0.1, patience=1, batch_size=32, lr=1e-2
    )
    history = translator.val_bleu
    assert len(history) == len(translator.train_loss) == len(translator.val_loss) <= 8
    assert history[translator.best_epoch] == max(history)
    if len(history) < 8:  # stopped early: the last epoch did not beat the best
        assert history[-1] <= max(history) and translator.best_epoch == len(history) - 2
    assert max(history) > 50  # it learned the word-for-word task
    from rnncourse.evaluation.bleu import bleu

    restored = bleu(translator.translate([s for s, _ in val]), [words(t) for _, t in val])
    assert abs(restored - max(translator.val_bleu)) < 1e-9  # the best weights are the ones kept
    assert not translator.model.training

    shown = attention_map(translator, *val[0])
    weights = np.array(shown["weights"])
    assert shown["source"][-1] == "<eos>" and shown["target"][-1] == "<eos>"
    assert weights.shape == (len(shown["target"]), len(shown["source"]))
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-3)  # rounded to 4 decimals
