"""The MIDI writer, checked against the byte layout of the Standard MIDI File specification."""

from __future__ import annotations

import struct

import pytest

from rnncourse.data.midi import Note, midi_bytes, vlq, write_midi

# Examples of variable-length quantities as the MIDI 1.0 file specification lists them.
SPEC_VLQ = {
    0x00: "00",
    0x40: "40",
    0x7F: "7F",
    0x80: "81 00",
    0x2000: "C0 00",
    0x3FFF: "FF 7F",
    0x4000: "81 80 00",
    0x100000: "C0 80 00",
    0x1FFFFF: "FF FF 7F",
    0x200000: "81 80 80 00",
    0x8000000: "C0 80 80 00",
    0xFFFFFFF: "FF FF FF 7F",
}


@pytest.mark.parametrize("value", sorted(SPEC_VLQ))
def test_vlq_matches_the_specification(value: int) -> None:
    assert vlq(value) == bytes.fromhex(SPEC_VLQ[value])


def test_vlq_rejects_out_of_range() -> None:
    for bad in (-1, 1 << 28):
        with pytest.raises(ValueError):
            vlq(bad)


def read_vlq(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i


def parse_track(data: bytes) -> list[tuple[int, bytes]]:
    """(absolute tick, event bytes) of every event of a format-0 file, written independently of the writer."""
    assert data[:4] == b"MThd"
    (header_len,) = struct.unpack(">I", data[4:8])
    assert header_len == 6
    assert data[14:18] == b"MTrk"
    (track_len,) = struct.unpack(">I", data[18:22])
    track = data[22 : 22 + track_len]
    assert len(data) == 22 + track_len
    events, i, tick = [], 0, 0
    while i < len(track):
        delta, i = read_vlq(track, i)
        tick += delta
        if track[i] == 0xFF:
            length = track[i + 2]
            events.append((tick, track[i : i + 3 + length]))
            i += 3 + length
        else:
            events.append((tick, track[i : i + 3]))
            i += 3
    return events


def test_header_says_format_0_one_track_and_the_division() -> None:
    data = midi_bytes([Note(60, 1.0)], ticks_per_beat=96)
    assert struct.unpack(">HHH", data[8:14]) == (0, 1, 96)


def test_notes_rests_and_tempo_land_on_the_right_ticks() -> None:
    # C for one beat, a half-beat rest, E for two beats, at 100 bpm and 480 ticks a beat.
    data = midi_bytes([Note(60, 1.0), Note(None, 0.5), Note(64, 2.0)], tempo_bpm=100, velocity=90)
    events = parse_track(data)
    assert events[0] == (0, b"\xff\x51\x03" + (600_000).to_bytes(3, "big"))  # 60e6 / 100 us per beat
    assert events[1:] == [
        (0, bytes([0x90, 60, 90])),
        (480, bytes([0x80, 60, 0])),
        (720, bytes([0x90, 64, 90])),
        (1680, bytes([0x80, 64, 0])),
        (1680, b"\xff\x2f\x00"),
    ]


def test_trailing_rest_delays_the_end_of_track() -> None:
    events = parse_track(midi_bytes([Note(60, 1.0), Note(None, 1.0)], channel=3))
    assert events[1][1][0] == 0x93 and events[2][1][0] == 0x83
    assert events[-1] == (960, b"\xff\x2f\x00")


def test_bad_notes_are_refused(tmp_path) -> None:
    for notes in ([Note(128, 1.0)], [Note(60, 0.0)]):
        with pytest.raises(ValueError):
            midi_bytes(notes)
    with pytest.raises(ValueError):
        midi_bytes([Note(60, 1.0)], velocity=0)
    path = write_midi(tmp_path / "a.mid", [Note(60, 1.0)])
    assert path.read_bytes() == midi_bytes([Note(60, 1.0)])
