"""Values across the sandbox's wall: plain JSON plus named NumPy arrays.

The sandbox's runner encodes what a learner's function returned; the grader
decodes it outside, where the learner's code cannot reach. Only plain types
survive the trip, so whatever tricks an object carried (an ndarray subclass
whose ``==`` always holds, an ``int`` subclass with a custom ``__eq__``) stay
behind: the grader compares fresh base-class values.

Encoded form (a JSON-able structure), tagged so nothing is ambiguous:

- ``None``, ``bool``, ``int``, ``float``, ``str``: themselves (exact types);
- a list: a JSON list of encoded items;
- ``{"tuple": [...]}``, ``{"dict": {key: ...}}`` (``str`` keys only);
- ``{"array": name}``: ``arrays[name]``, a base-class ndarray of a plain dtype;
- ``{"unsupported": type name, "repr": first 200 characters}``: anything else,
  also what goes beyond the depth and size bounds.

The same module finds what a call changed in its arguments
(:func:`changed_paths`), in the sandbox and in the lab alike, so that both
give an answer that writes into its inputs the same verdict.

Standalone (standard library and NumPy only): the runner imports it inside
the sandbox as a top-level module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_DEPTH = 32  # nesting levels of lists, tuples and dicts
MAX_ITEMS = 100_000  # container items and array count in one value
MAX_ARRAY_BYTES = 4 * 1024**2  # all arrays of one value together (every part returns far less)
MAX_STR = 1_000_000  # characters of one string
REPR_CHARS = 200
# Kinds an .npz stores without pickle: bool, ints, floats, complex, text.
PLAIN_KINDS = frozenset("biufcUS")


class _Budget:
    """What one value may still spend; shared by every level of the walk."""

    def __init__(self) -> None:
        self.items = MAX_ITEMS
        self.array_bytes = MAX_ARRAY_BYTES


def unsupported(value: object, why: str = "") -> dict[str, str]:
    """A description of a value that does not cross the wall."""
    try:
        text = repr(value)[:REPR_CHARS]
    except BaseException:  # a learner's __repr__ may raise anything
        text = "<repr failed>"
    kind = type(value).__name__ if not why else f"{type(value).__name__} ({why})"
    return {"unsupported": kind, "repr": text}


def encode(value: object, arrays: dict[str, np.ndarray], prefix: str = "a") -> Any:
    """Encode ``value``; its arrays go into ``arrays`` under new names starting with ``prefix``.

    Never raises for a learner's value: what cannot be encoded becomes
    ``{"unsupported": ...}``.
    """
    return _encode(value, arrays, prefix, 0, _Budget())


def _encode(value: object, arrays: dict[str, np.ndarray], prefix: str, depth: int, budget: _Budget) -> Any:
    budget.items -= 1
    if budget.items < 0:
        return unsupported(value, "too many items")
    if depth > MAX_DEPTH:
        return unsupported(value, "nested too deeply")
    # bool before int (bool is an int); exact base-class copies drop any subclass behaviour.
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        text = str.__str__(value)
        return text if len(text) <= MAX_STR else unsupported(text, "string too long")
    if isinstance(value, np.generic):
        return _encode_numpy_scalar(value, arrays, prefix, depth, budget)
    if isinstance(value, np.ndarray):
        return _encode_array(value, arrays, prefix, budget)
    if isinstance(value, list | tuple):
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        encoded = []
        for item in items:
            encoded.append(_encode(item, arrays, prefix, depth + 1, budget))
            if budget.items < 0:
                break
        return encoded if isinstance(value, list) else {"tuple": encoded}
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in dict.items(value):
            if not isinstance(key, str):
                return unsupported(value, "a key is not a str")
            out[str.__str__(key)] = _encode(item, arrays, prefix, depth + 1, budget)
            if budget.items < 0:
                break
        return {"dict": out}
    return unsupported(value)


def _encode_numpy_scalar(
    value: np.generic, arrays: dict[str, np.ndarray], prefix: str, depth: int, budget: _Budget
) -> Any:
    """NumPy scalars become Python numbers (``np.float64(2.0)`` -> ``2.0``)."""
    if value.dtype.kind not in PLAIN_KINDS:
        return unsupported(value, f"dtype {value.dtype}")
    plain = np.asarray(value).item()  # a fresh Python number from the base-class array
    if isinstance(plain, bytes):
        return unsupported(value, "bytes")
    return _encode(plain, arrays, prefix, depth, budget)


def _encode_array(value: np.ndarray, arrays: dict[str, np.ndarray], prefix: str, budget: _Budget) -> Any:
    """A copy of the base-class array: ``np.asarray`` drops the subclass and its tricks."""
    base = np.array(np.asarray(value), copy=True, subok=False)
    if type(base) is not np.ndarray or base.dtype.kind not in PLAIN_KINDS:
        return unsupported(value, f"dtype {base.dtype}")
    budget.array_bytes -= base.nbytes
    if budget.array_bytes < 0:
        return unsupported(value, "arrays too large")
    name = f"{prefix}{len(arrays)}"
    while name in arrays:
        name += "_"
    arrays[name] = base
    return {"array": name}


def encode_error(error: BaseException, line: str = "") -> dict[str, str]:
    """An exception raised by a learner's code, as plain text."""
    try:
        message = str(error)[:2000]
    except BaseException:
        message = "<message failed>"
    return {"error": type(error).__name__, "message": message, "line": line[:REPR_CHARS]}


def decode(structure: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The plain value that ``structure`` (from :func:`encode`) stands for.

    Raises ``ValueError`` on a malformed structure (e.g. an unknown array
    name), which the grader reports as an unreadable answer.
    """
    return _decode(structure, arrays, 0)


def _decode(structure: Any, arrays: dict[str, np.ndarray], depth: int) -> Any:
    if depth > MAX_DEPTH + 2:
        raise ValueError("encoded value nested too deeply")
    if structure is None or isinstance(structure, bool | int | float | str):
        return structure
    if isinstance(structure, list):
        return [_decode(item, arrays, depth + 1) for item in structure]
    if not isinstance(structure, dict):
        raise ValueError(f"not an encoded value: {type(structure).__name__}")
    if set(structure) == {"array"}:
        name = structure["array"]
        if not isinstance(name, str) or name not in arrays:
            raise ValueError(f"unknown array {name!r}")
        return np.array(arrays[name], copy=True)
    if set(structure) == {"tuple"} and isinstance(structure["tuple"], list):
        return tuple(_decode(item, arrays, depth + 1) for item in structure["tuple"])
    if set(structure) == {"dict"} and isinstance(structure["dict"], dict):
        return {str(key): _decode(item, arrays, depth + 1) for key, item in structure["dict"].items()}
    if set(structure) == {"unsupported", "repr"} or set(structure) == {"error", "message", "line"}:
        return {str(key): str(item) for key, item in structure.items()}
    raise ValueError(f"not an encoded value: keys {sorted(structure)[:5]}")


# ---- arguments changed in place -------------------------------------------------------------

Path = tuple[int | str, ...]


def changed_paths(before: Any, after: Any, path: Path = ()) -> list[Path]:
    """Where ``after`` differs from ``before``, a fresh copy of what was passed (nested containers included).

    ``before`` is plain data (what :func:`decode` gives); ``after`` is the same
    value after a call that may have changed it in place. Paths are positions:
    ``(0,)`` the first argument, ``(1, "W")`` the entry "W" of the second. An
    immutable value (a number, a string) cannot change in place and is never
    reported. Never raises: a value that cannot be compared counts as changed.
    """
    try:
        return _changed(before, after, path)
    except Exception:  # a learner's object may make any comparison fail
        return [path]


def _changed(before: Any, after: Any, path: Path) -> list[Path]:
    if isinstance(before, np.ndarray):
        if type(after) is not np.ndarray or after.shape != before.shape or after.dtype != before.dtype:
            return [path]
        # Bytes, compared by the array type's own methods: a learner who patched np.array_equal changes nothing.
        return [] if np.ndarray.tobytes(before) == np.ndarray.tobytes(after) else [path]
    if isinstance(before, list | tuple):
        if type(after) is not type(before) or len(after) != len(before):
            return [path]
        found: list[Path] = []
        for index, (old, new) in enumerate(zip(before, after)):
            found += _changed(old, new, (*path, index))
        return found
    if isinstance(before, dict):
        if type(after) is not dict or list(after) != list(before):
            return [path]
        found = []
        for key in before:
            found += _changed(before[key], after[key], (*path, key))
        return found
    return []


def describe_path(path: Path, parameters: Sequence[str] = ()) -> str:
    """A path of :func:`changed_paths` as messages name it: ``grads['W']``, ``params[1]``, ``argument 3``."""
    if not path:
        return "an argument"
    first, *rest = path
    if isinstance(first, int) and first < len(parameters):
        text = str(parameters[first])
    else:
        text = f"number {int(first) + 1}" if isinstance(first, int) else str(first)
    for step in rest:
        text += f"[{step!r}]"
    return text
