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
import functools
import gc
import os
import site
import sys
import sysconfig
import textwrap
import threading
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


#: What every part may use unless it says otherwise: NumPy, besides Python's standard library.
DEFAULT_IMPORTS = ("numpy",)

#: Libraries the learner's code may call in the lab whatever a part allows: the kernel and test
#: harness it runs in (printing goes through them), never a computation.
_HARNESS_NAMES = (
    "IPython ipykernel ipywidgets comm traitlets zmq tornado jupyter_client jupyter_core debugpy "
    "matplotlib_inline nbclient nbformat _pytest pytest pluggy xdist execnet"
)
HARNESS = frozenset(_HARNESS_NAMES.split())


def _library_folders() -> tuple[str, ...]:
    """The folders installed libraries live in (site-packages, dist-packages)."""
    folders = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    folders.update(site.getsitepackages())
    return tuple(str(Path(folder).resolve()) + os.sep for folder in folders)


_LIBRARY_FOLDERS = _library_folders()


def library_of(filename: str) -> str | None:
    """The installed library a source file belongs to (its top-level name), or None for any other code."""
    for folder in _LIBRARY_FOLDERS:
        if filename.startswith(folder):
            return filename[len(folder) :].split(os.sep, 1)[0].split(".", 1)[0]
    return None


def imports_sentence(imports: Sequence[str]) -> str:
    """What a part may use, as messages and notebooks say it: "NumPy and Python's standard library"."""
    names = [{"numpy": "NumPy"}.get(name, name) for name in imports]
    return (
        ", ".join([*names, "Python's standard library"][:-1])
        + (" and " if names else "")
        + ("Python's standard library")
    )


def forbidden_calls_message(name: str, calls: Sequence[str], imports: Sequence[str]) -> str:
    """The lab's and the grader's message for a function that calls code it may not use."""
    called = ", ".join(sorted(set(calls)))
    return (
        f"{name} calls {called}. This part may use {imports_sentence(imports)} only: write the "
        "computation yourself; the course's own implementation and other libraries earn no points here."
    )


class GradingFailure(AssertionError):
    """A check failed; the message says what is wrong and what to try.

    Attributes:
        part: the part's title ("Part 3: one step of the recurrence"), or "".

    IPython (JupyterLab, Colab, the kernel of ``make validate``) shows it as
    one short box, :func:`failure_box`, instead of a traceback: the grader's
    frames and the paths of its files tell a learner nothing to act on.
    """

    def __init__(self, message: str = "", *, part: str = "") -> None:
        super().__init__(message)
        self.part = part

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for an exception that shows itself: the lines of :func:`failure_box`."""
        return failure_box(str(self), self.part)


#: Lines of a failure box wrap at this width (a notebook's output area, a terminal).
BOX_WIDTH = 88

_RED, _PLAIN = "\x1b[1;31m", "\x1b[0m"


def failure_box(message: str, part: str = "", width: int = BOX_WIDTH) -> list[str]:
    """A failed check as the learner sees it: what failed (the part), then the message, wrapped.

    The first line, in bold red, names the part ("Part 3: one step of the
    recurrence: not passed"); the message follows as it is, each of its lines
    wrapped at ``width`` between words.
    """
    lines = [f"{_RED}FAILED{'  ' + part if part else ''}{_PLAIN}"]
    for paragraph in message.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False) or [""]
    return lines


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
    imports: Sequence[str] = DEFAULT_IMPORTS,
) -> Any:
    """Call ``function(*args)`` the way every check does.

    Args:
        function: the learner's function.
        args: its arguments.
        name: how messages call it (defaults to its ``__name__``).
        allowed: course functions the learner's code may call, because a
            check substituted them for the learner's own earlier parts.
        imports: the installed libraries it may use besides Python's
            standard library (the part's ``imports``).

    Returns:
        Whatever the function returns.

    Raises:
        GradingFailure: if it raised (with the exception and the line), left
            ``NotImplementedError`` in place, or called ``rnncourse``'s
            implementations or a library the part does not allow (where the
            learner's code, or the standard library on its behalf, enters it;
            in threads it starts, too).
    """
    name = str(name or getattr(function, "__name__", "your function"))
    allowed_codes = {f.__code__ for f in allowed if hasattr(f, "__code__")}
    permitted = frozenset(imports) | HARNESS
    calls: list[str] = []
    caller = sys._getframe()

    def library(filename: str) -> str | None:
        if filename.startswith("<frozen"):  # the import machinery, running a library's finder or module
            return "<import>"
        return library_of(_real_path(filename)) if filename else None

    def inside_allowed(frame: FrameType | None) -> bool:
        while frame is not None and frame is not caller:
            if frame.f_code in allowed_codes:
                return True
            frame = frame.f_back
        return False

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            filename = _real_path(frame.f_code.co_filename)
            entered = library_of(filename)
            from_library = frame.f_back is not None and library(frame.f_back.f_code.co_filename) is not None
            course = filename.startswith(_COURSE_DIR)
            if (course or (entered not in (None, *permitted) and not from_library)) and not inside_allowed(
                frame
            ):
                calls.append(_describe(frame.f_code) if course else f"{entered} ({frame.f_code.co_qualname})")
        elif event == "c_call" and library(frame.f_code.co_filename) is None:
            module = getattr(arg, "__module__", None) or ""
            top = module.split(".")[0]
            if top in _installed() and top not in permitted and not inside_allowed(frame):
                calls.append(f"{module}.{getattr(arg, '__name__', '?')}")

    previous = sys.getprofile()
    # An automatic collection would run whatever finalizers and callbacks other code left (a test
    # harness's, a database pool's) inside the learner's call, where the monitor would blame them
    # on the learner. With it off, everything run during the call is the learner's doing, a
    # collection the learner starts (gc.collect) included.
    automatic_collection = gc.isenabled()
    gc.disable()
    sys.setprofile(profile)
    threading.setprofile(profile)
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
        threading.setprofile(None)  # type: ignore[arg-type]
        if automatic_collection:
            gc.enable()
    if not profiling_was_kept:
        raise GradingFailure(f"{name} switched off the grader's call monitor (sys.setprofile).")
    if calls:
        raise GradingFailure(forbidden_calls_message(name, calls, imports))
    return result


@functools.lru_cache(maxsize=4096)
def _real_path(filename: str) -> str:
    """``os.path.realpath``, kept: the call monitor asks it at every call the learner's code makes,
    and resolving links takes system calls (a training loop makes many thousands of calls)."""
    return os.path.realpath(filename)


@functools.lru_cache(maxsize=1)
def _installed() -> frozenset[str]:
    """Top-level names of the installed libraries (besides the standard library)."""
    names: set[str] = set()
    for folder in _LIBRARY_FOLDERS:
        with contextlib.suppress(OSError):
            names.update(entry.split(".")[0].split("-")[0] for entry in os.listdir(folder))
    return frozenset(names - set(sys.stdlib_module_names))


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
#: wrong by rounding, not by formula: float32 arithmetic somewhere, or a
#: float64 formula that loses digits.
ROUNDING_ONLY = 1e-5

#: Float32 arithmetic leaves a relative error of at least about this (its unit
#: roundoff is 6e-8): an answer closer than this, yet off, computed in float64
#: with a formula that loses digits, and is never told it used float32.
FLOAT32_FLOOR = 1e-8

_UNSTABLE = (
    "a formula that loses digits: a log of a sigmoid or of a softmax that is near 0 or 1 "
    "(np.logaddexp(0, -x) is log(1 + e^-x) without it), 1 - x for x near 1, exp before a shift "
    "by the maximum, or the difference of two nearly equal numbers"
)

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
    if error < FLOAT32_FLOOR:
        raise GradingFailure(
            f"{name} is off by a relative error of {error:.1e}: not a wrong formula (that is off by "
            f"1e-3 or more), and too close for float32, but more than this check accepts "
            f"({tolerance:.0e}). That is {_UNSTABLE}: compute it in a stable form."
        )
    if error < ROUNDING_ONLY:
        raise GradingFailure(
            f"{name} is off by a relative error of {error:.1e}: far less than a wrong formula "
            f"gives, but more than float64 rounding ({tolerance:.0e}). That is float32 arithmetic "
            f"somewhere, or {_UNSTABLE}. {_FLOAT64_RULE}"
        )
    found = describe_difference(result, expected)
    raise GradingFailure(
        f"{name} gives wrong values (relative error {error:.1e}, tolerance {tolerance:.0e})"
        + (f": {found}" if found else "")
        + ". Compare your code with the equation above the exercise, term by term."
    )


def describe_difference(result: np.ndarray, expected: np.ndarray) -> str:
    """What a wrong array has in common with the right one, in words ("" when nothing simple fits).

    Tried in order: the opposite sign, a constant factor, a constant shift,
    the transpose, and right and wrong entries along one axis (right up to an
    index, or from one on: where a loop or a mask goes wrong). Only
    relations, never values of the inputs, so it may be said of hidden cases.
    """
    result, expected = np.asarray(result, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if result.shape != expected.shape or result.size == 0 or not np.all(np.isfinite(result)):
        return ""
    close = TOLERANCE * 100  # a relation holds to far better than any mistake's distance

    def holds(candidate: np.ndarray) -> bool:
        return bool(rel_error(result, candidate) < close)

    if holds(-expected):
        return "it has the opposite sign of the right answer everywhere (a minus sign missing or extra)"
    if np.count_nonzero(expected) < 2:  # one number is a multiple and a shift of any other: nothing to say
        return ""
    scale = float(np.vdot(expected, expected))
    if scale > 0:
        factor = float(np.vdot(expected, result)) / scale
        if abs(factor - 1) > 1e-6 and factor != 0 and holds(factor * expected):
            return (
                f"it is the right answer times {factor:.4g} everywhere: a constant factor is missing or extra "
                "(a 1/N, a mean for a sum, a 2, a learning rate?)"
            )
    shift = float(np.mean(result - expected))
    if abs(shift) > 0 and holds(expected + shift):
        return (
            f"it is the right answer plus the constant {shift:.4g} everywhere (a term added once too often?)"
        )
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] > 1 and holds(expected.T):
        return "it is the transpose of the right answer"
    return _where_it_goes_wrong(result, expected)


def _where_it_goes_wrong(result: np.ndarray, expected: np.ndarray) -> str:
    """Right and wrong slices along the axis that splits them most simply, or ""."""
    scale = max(float(np.max(np.abs(expected))), float(np.max(np.abs(result))), 1e-300)
    for axis in range(expected.ndim):
        length = expected.shape[axis]
        if length < 2:
            continue
        wrong = (
            np.moveaxis(np.abs(result - expected), axis, 0).reshape(length, -1).max(axis=1)
            > TOLERANCE * scale
        )
        if wrong.all() or not wrong.any():
            continue
        where = f"along axis {axis} (of length {length})"
        first_wrong, first_right = int(np.argmax(wrong)), int(np.argmax(~wrong))
        if first_wrong > 0 and wrong[first_wrong:].all():
            return (
                f"it is right {where} at indices 0..{first_wrong - 1} and wrong from index {first_wrong} on"
            )
        if first_right > 0 and not wrong[first_right:].any():
            return (
                f"it is wrong {where} at indices 0..{first_right - 1} and right from index {first_right} on"
            )
        right_at = [int(i) for i in np.flatnonzero(~wrong)]
        shown = ", ".join(map(str, right_at[:6])) + (", ..." if len(right_at) > 6 else "")
        return f"it is right {where} only at indices {shown}"
    return ""


def float64_inputs(seed: int, **shapes: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Deterministic float64 arrays with entries in [-1, 1), one per keyword."""
    rng = np.random.default_rng(seed)
    return {key: rng.uniform(-1.0, 1.0, size=shape) for key, shape in shapes.items()}
