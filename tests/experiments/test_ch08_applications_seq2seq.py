"""Chapter 8's sequence-to-sequence experiments: splits, baselines, scores, captioner, piano roll."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnncourse.data.midi import Note
from rnncourse.data.pairs import words
from rnncourse.experiments.ch08_applications_seq2seq import (
    RetrievalModel,
    bigram_bits_per_char,
    bleu,
    main,
    piano_roll,
    reply_diversity,
    split_in_order,
    train_captioner,
    train_seq2seq,
    translate,
)
from rnncourse.models.seq2seq import CaptionModel, caption


def test_split_in_order_keeps_the_last_part_for_testing() -> None:
    train, test = split_in_order(list(range(10)), 0.2)
    assert train == list(range(8)) and test == [8, 9]
    assert split_in_order([1, 2, 3], 0.01)[1] == [3]  # at least one test item
    with pytest.raises(ValueError):
        split_in_order([1, 2], 1.0)


def test_retrieval_finds_the_nearest_source_by_rare_words() -> None:
    pairs = [("the cat sat", "A"), ("the dog ran", "B"), ("a red bird", "C")]
    model = RetrievalModel(pairs)
    assert model.reply("the cat sat") == "A"
    assert model.reply("The DOG") == "B"  # case folded
    # "the" is in two sources, "bird" in one: the rare word decides
    assert model.reply("the bird") == "C"
    assert model.reply("zebra") == "A"  # nothing in common: the first pair
    with pytest.raises(ValueError):
        RetrievalModel([])


def test_bleu_and_diversity() -> None:
    sentence = words("the cat sat on the mat today")
    assert bleu([sentence], [sentence]) == pytest.approx(100.0)
    assert bleu([words("a b c d")], [sentence]) == 0.0
    distinct, top, share = reply_diversity(["hi", "hi", "yes", "hi"])
    assert (distinct, top, share) == (0.5, "hi", 0.75)


def test_bigram_baseline_by_hand() -> None:
    # train "abab": pairs ab x2, ba x1; counts a:2, b:1 (last char excluded); V = 2 ("a", "b")
    # test "ab": p(b|a) = (2 + 1) / (2 + 2) = 3/4
    assert bigram_bits_per_char("abab", "ab") == pytest.approx(-math.log2(3 / 4))
    # a pair never seen gets 1 / (count + V)
    assert bigram_bits_per_char("abab", "aa") == pytest.approx(-math.log2(1 / 4))


def test_piano_roll_from_notes() -> None:
    roll, low = piano_roll([Note(62, 1.0), Note(None, 0.5), Note(60, 0.5)], steps_per_beat=2)
    assert low == 60 and roll.shape == (3, 4)
    expected = np.zeros((3, 4))
    expected[2, 0:2] = 1  # D for two half-beat steps
    expected[0, 3] = 1  # C after a rest
    assert np.array_equal(roll, expected)
    empty, low_empty = piano_roll([Note(None, 1.0)])
    assert low_empty == 60 and empty.sum() == 0


def test_seq2seq_learns_a_tiny_copy_task() -> None:
    pairs = [(f"w{i} w{j}", f"w{i} w{j}") for i in range(4) for j in range(4)] * 4
    model, src_vocab, tgt_vocab, losses = train_seq2seq(
        pairs, epochs=25, embed=16, hidden=32, batch_size=16, lr=1e-2
    )
    assert losses[-1] < 0.2 * losses[0]
    outputs = translate(model, ["w1 w2", "w3 w0"], src_vocab, tgt_vocab, max_len=5)
    assert outputs == [["w1", "w2"], ["w3", "w0"]]


def test_captioner_fits_distinct_features_and_samples() -> None:
    # four "images", each a one-hot feature vector, with captions of different lengths
    features = np.eye(4, dtype=np.float32)
    captions = ["red heart", "blue car", "a small green tree", "sun"]
    model, vocab, losses = train_captioner(features, captions, epochs=150, hidden=32, batch_size=4, lr=1e-2)
    assert isinstance(model, CaptionModel)
    assert losses[-1] < 0.1 * losses[0]
    assert [" ".join(c) for c in caption(model, features, vocab)] == captions
    sampled = caption(model, features, vocab, temperature=0.5, generator=torch.Generator().manual_seed(0))
    assert len(sampled) == 4 and all(isinstance(w, str) for c in sampled for w in c)
    with pytest.raises(ValueError):
        caption(model, features, vocab, temperature=1.0)


def test_main_refuses_unknown_options() -> None:
    with pytest.raises(SystemExit):
        main(["--everything"])


def test_the_stored_music_run_keeps_its_sample_and_how_it_was_drawn() -> None:
    from rnncourse.data.music import abc_to_notes
    from rnncourse.experiments import ch08_applications_seq2seq as apps
    from rnncourse.results import load

    music = load("ch08_applications_seq2seq")["music"]
    sample = music["sample"]
    assert sample["header"] == apps.MUSIC_HEADER and sample["text"].startswith(apps.MUSIC_HEADER)
    assert (sample["seed"], sample["temperature"]) == (apps.MUSIC_SAMPLE_SEED, apps.MUSIC_TEMPERATURE)
    melody = sample["text"][len(sample["header"]) :].split("\n\n")[0]
    assert len(abc_to_notes(melody, key="D", unit="1/8")) > 10  # a tune the page can play
    assert music["test_bpc"]["lstm"] < music["test_bpc"]["bigram"] - 1.0
