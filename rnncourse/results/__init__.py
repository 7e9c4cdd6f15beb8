"""Stored results of runs too long for a reading page: ``chNN_<slug>_<name>.json``.

Each file records the command, the seeds and the data it came from next to
the figures; :func:`load` reads one. The page reruns a smaller part of the
run and checks that it agrees with the stored result within a tolerance.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load(name: str) -> dict[str, Any]:
    """The stored result ``<name>.json`` of this package, e.g. ``load("ch03_vanishing_adding")``."""
    path = resources.files(__name__) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no stored result {name}.json in rnncourse/results; the script that makes it says its name"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
