"""A minimal Standard MIDI File writer: one track of notes, format 0.

A MIDI file is a sequence of *chunks*, each a 4-byte type, a 4-byte big-endian
length and the data:

* ``MThd`` (length 6): format (0: one track), number of tracks (1), and the
  time division, the number of *ticks* per quarter note.
* ``MTrk``: events, each preceded by its *delta time*, the ticks since the
  previous event, written as a variable-length quantity (VLQ): 7 bits per
  byte, most significant group first, every byte but the last with its top
  bit set. Events used here: ``0x90 | channel, pitch, velocity`` (note on),
  ``0x80 | channel, pitch, 0`` (note off), ``FF 51 03 tttttt`` (tempo, in
  microseconds per quarter note) and ``FF 2F 00`` (end of track).

Pitches are MIDI numbers: 60 is middle C, +1 a semitone, +12 an octave.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Note", "midi_bytes", "vlq", "write_midi"]


@dataclass(frozen=True)
class Note:
    """A note (``pitch`` 0..127) or a rest (``pitch`` None) lasting ``beats`` quarter notes."""

    pitch: int | None
    beats: float


def vlq(value: int) -> bytes:
    """``value`` (0 <= value < 2**28) as a MIDI variable-length quantity."""
    if not 0 <= value < 1 << 28:
        raise ValueError(f"a MIDI delta time must be in [0, 2**28), got {value}")
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)  # continuation bit on every byte but the last
        value >>= 7
    return bytes(reversed(groups))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack(">I", len(data)) + data


def midi_bytes(
    notes: Sequence[Note],
    tempo_bpm: float = 120.0,
    ticks_per_beat: int = 480,
    velocity: int = 80,
    channel: int = 0,
) -> bytes:
    """The bytes of a format-0 MIDI file that plays ``notes`` one after another.

    Args:
        notes: the melody; a rest (``pitch=None``) only moves time on.
        tempo_bpm: quarter notes per minute.
        ticks_per_beat: the time division (ticks per quarter note).
        velocity: loudness of every note, 1..127.
        channel: 0..15.

    Returns:
        The file's bytes: an ``MThd`` chunk and one ``MTrk`` chunk.
    """
    if not 1 <= velocity <= 127 or not 0 <= channel <= 15:
        raise ValueError(f"velocity must be in 1..127 and channel in 0..15, got {velocity}, {channel}")
    track = bytearray()
    track += vlq(0) + b"\xff\x51\x03" + round(60_000_000 / tempo_bpm).to_bytes(3, "big")
    wait = 0  # ticks of rest to put before the next event
    for note in notes:
        if note.beats <= 0:
            raise ValueError(f"a note must last a positive number of beats, got {note.beats}")
        ticks = round(note.beats * ticks_per_beat)
        if note.pitch is None:
            wait += ticks
            continue
        if not 0 <= note.pitch <= 127:
            raise ValueError(f"MIDI pitches are 0..127, got {note.pitch}")
        track += vlq(wait) + bytes([0x90 | channel, note.pitch, velocity])
        track += vlq(ticks) + bytes([0x80 | channel, note.pitch, 0])
        wait = 0
    track += vlq(wait) + b"\xff\x2f\x00"
    header = struct.pack(">HHH", 0, 1, ticks_per_beat)
    return _chunk(b"MThd", header) + _chunk(b"MTrk", bytes(track))


def write_midi(path: str | Path, notes: Sequence[Note], **kwargs: float) -> Path:
    """Write ``midi_bytes(notes, **kwargs)`` to ``path`` and return the path."""
    path = Path(path)
    path.write_bytes(midi_bytes(notes, **kwargs))  # type: ignore[arg-type]
    return path
