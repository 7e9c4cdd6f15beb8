"""Stored results of runs too long for a reading page: ``chNN_<slug>_<name>.json``.

Each file records the command, the seeds and the data it came from next to
the figures; :func:`load` reads one. The page reruns a smaller part of the
run and checks that it agrees with the stored result within a tolerance.
A stored model's weights are ``chNN_<slug>_<name>.npz`` (NumPy arrays, no
pickles), read by :func:`load_arrays`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np


def load(name: str) -> dict[str, Any]:
    """The stored result ``<name>.json`` of this package, e.g. ``load("ch03_vanishing_adding")``."""
    path = resources.files(__name__) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no stored result {name}.json in rnncourse/results; the script that makes it says its name"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_arrays(name: str) -> dict[str, np.ndarray]:
    """The stored arrays ``<name>.npz`` of this package (a model's weights), read without pickles."""
    path = resources.files(__name__) / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(
            f"no stored arrays {name}.npz in rnncourse/results; the script that makes them says its name"
        )
    with path.open("rb") as file, np.load(file, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}
