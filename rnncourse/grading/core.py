"""The machinery shared by every chapter's checks.

- :func:`run_learner_code` calls a learner's function, turns any exception
  into a readable failure, and refuses code that calls the course's own
  implementations instead of computing the answer itself.
- :func:`substituted` swaps names in the learner's namespace for correct
  versions while a later part is checked, so that every part earns its
  points independently of the parts before it.
- :func:`compare` checks an array against the reference to ``TOLERANCE``
  (relative to the array's scale) and, when it is wrong, names the known
  mistake that explains it, if exactly that mistake does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import numpy as np

from rnncourse.gradcheck import rel_error

_COURSE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep

#: The file name under which substitutes are compiled; their frames are not the learner's.
SUBSTITUTE_FILENAME = "<substitute {name}>"


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).resolve()) + os.sep


#: Libraries whose recurrent layers or softmax would do the exercise for the learner.
_FORBIDDEN_LIBRARY_NAMES = ("torch", "scipy")
_FORBIDDEN_LIBRARIES = tuple(d for d in map(_package_dir, _FORBIDDEN_LIBRARY_NAMES) if d)


class GradingFailure(AssertionError):
    """A check failed; the message says what is wrong and what to try."""


@dataclass(frozen=True)
class Opaque:
    """A returned value of a type that does not reach the checks; only its type's name does.

    The grader's codec carries plain data only (arrays, lists, tuples, dicts,
    numbers, strings); a torch tensor or a generator arrives as this.
    """

    type_name: str


def type_name(value: object) -> str:
    """The name of ``value``'s type as messages give it (an :class:`Opaque` keeps its own)."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _describe(code: CodeType) -> str:
    path = Path(code.co_filename)
    return f"{code.co_qualname} ({path.parent.name}/{path.name})"


def learner_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The deepest frame of the learner's own code in ``error``'s traceback.

    NumPy's frames, the course's and those of substitutes (correct earlier
    parts, compiled as ``<substitute NAME>``) are not the learner's. None if
    no frame is.
    """
    substitute = SUBSTITUTE_FILENAME.split("{", 1)[0]
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "site-packages" not in frame.filename
        and not frame.filename.startswith(_COURSE_DIR)
        and not frame.filename.startswith(substitute)
    ]
    return frames[-1] if frames else None


def describe_args(args: Sequence[object]) -> str:
    """``args`` as messages describe them: shapes of arrays, type names of the rest."""
    described = [
        f"an array of shape {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__ for a in args
    ]
    return ", ".join(described) if described else "no arguments"


def run_learner_code(
    function: Callable[..., Any],
    *args: Any,
    name: str | None = None,
    allowed: tuple[Callable[..., Any], ...] = (),
) -> Any:
    """Call ``function(*args)`` the way every check does.

    Args:
        function: the learner's function.
        args: its arguments.
        name: how messages call it (defaults to its ``__name__``).
        allowed: course functions the learner's code may call, because a
            check substituted them for the learner's own earlier parts.

    Returns:
        Whatever the function returns.

    Raises:
        GradingFailure: if it raised (with the exception and the line), left
            ``NotImplementedError`` in place, or called ``rnncourse``'s
            implementations or a deep-learning library.
    """
    name = name or getattr(function, "__name__", "your function")
    allowed_codes = {f.__code__ for f in allowed if hasattr(f, "__code__")}
    calls: list[str] = []
    caller = sys._getframe()

    def is_forbidden(code: CodeType) -> bool:
        filename = os.path.realpath(code.co_filename)
        if filename.startswith(_COURSE_DIR):
            return True
        return any(filename.startswith(library) for library in _FORBIDDEN_LIBRARIES)

    def inside_allowed(frame: FrameType | None) -> bool:
        while frame is not None and frame is not caller:
            if frame.f_code in allowed_codes:
                return True
            frame = frame.f_back
        return False

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and is_forbidden(frame.f_code) and not inside_allowed(frame):
            calls.append(_describe(frame.f_code))
        elif event == "c_call":
            module = getattr(arg, "__module__", None) or ""
            if module.split(".")[0] in _FORBIDDEN_LIBRARY_NAMES and not inside_allowed(frame):
                calls.append(f"{module}.{getattr(arg, '__name__', '?')}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = function(*args)
    except NotImplementedError as error:
        raise GradingFailure(
            f"{name} still raises NotImplementedError: replace the line "
            "`raise NotImplementedError()` with your code."
        ) from error
    except GradingFailure:
        raise
    except Exception as error:
        frame = learner_frame(error)
        line = (frame.line or "").strip() if frame else ""
        where = f", at the line `{line}`" if line else (f" (line {frame.lineno})" if frame else "")
        raise GradingFailure(
            f"{name} raised {type(error).__name__}: {error}{where}. It was called with {describe_args(args)}."
        ) from error
    finally:
        profiling_was_kept = sys.getprofile() is profile
        sys.setprofile(previous)
    if not profiling_was_kept:
        raise GradingFailure(f"{name} switched off the grader's call monitor (sys.setprofile).")
    if calls:
        called = ", ".join(sorted(set(calls)))
        raise GradingFailure(
            f"{name} calls {called}. The exercise is to write this computation "
            "yourself with NumPy; the course's own implementation and deep-learning "
            "libraries earn no points here."
        )
    return result


@contextlib.contextmanager
def substituted(
    function: Callable[..., Any], replacements: Mapping[str, Callable[..., Any]]
) -> Iterator[None]:
    """Temporarily replace names in the module where ``function`` was defined.

    A learner's ``rnn_forward`` calls their own ``rnn_cell_forward`` by name;
    swapping that name for a correct cell while ``rnn_forward`` is checked
    means a mistake in the cell costs the cell's points only.
    """
    namespace = getattr(function, "__globals__", None)
    if namespace is None:
        yield
        return
    saved = {name: namespace[name] for name in replacements if name in namespace}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name in replacements:
            if name in saved:
                namespace[name] = saved[name]
            else:
                namespace.pop(name, None)


#: Largest relative error (``rel_error``, relative to the array's scale) that
#: a correct answer may have. Float64 rounding of these small computations
#: stays below 1e-14 in any summation order and on any CPU; float32 rounding
#: is about 1e-7; a wrong formula is off by 1e-3 or (much) more.
TOLERANCE = 1e-10

#: A known mistake is named only if its output is at least this far from the
#: correct one. With one hidden unit a transposed ``W_hh`` *is* ``W_hh``, and
#: a mistake that changes nothing must not be blamed for a failure.
DISTINCT = 1e-6

#: A float64 answer off by more than ``TOLERANCE`` but less than this is
#: wrong by rounding, not by formula: float32 arithmetic somewhere.
ROUNDING_ONLY = 1e-5

_FLOAT64_RULE = (
    "The exercise asks for float64, NumPy's default: do not convert inputs or arrays "
    "to np.float32 (e.g. in np.zeros(..., dtype=np.float32) or .astype(np.float32))."
)


def check_array(result: Any, name: str, expected_shape: tuple[int, ...], what: str) -> np.ndarray:
    """Fail unless ``result`` is a finite float64 array of ``expected_shape``.

    Float32 (or float16) results fail with a message that says so: the
    exercise asks for float64, and an answer rounded to float32 is off by
    about 1e-7, a thousand times ``TOLERANCE``.
    """
    if isinstance(result, tuple):
        raise GradingFailure(
            f"{name} returned a tuple of {len(result)} items; return only {what}, "
            f"an array of shape {expected_shape}."
        )
    if not isinstance(result, np.ndarray):
        raise GradingFailure(
            f"{name} returned {type_name(result)}; return {what} as a NumPy array of shape {expected_shape}."
        )
    if result.shape != expected_shape:
        raise GradingFailure(
            f"{name} returned shape {result.shape}; expected {what} of shape {expected_shape}."
        )
    if np.issubdtype(result.dtype, np.floating) and result.dtype.itemsize < 8:
        raise GradingFailure(f"{name} returned {result.dtype} numbers: float32 arithmetic. {_FLOAT64_RULE}")
    if not np.issubdtype(result.dtype, np.floating):
        raise GradingFailure(f"{name} returned an array of {result.dtype}; {what} are float64 numbers.")
    if not np.all(np.isfinite(result)):
        raise GradingFailure(f"{name} returned NaN or infinite values in {what}.")
    return result


def named_mistakes(result: np.ndarray, expected: np.ndarray, mistakes: Mapping[str, np.ndarray]) -> list[str]:
    """The known mistakes that explain ``result``, if any.

    A mistake counts only when its output matches ``result`` to
    ``TOLERANCE`` *and* lies more than ``DISTINCT`` from the correct answer,
    so ``result`` is at least ``DISTINCT / TOLERANCE`` times closer to the
    mistake than to the truth. When several mistakes give the same output on
    these inputs, all of them are returned: the check cannot tell which.
    """
    return [
        description
        for description, wrong in mistakes.items()
        if wrong.shape == result.shape
        and rel_error(wrong, expected) > DISTINCT
        and rel_error(result, wrong) < TOLERANCE
    ]


def compare(
    result: np.ndarray,
    expected: np.ndarray,
    name: str,
    mistakes: Mapping[str, np.ndarray],
    tolerance: float = TOLERANCE,
) -> None:
    """Fail unless ``result`` equals ``expected`` to ``tolerance`` (relative).

    Args:
        result: the learner's array, already of the right shape.
        expected: the reference.
        name: the learner's function, for messages.
        mistakes: description -> what that mistake would have produced; see
            ``named_mistakes`` for when one is named.
        tolerance: largest relative error accepted.
    """
    error = rel_error(result, expected)
    if error < tolerance:
        return
    named = named_mistakes(result, expected, mistakes)
    if named:
        raise GradingFailure(f"{name} gives wrong values. Likely mistake: {'; or '.join(named)}.")
    if error < ROUNDING_ONLY:
        raise GradingFailure(
            f"{name} is off by a relative error of {error:.1e}: far less than a wrong formula "
            f"gives, but more than float64 rounding ({tolerance:.0e}). That is float32 rounding "
            f"(or a small constant added somewhere). {_FLOAT64_RULE}"
        )
    raise GradingFailure(
        f"{name} gives wrong values (relative error {error:.1e}, tolerance {tolerance:.0e}). "
        "Compare your code with the equation above the exercise, term by term."
    )


def unchanged(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], name: str) -> None:
    """Fail if the learner's function modified one of its input arrays."""
    for key, value in before.items():
        if not np.array_equal(value, after[key]):
            raise GradingFailure(
                f"{name} modified its argument {key} in place; compute new arrays "
                "instead (e.g. `h = h + ...` rather than `h += ...`)."
            )


def float64_inputs(seed: int, **shapes: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Deterministic float64 arrays with entries in [-1, 1), one per keyword."""
    rng = np.random.default_rng(seed)
    return {key: rng.uniform(-1.0, 1.0, size=shape) for key, shape in shapes.items()}
