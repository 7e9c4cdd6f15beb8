"""Parts, cases and verification: one description of a part serves the lab and the grader.

How a chapter declares a part
=============================

A chapter's grading module (``from rnncourse.grading import core, parts``)
lists its parts in ``PARTS``; each is a :class:`Part`::

    RNN_CELL_FORWARD = parts.Part(
        grade_id="test_rnn_cell_forward",      # the nbgrader test cell it scores
        function="rnn_cell_forward",           # the learner's function it calls
        title="Part 3: one step of the recurrence",
        points=3,
        visible=_visible_cell_cases,           # () -> list[Case]: deterministic and public
        hidden={                               # case name -> draw(rng) -> the call's arguments
            "all sizes 1": lambda rng: cell_args(rng, N=1, D=1, H=1),
            "one hidden unit": lambda rng: cell_args(rng, N=3, D=2, H=1),
        },
        verify=_verify_cell,                   # (case, value) -> None, or what is wrong
        parameters=("x_t", "h_prev", "W_xh", "W_hh", "b_h"),
    )

- **Visible cases** are what the learner runs in the lab
  (``check.rnn_cell_forward(rnn_cell_forward)``): the same inputs at every
  call, in the open, so that a message can show them.
- **Hidden cases** are declared by how to draw them: a name (shown in
  feedback; it says which edge case failed, e.g. "length 1", "batch 1",
  "padded batch") and a function of a ``numpy.random.Generator`` that returns
  the call's arguments. Its shapes and edge cases are fixed by the code; its
  values come from the generator. :func:`hidden_from` turns a builder that
  takes an integer seed (``cell_cases(seed, [shape])``) into such draws.
- The grader draws hidden cases at grading time from the instructor's
  **secret** (:class:`HiddenKey`): the generator of case ``c`` of part ``p``
  of assignment ``a`` is seeded with HMAC-SHA256(secret, [a, p, c]). The
  secret is created once per course by ``make secret``
  (``rnncourse.autograder.secret``), kept out of the repository and out of the
  sandbox; the same secret draws the same cases, so grading again gives the
  same grades. Without it nobody can compute a hidden input, so answers
  tabulated from the public package earn nothing on the hidden cases.
- The lab runs visible cases only (the chapter's ``check.<part>(fn)``, or
  cases of the learner's own); tests draw hidden cases with a test secret,
  ``part.hidden_cases(HiddenKey(b"...", "ch01_recurrence"))``.

Where a part runs
=================

``verify`` is a pure function of a case and the value the learner's function
returned, which says what is wrong (``None`` when the value is right). The
same part runs in two places:

1. **In the learner's kernel** (JupyterLab): :func:`run_part_in_process`
   calls the function through ``core.run_learner_code`` (the call monitor,
   which refuses calls into the course's code and into libraries the part's
   ``imports`` do not allow), turns what it returned into plain data with
   :func:`plain`, and verifies.
2. **In the autograder**: the function runs in a sandbox (where a library no
   part allows cannot even be imported), its return values (or exceptions,
   as :class:`LearnerError`) come back decoded to plain data, and
   :func:`verify_part` verifies them outside the sandbox, where the
   learner's code can neither reach nor patch the check.

In both, an argument the call changed in place (an array, or an entry of a
dict or list it was given) is found by ``_codec.changed_paths`` and fails
the case with the same message. Because both modes verify the same plain
data with the same function, a given answer gets the same message in the
lab as in the feedback.

What crosses from the learner's code to ``verify`` is what the sandbox's
codec (``_codec.py``) carries: ``numpy.ndarray`` (base class, dtype kept,
never of objects), ``list``, ``tuple``, ``dict`` with str keys, ``str``,
``int``, ``float``, ``bool``, ``None``; :class:`LearnerError` for an
exception, and :class:`Opaque` for anything else, of which only the type's
name crosses (:func:`from_codec`). In the lab, :func:`plain` sends a value
through the same codec.

Substitutes: a later part calls earlier ones (``rnn_forward`` calls
``rnn_cell_forward``). While it runs, correct versions replace the learner's,
so each part earns its points on its own. A substitute is the source of a
module that defines the function with NumPy alone (``import numpy as np`` at
its top); it is executed in a fresh namespace (compiled with the file name
``<substitute NAME>``) and only the function is put in the learner's namespace.
A part's substitutes are earlier parts' functions (or code the exercise
gives), never a later part's: the grader sends them to the sandbox only
when their part is checked.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from rnncourse.grading import _codec
from rnncourse.grading.core import (
    DEFAULT_IMPORTS,
    SUBSTITUTE_FILENAME,
    GradingFailure,
    Opaque,
    describe_args,
    forbidden_calls_message,
    imports_sentence,
    learner_frame,
    run_learner_code,
    substituted,
)
from rnncourse.grading.substitutes import source_of


@dataclass(frozen=True)
class Case:
    """One call of the learner's function on deterministic inputs.

    Attributes:
        name: how messages call the case, e.g. "N=3, D=4, H=5" or "punctuation".
            Hidden cases are named in feedback but their inputs never shown.
        args: positional inputs: float64/int64 arrays, ints, floats, str, and
            lists/dicts of these.
        hidden: whether the case belongs to the hidden tests.
    """

    name: str
    args: tuple[Any, ...]
    hidden: bool = False

    @property
    def label(self) -> str:
        """``Visible check 'name'`` or ``Hidden check 'name'``."""
        return f"{'Hidden' if self.hidden else 'Visible'} check '{self.name}'"


#: How a hidden case is declared: its arguments drawn from a generator.
Draw = Callable[[np.random.Generator], tuple[Any, ...]]

#: The shortest secret a :class:`HiddenKey` accepts (``make secret`` writes 64 hex characters).
MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class HiddenKey:
    """The instructor's secret, for one assignment: where its hidden cases are drawn from.

    Attributes:
        secret: the course's grading secret (``rnncourse.autograder.secret``).
        assignment: the nbgrader assignment, e.g. "ch01_recurrence".
    """

    secret: bytes = field(repr=False)
    assignment: str

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the grading secret has {len(self.secret)} bytes; it needs at least {MIN_SECRET_BYTES}: "
                "create one with `make secret`"
            )

    def generator(self, grade_id: str, case: str) -> np.random.Generator:
        """The generator of one hidden case, seeded with HMAC-SHA256(secret, [assignment, part, case])."""
        message = json.dumps([self.assignment, grade_id, case]).encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return np.random.default_rng(int.from_bytes(digest, "big"))


def seed_of(rng: np.random.Generator) -> int:
    """An integer seed drawn from ``rng``, for builders that take one (63 bits: not guessable)."""
    return int(rng.integers(2**63))


Spec = TypeVar("Spec")


def _built(
    build: Callable[..., tuple[Any, ...]], spec: tuple[Any, ...], rng: np.random.Generator
) -> tuple[Any, ...]:
    return tuple(build(seed_of(rng), *spec))


def drawn(build: Callable[..., tuple[Any, ...]], *spec: Any) -> Draw:
    """A hidden case whose arguments are ``build(seed, *spec)``, the seed drawn from the case's generator."""
    return functools.partial(_built, build, spec)


def _first_args(
    builder: Callable[[int, Sequence[Any]], list[Case]], spec: Any, rng: np.random.Generator
) -> tuple[Any, ...]:
    return builder(seed_of(rng), [spec])[0].args


def hidden_from(
    builder: Callable[[int, Sequence[Spec]], list[Case]], specs: Mapping[str, Spec]
) -> dict[str, Draw]:
    """Hidden draws from a builder of cases seeded by an integer, one per named spec.

    ``builder(seed, [spec])`` returns one case (e.g. ``cell_cases(seed, [(N, D, H)])``);
    each hidden case calls it with a seed drawn from its own generator.
    """
    return {name: functools.partial(_first_args, builder, spec) for name, spec in specs.items()}


@dataclass(frozen=True)
class LearnerError:
    """An exception raised by the learner's function, as plain data.

    Attributes:
        type_name: the exception's class name, e.g. "ValueError".
        message: ``str(exception)``.
        line: the source text of the deepest line of the learner's own code in
            the traceback (not NumPy's, not a substitute's), stripped; "" if unknown.
    """

    type_name: str
    message: str
    line: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnerError:
        """From the codec's ``{"error": type name, "message": ..., "line": ...}``."""
        return cls(str(data["error"]), str(data.get("message", "")), str(data.get("line") or ""))

    @classmethod
    def from_exception(cls, error: BaseException) -> LearnerError:
        """From an exception caught in this process."""
        frame = learner_frame(error)
        return cls(type(error).__name__, str(error), (frame.line or "").strip() if frame else "")

    @classmethod
    def undefined(cls, function: str) -> LearnerError:
        """What a part gets when the notebook never defined its function."""
        return cls("NameError", f"name '{function}' is not defined")


#: The ``LearnerError`` kinds the checks themselves report (``error_message`` words them).
MODIFIED_IN_PLACE = "ModifiedInPlace"
FORBIDDEN_CALL = "ForbiddenCall"


def libraries_statement(parts: Sequence[Part]) -> str:
    """What the exercise notebook says about libraries: which ones each part may use (``Part.imports``)."""
    rest = (
        "nothing else: other libraries (SciPy, PyTorch, sacrebleu, NLTK, ...) and the course's own "
        "`rnncourse` cannot be imported while grading, and in the lab a check that sees your function "
        "call one fails that part."
    )
    allowed = {part.imports for part in parts}
    if len(allowed) == 1:
        return f"**Libraries.** Every part may use {imports_sentence(next(iter(allowed)))}, {rest}"
    each = "; ".join(
        f"part {number} `{part.function}` may use {imports_sentence(part.imports)}"
        for number, part in enumerate(parts, start=1)
    )
    return f"**Libraries.** {each[0].upper()}{each[1:]}; {rest}"


def from_codec(value: object) -> object:
    """A value decoded by the sandbox's codec, with its tagged leftovers made explicit.

    The codec decodes an exception to ``{"error", "message", "line"}`` and a
    value it cannot carry to ``{"unsupported": type name, "repr": text}``;
    these become :class:`LearnerError` and :class:`Opaque`, at any depth.
    Plain data is returned unchanged.
    """
    if isinstance(value, dict):
        if set(value) == {"error", "message", "line"}:
            return LearnerError.from_dict(value)
        if set(value) == {"unsupported", "repr"}:
            return Opaque(str(value["unsupported"]))
        return {key: from_codec(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_codec(item) for item in value]
    if isinstance(value, tuple):
        return tuple(from_codec(item) for item in value)
    return value


def plain(value: object) -> object:
    """``value`` as the plain data that crosses to ``verify`` (see the module's docstring).

    It goes through the sandbox's own codec, so the lab verifies exactly what
    the grader would: an ndarray subclass becomes an ndarray, an int subclass
    an int, a NumPy scalar a Python number, so a value whose comparisons
    always succeed is just its data.
    """
    if isinstance(value, (LearnerError, Opaque)):
        return value
    arrays: dict[str, np.ndarray] = {}
    return from_codec(_codec.decode(_codec.encode(value, arrays), arrays))


def error_message(
    function: str, error: LearnerError, case: Case, advice: str = "", imports: Sequence[str] = DEFAULT_IMPORTS
) -> str:
    """The message for a function that raised ``error`` on ``case`` (``advice`` appended).

    Two kinds are the checks' own, found where the function ran (the lab or the
    sandbox): ``ModifiedInPlace`` (the message names the argument) and
    ``ForbiddenCall`` (the message lists what was called; ``imports`` is what
    the part allows).
    """
    if error.type_name == MODIFIED_IN_PLACE:
        return (
            f"{function} modified its argument {error.message} in place; compute new arrays "
            "instead (e.g. `h = h + ...` rather than `h += ...`, `np.clip(g, ...)` rather than "
            "`np.clip(g, ..., out=g)`, a new dict rather than `grads[key] = ...`)."
        )
    if error.type_name == FORBIDDEN_CALL:
        return forbidden_calls_message(function, error.message.split(", "), imports)
    if error.type_name == "NotImplementedError":
        return (
            f"{function} still raises NotImplementedError: replace the line "
            "`raise NotImplementedError()` with your code."
        )
    if error.type_name == "TimeLimit":  # the sandbox's runner stopped the call
        return f"{function} did not finish: {error.message}. Look for a loop that never ends."
    if error == LearnerError.undefined(function):
        return (
            f"{function} is not defined: run the cell that defines it, and check that the "
            "cell runs without an error (an import of a library this exercise forbids fails)."
        )
    where = f", at the line `{error.line}`" if error.line else ""
    message = (
        f"{function} raised {error.type_name}: {error.message}{where}. "
        f"It was called with {describe_args(case.args)}."
    )
    return f"{message} {advice}" if advice else message


def raise_if_error(function: str, result: object, case: Case, advice: str = "") -> None:
    """Fail with :func:`error_message` when ``result`` is the exception ``function`` raised on ``case``.

    Every check calls it first on what the learner's call gave, so that a
    result is never compared while it is an error.
    """
    if isinstance(result, LearnerError):
        raise GradingFailure(error_message(function, result, case, advice))


def verifier(check: Callable[[Case, Any], None]) -> Callable[[Case, object], str | None]:
    """A ``verify`` from a check that raises ``GradingFailure`` (its message) or returns."""

    def verify(case: Case, value: object) -> str | None:
        try:
            check(case, from_codec(value))
        except GradingFailure as failure:
            return str(failure)
        return None

    verify.__name__ = verify.__qualname__ = getattr(check, "__name__", "verify")
    verify.__doc__ = check.__doc__
    return verify


@dataclass(frozen=True)
class Part:
    """One graded part of an exercise notebook (see the module's docstring).

    Attributes:
        grade_id: the nbgrader grade_id of the part's TEST cell, e.g. "test_rnn_cell_forward".
        function: the learner's function, e.g. "rnn_cell_forward".
        title: "Part 3: one step of the recurrence".
        points: the test cell's points.
        visible: the visible cases: deterministic, the same list at every call.
        verify: ``verify(case, value)``: None when ``value`` is right for
            ``case``, else the message naming the likely mistake. ``value`` is
            plain data (see :func:`plain`) or a :class:`LearnerError`.
        hidden: hidden case name -> how to draw its arguments from a generator.
        substitutes: earlier function name -> self-contained correct source
            (NumPy only), defined while this part runs.
        parameters: the function's parameter names, for messages.
        imports: the installed libraries the learner's function may use,
            besides Python's standard library (top-level names). The lab's
            call monitor and the grader's sandbox refuse every other one.
    """

    grade_id: str
    function: str
    title: str
    points: float
    visible: Callable[[], list[Case]]
    verify: Callable[[Case, object], str | None]
    hidden: Mapping[str, Draw] = field(default_factory=dict)
    substitutes: Mapping[str, str] = field(default_factory=dict)
    parameters: tuple[str, ...] = ()
    imports: tuple[str, ...] = DEFAULT_IMPORTS

    def hidden_cases(self, key: HiddenKey) -> list[Case]:
        """The hidden cases, drawn from ``key`` (the same key, the same cases)."""
        return [
            Case(name, tuple(draw(key.generator(self.grade_id, name))), hidden=True)
            for name, draw in self.hidden.items()
        ]

    def graded_cases(self, key: HiddenKey) -> list[Case]:
        """What the grader runs: the visible cases, then the hidden ones drawn from ``key``."""
        return self.visible() + self.hidden_cases(key)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a part: ``failure`` is None when every case passed."""

    part: Part
    failure: str | None
    visible: int
    hidden: int

    @property
    def passed(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        """The feedback's line: "<title>: passed, 2 visible and 5 hidden checks", or the failure."""
        if self.failure is not None:
            return f"{self.part.title}: {self.failure}"
        return f"{self.part.title}: passed, {self.visible} visible and {self.hidden} hidden checks"


def failure_message(part: Part, case: Case, value: object) -> str | None:
    """``part.verify`` on one case, its message prefixed with the case's label.

    An argument changed in place or a call the part does not allow fails
    before ``verify`` looks at the value, with the same words in the lab and
    the grader. A value the check itself cannot read (it raised) fails with a
    message that says so, rather than stopping the grading.
    """
    error = from_codec(value)
    if isinstance(error, LearnerError) and error.type_name in (MODIFIED_IN_PLACE, FORBIDDEN_CALL):
        return f"{case.label}: {error_message(part.function, error, case, imports=part.imports)}"
    try:
        message = part.verify(case, value)
    except Exception as error:  # a value no check foresaw is wrong, not a crash of the grader
        message = f"{part.function} returned a value the check could not read ({type(error).__name__})."
    return None if message is None else f"{case.label}: {message}"


def verify_part(part: Part, values: Sequence[object], cases: Sequence[Case]) -> Verdict:
    """Verify the values the learner's function returned, outside the learner's process.

    Args:
        part: the part.
        values: plain data (or :class:`LearnerError`) for each case, in the
            order of ``cases``.
        cases: the cases that were run (``part.graded_cases(key)`` when grading).

    Returns:
        The verdict: the first failing case's message, and how many visible
        and hidden cases there are.
    """
    cases = list(cases)
    if len(values) != len(cases):
        raise ValueError(f"{part.function}: {len(values)} values for {len(cases)} cases")
    failure = None
    for case, value in zip(cases, values):
        failure = failure_message(part, case, value)
        if failure is not None:
            break
    hidden = sum(case.hidden for case in cases)
    return Verdict(part, failure, len(cases) - hidden, hidden)


def load_substitute(name: str, source: str) -> Callable[..., Any]:
    """Execute a substitute's source in a fresh namespace and return its function ``name``."""
    namespace: dict[str, Any] = {"__name__": f"substitute_{name}"}
    exec(compile(source, SUBSTITUTE_FILENAME.format(name=name), "exec"), namespace)
    function = namespace[name]
    if not callable(function):
        raise TypeError(f"the substitute for {name} defines no function {name}")
    return function


def defined_alone(function: Callable[..., Any]) -> Callable[..., Any]:
    """A function of ``rnncourse.grading.substitutes`` as the sandbox defines it: its source run on its own."""
    return load_substitute(function.__name__, source_of(function))


def call_in_process(part: Part, function: Callable[..., Any], case: Case) -> object:
    """Call the learner's function on a copy of ``case.args``; its plain value or LearnerError.

    An argument changed in place (nested containers included) gives
    ``LearnerError("ModifiedInPlace", <which argument>)``, exactly as the
    grader's sandbox reports it (``_codec.changed_paths`` finds it in both).

    Raises:
        GradingFailure: for what the call monitor sees: a call to the course's
            own implementation or to a library the part does not allow, or a
            switched-off call monitor (the grader's sandbox refuses these by
            not letting them be imported, or by its own monitor).
    """
    args = copy.deepcopy(case.args)
    try:
        with np.errstate(all="ignore"):  # a wrong softmax's overflow is named by verify, not warned of
            value = run_learner_code(function, *args, name=part.function, imports=part.imports)
    except GradingFailure as failure:
        cause = failure.__cause__
        if not isinstance(cause, Exception) or isinstance(cause, GradingFailure):
            raise  # the call monitor's verdict
        return LearnerError.from_exception(cause)
    changed = _codec.changed_paths(case.args, args)
    if changed:
        return LearnerError(MODIFIED_IN_PLACE, _codec.describe_path(changed[0], part.parameters))
    return plain(value)


def run_part_in_process(
    part: Part,
    namespace_or_function: Mapping[str, Any] | Callable[..., Any],
    cases: Sequence[Case] | None = None,
) -> Verdict:
    """Check a part in the learner's kernel, as the test cells in JupyterLab do.

    Args:
        part: the part.
        namespace_or_function: the learner's function, or a namespace holding
            it under ``part.function`` (e.g. a notebook's globals).
        cases: run these cases instead of the visible ones (e.g. the
            learner's own, or in tests ``part.hidden_cases(key)``).

    Returns:
        The verdict, when every case passed.

    Raises:
        GradingFailure: the first failing case's message.
    """
    if isinstance(namespace_or_function, Mapping):
        function = namespace_or_function.get(part.function)
    else:
        function = namespace_or_function
    selected = part.visible() if cases is None else list(cases)
    replacements = {name: load_substitute(name, source) for name, source in part.substitutes.items()}
    try:
        with substituted(function, replacements) if function is not None else contextlib.nullcontext():
            for case in selected:
                if function is None:
                    value: object = LearnerError.undefined(part.function)
                else:
                    value = call_in_process(part, function, case)
                failure = failure_message(part, case, value)
                if failure is not None:
                    raise GradingFailure(failure)
    except GradingFailure as failure:
        failure.part = failure.part or part.title  # the box's first line names the part
        raise
    count = sum(case.hidden for case in selected)
    return Verdict(part, None, len(selected) - count, count)
