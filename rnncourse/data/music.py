"""Folk tunes as ABC text, read from the files of the ``music21`` corpus (BSD-3; never imported).

ABC is a plain-text music notation: a header of ``Key: value`` lines
(``X:`` the tune's number, ``T:`` its title, ``M:`` the metre, ``L:`` the
unit note length, ``K:`` the key, which ends the header) followed by the
melody, one character or a few per note: ``A`` to ``G`` the octave from middle
C, lower case one octave higher, ``,`` and ``'`` an octave down or up; a number
after a note multiplies its length (``A2``), ``/`` divides it; ``^``, ``_`` and
``=`` are sharp, flat and natural; ``z`` is a rest and ``|`` a bar line.

The corpus ships O'Neill's *Music of Ireland* (1850; 2,009 tunes in the files) under ``music21/corpus/oneills1850``
and the Essen folk song collection under ``essenFolksong``; both are ABC. A
character-level model can be trained on the text directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rnncourse.data.midi import Note
from rnncourse.data.packaged import data_file

__all__ = ["Tune", "abc_to_notes", "abc_tunes", "collections", "key_accidentals"]

_COLLECTIONS = {"oneills1850": "oneills1850", "essen": "essenFolksong"}
_FIELD = re.compile(r"^([A-Za-z]):\s*(.*)$")


@dataclass(frozen=True)
class Tune:
    """One tune: its header fields (``"T"``, ``"M"``, ``"L"``, ``"K"``, ...) and its melody lines."""

    fields: dict[str, str]
    body: str

    @property
    def title(self) -> str:
        return self.fields.get("T", "")

    def text(self, keep: tuple[str, ...] = ("M", "L", "K")) -> str:
        """The tune as ABC text with only the header fields in ``keep`` (in that order), then the body.

        Dropping titles, sources and transcribers' notes leaves what a model
        should learn: the metre, the note length, the key and the notes.
        """
        header = [f"{key}:{self.fields[key]}" for key in keep if key in self.fields]
        return "\n".join([*header, self.body]) + "\n"


def collections() -> list[str]:
    """The names :func:`abc_tunes` accepts."""
    return sorted(_COLLECTIONS)


def _parse(block: str) -> Tune | None:
    fields: dict[str, str] = {}
    body: list[str] = []
    in_header = True
    for raw in block.splitlines():
        line = raw.split("%", 1)[0].rstrip()  # % starts a comment
        if not line:
            continue
        match = _FIELD.match(line)
        if in_header and match:
            fields.setdefault(match.group(1), match.group(2).strip())
            if match.group(1) == "K":  # the key field ends the header
                in_header = False
        elif not in_header and not match:
            body.append(line.strip())
    if "K" not in fields or not body:
        return None
    return Tune(fields, "\n".join(body))


def abc_tunes(collection: str = "oneills1850", max_tunes: int | None = None) -> list[Tune]:
    """The tunes of one collection in file order.

    Args:
        collection: ``"oneills1850"`` or ``"essen"``.
        max_tunes: stop after this many (None: all).

    Returns:
        Tunes with a key field and at least one melody line (others are skipped).
    """
    if collection not in _COLLECTIONS:
        raise ValueError(f"unknown collection {collection!r}; known: {collections()}")
    folder: Path = data_file("music21", "corpus", _COLLECTIONS[collection])
    tunes: list[Tune] = []
    for path in sorted(folder.glob("*.abc")):
        text = path.read_text(encoding="latin-1")
        for block in re.split(r"\n(?=X:)", "\n" + text):
            tune = _parse(block)
            if tune is not None:
                tunes.append(tune)
                if max_tunes is not None and len(tunes) >= max_tunes:
                    return tunes
    return tunes


# -- from ABC text to notes (a subset of ABC: enough for single-line folk melodies) ----------

_NATURAL = {"C": 60, "D": 62, "E": 64, "F": 65, "G": 67, "A": 69, "B": 71}  # the octave from middle C
_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7,
           "F": -1, "Bb": -2, "Eb": -3, "Ab": -4, "Db": -5, "Gb": -6, "Cb": -7}  # fmt: skip
_MODE_SHIFT = {"": 0, "maj": 0, "ion": 0, "m": -3, "min": -3, "aeo": -3, "dor": -2, "mix": -1,
               "lyd": 1, "phr": -4, "loc": -5}  # fmt: skip
_SHARP_ORDER, _FLAT_ORDER = "FCGDAEB", "BEADGCF"
_TOKEN = re.compile(
    r'"[^"]*"|\{[^}]*\}|!\w*!|\[[A-Za-z]:[^\]]*\]|\(\d|(?P<acc>[_^=]*)(?P<note>[A-Ga-gz])(?P<oct>[,\']*)(?P<len>\d*/*\d*)|\|'
)


def key_accidentals(key: str) -> dict[str, int]:
    """The sharps (+1) and flats (-1) of a key signature, by letter: ``"G"`` -> ``{"F": 1}``.

    The ABC key is a tonic (``"G"``, ``"Bb"``, ``"F#"``) and an optional mode
    (``m``, ``dor``, ``mix``, ...); each mode moves the tonic's place on the
    circle of fifths (``Ador`` has G major's one sharp). An unknown key
    counts as C major.
    """
    match = re.match(r"\s*([A-G][#b]?)\s*([A-Za-z]*)", key)
    if not match or match.group(1) not in _FIFTHS:
        return {}
    mode = match.group(2).lower()[:3] if match.group(2).lower() != "m" else "m"
    fifths = _FIFTHS[match.group(1)] + _MODE_SHIFT.get(mode, 0)
    if fifths >= 0:
        return {letter: 1 for letter in _SHARP_ORDER[:fifths]}
    return {letter: -1 for letter in _FLAT_ORDER[:-fifths]}


def _length(text: str) -> float:
    # "2" -> 2, "/2" or "/" -> 1/2, "3/2" -> 3/2, "//" -> 1/4
    if not text:
        return 1.0
    if "/" not in text:
        return float(text)
    numerator, _, rest = text.partition("/")
    if rest.startswith("/") or rest == "":
        return (float(numerator) if numerator else 1.0) / 2 ** (text.count("/"))
    return (float(numerator) if numerator else 1.0) / float(rest)


def abc_to_notes(text: str, key: str = "C", unit: str = "1/8") -> list[Note]:
    """The notes of an ABC melody, in quarter-note beats.

    Understands notes with accidentals, octave marks and lengths, rests, bar
    lines (which end an accidental's effect) and the key signature; skips
    chord names in quotes, grace notes in braces, decorations and inline
    fields. Ties, slurs, broken rhythms (``>``) and tuplets are read as
    plain notes: good enough to hear a generated tune, not an ABC player.

    Args:
        text: the melody (a tune's body, or what a model generated).
        key: the ``K:`` field; unit: the ``L:`` field (the length of a plain note).

    Returns:
        ``Note`` records with MIDI pitches (None for a rest).
    """
    signature = key_accidentals(key)
    try:
        unit_beats = 4 * _length(unit.strip())  # a whole note is four quarter-note beats
    except ValueError:
        unit_beats = 0.5
    bar: dict[tuple[str, int], int] = {}  # accidentals written in the current bar
    notes: list[Note] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "|":
            bar = {}
            continue
        if match.group("note") is None:
            continue  # a chord name, grace notes, a decoration, an inline field or a tuplet mark
        letter = match.group("note")
        try:
            beats = _length(match.group("len")) * unit_beats
        except ValueError:
            continue
        if beats <= 0:
            continue
        if letter == "z":
            notes.append(Note(None, beats))
            continue
        octave = 12 * (letter.islower() + match.group("oct").count("'") - match.group("oct").count(","))
        upper = letter.upper()
        accidental = match.group("acc")
        if accidental:
            shift = accidental.count("^") - accidental.count("_")
            bar[(upper, octave)] = shift
        else:
            shift = bar.get((upper, octave), signature.get(upper, 0))
        pitch = _NATURAL[upper] + octave + shift
        if 0 <= pitch <= 127:
            notes.append(Note(pitch, beats))
    return notes
