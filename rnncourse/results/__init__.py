"""Stored results of runs too long for a reading page: ``chNN_<slug>_<name>.json``.

Each file records the command, the seeds and the data it came from next to
the figures; :func:`load` reads one and :func:`store_table` writes a table
(a list of rows) built from several stored runs. The page reruns a smaller
part of the run and checks that it agrees with the stored result within a
tolerance.
A stored model's weights are ``chNN_<slug>_<name>.npz`` (NumPy arrays, no
pickles), read by :func:`load_arrays`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

FOLDER = Path(__file__).resolve().parent


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


def store_table(name: str, rows: Sequence[Mapping[str, Any]], key: Sequence[str]) -> Path:
    """Write ``rows`` as the table ``<name>.json`` (a JSON list of rows, in order); its path.

    The table is rewritten whole, so a row that its stored runs no longer
    produce leaves it. Two rows may not share their ``key`` fields.
    """
    if any(k not in row for row in rows for k in key):
        raise ValueError(f"every row needs the key fields {list(key)}")
    keys = [tuple(row[k] for k in key) for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"two rows share their key fields {list(key)}: {sorted(k for k in keys if keys.count(k) > 1)}"
        )
    path = FOLDER / f"{name}.json"
    path.write_text(
        json.dumps([dict(row) for row in rows], indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path
