"""Chapter 8's music experiment: the bigram baseline, the piano roll, the stored run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnncourse.data.midi import Note
from rnncourse.data.music import abc_to_notes, abc_tunes
from rnncourse.experiments import ch08_applications_music as music
from rnncourse.results import load


def test_bigram_baseline_by_hand() -> None:
    # train "abab": pairs ab x2, ba x1; counts a:2, b:1 (last char excluded); V = 2 ("a", "b")
    # test "ab": p(b|a) = (2 + 1) / (2 + 2) = 3/4
    assert music.bigram_bits_per_char("abab", "ab") == pytest.approx(-math.log2(3 / 4))
    # a pair never seen gets 1 / (count + V)
    assert music.bigram_bits_per_char("abab", "aa") == pytest.approx(-math.log2(1 / 4))


def test_piano_roll_from_notes() -> None:
    roll, low = music.piano_roll([Note(62, 1.0), Note(None, 0.5), Note(60, 0.5)], steps_per_beat=2)
    assert low == 60 and roll.shape == (3, 4)
    expected = np.zeros((3, 4))
    expected[2, 0:2] = 1  # D for two half-beat steps
    expected[0, 3] = 1  # C after a rest
    assert np.array_equal(roll, expected)
    empty, low_empty = music.piano_roll([Note(None, 1.0)])
    assert low_empty == 60 and empty.sum() == 0


def test_the_corpus_joins_whole_tunes() -> None:
    tunes = abc_tunes("oneills1850")[:3]
    text = music.abc_corpus(tunes)
    assert text.startswith(tunes[0].text()) and text.endswith(tunes[2].text())
    assert all(t.text() in text for t in tunes)


def test_main_refuses_unknown_options() -> None:
    with pytest.raises(SystemExit):
        music.main(["--everything"])


def test_the_stored_music_run_keeps_its_sample_and_how_it_was_drawn() -> None:
    stored = load("ch08_applications_music")
    assert stored["command"] == "python -m rnncourse.experiments.ch08_applications_music"
    run = stored["music"]
    sample = run["sample"]
    assert sample["header"] == music.MUSIC_HEADER and sample["text"].startswith(music.MUSIC_HEADER)
    assert (sample["seed"], sample["temperature"]) == (music.MUSIC_SAMPLE_SEED, music.MUSIC_TEMPERATURE)
    melody = sample["text"][len(sample["header"]) :].split("\n\n")[0]
    assert len(abc_to_notes(melody, key="D", unit="1/8")) > 10  # a tune the page can play
    assert run["test_bpc"]["lstm"] < run["test_bpc"]["bigram"] - 1.0
