"""Real Python code as text: the standard library's own ``.py`` files (PSF licence).

No dependency: every Python installation carries them. Tests, IDLE and
installed third-party packages are left out, and files are read in sorted
order so the text is the same on every machine with the same Python.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

_LEFT_OUT = {"test", "tests", "idlelib", "site-packages", "dist-packages", "__pycache__", "lib2to3"}


def source_files() -> list[Path]:
    """The standard library's ``.py`` files, sorted, without tests, IDLE or site-packages."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return [
        path
        for path in sorted(root.rglob("*.py"))
        if not _LEFT_OUT.intersection(path.relative_to(root).parts)
    ]


def python_source_text(max_chars: int) -> str:
    """The first ``max_chars`` characters of the files concatenated, each preceded by ``# file: <name>``."""
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    root = Path(sysconfig.get_paths()["stdlib"])
    pieces, total = [], 0
    for path in source_files():
        text = f"# file: {path.relative_to(root)}\n" + path.read_text(encoding="utf-8", errors="replace")
        pieces.append(text)
        total += len(text)
        if total >= max_chars:
            break
    return "".join(pieces)[:max_chars]
