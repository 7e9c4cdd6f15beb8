"""ABC tunes from music21's corpus files, and ABC text to notes."""

from __future__ import annotations

import pytest

from rnncourse.data.music import abc_to_notes, abc_tunes, collections, key_accidentals


def test_abc_tunes_parse_headers_and_bodies() -> None:
    assert collections() == ["essen", "oneills1850"]
    tunes = abc_tunes("oneills1850")
    assert 1900 < len(tunes) < 2100
    first = tunes[0]
    assert first.title == "The Enchanted Valley" and first.fields["K"] == "Gm"
    text = first.text()
    assert text.startswith("M:2/4\nL:1/16\nK:Gm\n") and "Transcribed" not in text
    assert len(abc_tunes("essen", max_tunes=5)) == 5
    with pytest.raises(ValueError):
        abc_tunes("beatles")


def test_key_signatures_from_the_circle_of_fifths() -> None:
    assert key_accidentals("C") == {}
    assert key_accidentals("D") == {"F": 1, "C": 1}
    assert key_accidentals("Gm") == {"B": -1, "E": -1}  # relative of B flat major
    assert key_accidentals("Ador") == {"F": 1}  # dorian on A: G major's signature
    assert key_accidentals("Bb") == {"B": -1, "E": -1}


def test_abc_to_notes_pitches_lengths_and_accidentals() -> None:
    # in G major (F sharp): C D, e2, F (sharp from the key), =F (natural), then F again in the bar (still natural),
    # a new bar resets it; z/ a half-length rest; c' two octaves above middle C's octave
    notes = abc_to_notes("C D e2 F =F F | F z/ c'", key="G", unit="1/8")
    assert [n.pitch for n in notes] == [60, 62, 76, 66, 65, 65, 66, None, 84]
    assert [n.beats for n in notes] == [0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.5]
    # chord names, grace notes and octave-down commas
    assert [n.pitch for n in abc_to_notes('"Am" {g}A, B,,', unit="1/4")] == [57, 71 - 24]
    # a real tune: O'Neill's first tune is in 2/4 and sums to whole bars plus its pickup
    first = abc_tunes()[0]
    beats = sum(n.beats for n in abc_to_notes(first.body, first.fields["K"], first.fields["L"]))
    assert beats == pytest.approx(48.25)
