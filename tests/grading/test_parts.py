"""Exercise 1's parts: the lab and the grader give every answer the same verdict and message.

Mode 1 is the learner's kernel: ``check.<part>(fn)``, run in process (and
here the hidden cases too, drawn from the tests' secret, run the same way).
Mode 2 is the autograder, simulated here in
process as the sandbox's runner does it: the answer cells run in a notebook
namespace where ``rnncourse``, ``torch`` and ``scipy`` cannot be imported,
correct earlier parts are put in while a part runs, each return value
crosses the codec as JSON plus an ``.npz`` read back with
``allow_pickle=False``, and ``verify`` runs on what comes out.
"""

from __future__ import annotations

import ast
import builtins
import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnncourse.gradcheck import rel_error
from rnncourse.grading import _codec
from rnncourse.grading import ch01_recurrence as check
from rnncourse.grading.core import GradingFailure, Opaque
from rnncourse.grading.parts import (
    Case,
    LearnerError,
    Part,
    defined_alone,
    from_codec,
    load_substitute,
    plain,
    run_part_in_process,
    verify_part,
)
from rnncourse.grading.substitutes import ch01_recurrence as correct
from tests.grading import ch01_recurrence_answers as answers
from tests.grading.hidden import graded_cases, hidden_cases, key, run_hidden
from tests.grading.notebooks import filled, grade_ids, points, read, solution_sources

SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "ch01_recurrence" / "ch01_recurrence.ipynb"
NOTEBOOK = read(SOLUTION)
CORRECT = solution_sources(NOTEBOOK)
PART = {part.function: part for part in check.PARTS}
BLOCKED = ("rnncourse", "torch", "scipy")


def _sandbox_import(name: str, *args: Any, **kwargs: Any) -> Any:
    if name.split(".")[0] in BLOCKED:
        raise ImportError(f"{name} is not available while grading: write the computation yourself")
    return builtins.__import__(name, *args, **kwargs)


def notebook(function: str, answer: str, sandboxed: bool) -> dict[str, Any]:
    """The namespace of a notebook whose cell for ``function`` holds ``answer``, every other cell correct.

    A cell that raises (a forbidden import in the sandbox) leaves its function undefined, as in a kernel.
    """
    namespace: dict[str, Any] = {"__name__": "__main__", "np": np}
    if sandboxed:
        namespace["__builtins__"] = dict(vars(builtins), __import__=_sandbox_import)
    for grade_id, source in CORRECT.items():
        cell = answer if grade_id == function else source
        try:
            exec(compile(cell, f"<cell {grade_id}>", "exec"), namespace)
        except ImportError:
            assert sandboxed and grade_id == function, "only the answer's forbidden import may fail"
    return namespace


def in_lab(part: Part, answer: str) -> str | None:
    """Mode 1: the test cell's visible checks, then the hidden cases run the same way; the first failure."""
    namespace = notebook(part.function, answer, sandboxed=False)
    try:
        run_part_in_process(part, namespace)
        run_hidden(part, namespace)
    except GradingFailure as failure:
        return str(failure)
    return None


def across_the_wall(value: object) -> object:
    """``value`` encoded by the codec, written as JSON and an .npz, read back and decoded."""
    arrays: dict[str, np.ndarray] = {}
    structure = json.dumps(_codec.encode(value, arrays))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as stored:
        return _codec.decode(json.loads(structure), {name: stored[name] for name in stored.files})


def in_sandbox(part: Part, function: Callable[..., Any] | None, namespace: dict[str, Any]) -> list[object]:
    """What the runner sends back for each case: decoded values, or the codec's error dicts."""
    values: list[object] = []
    for case in graded_cases(part):
        if function is None:
            values.append(
                {"error": "NameError", "message": f"name '{part.function}' is not defined", "line": ""}
            )
            continue
        saved = {name: namespace[name] for name in part.substitutes if name in namespace}
        namespace.update({name: load_substitute(name, source) for name, source in part.substitutes.items()})
        args = copy.deepcopy(case.args)
        try:
            with np.errstate(all="ignore"):
                value = function(*args)
        except Exception as error:
            values.append(
                across_the_wall(_codec.encode_error(error, LearnerError.from_exception(error).line))
            )
        else:
            changed = _codec.changed_paths(case.args, args)  # as the runner checks every call
            if changed:
                where = _codec.describe_path(changed[0], part.parameters)
                values.append({"error": "ModifiedInPlace", "message": where, "line": ""})
            else:
                values.append(across_the_wall(value))
        finally:
            namespace.update(saved)
    return values


def graded(part: Part, answer: str) -> str | None:
    """Mode 2: run in the (simulated) sandbox, verify outside."""
    namespace = notebook(part.function, answer, sandboxed=True)
    values = in_sandbox(part, namespace.get(part.function), namespace)
    return verify_part(part, values, graded_cases(part)).failure


def answers_of(kind: str) -> list[tuple[str, str]]:
    table = {"correct": CORRECT, "alternative": answers.ALTERNATIVE, "wrong": answers.WRONG}[kind]
    return [(function, table[function]) for function in PART]


MISTAKES = [
    (function, source, words) for function, entries in answers.MISTAKES.items() for source, words in entries
]


# -- the two modes agree -----------------------------------------------------------------


@pytest.mark.parametrize(("function", "answer"), answers_of("correct") + answers_of("alternative"))
def test_right_answers_pass_in_both_modes(function: str, answer: str) -> None:
    assert in_lab(PART[function], answer) is None
    assert graded(PART[function], answer) is None


@pytest.mark.parametrize(("function", "answer"), answers_of("wrong"))
def test_wrong_answers_get_the_same_message_in_both_modes(function: str, answer: str) -> None:
    message = in_lab(PART[function], answer)
    assert message is not None and message.startswith("Visible check '")
    assert graded(PART[function], answer) == message


@pytest.mark.parametrize(("function", "answer", "words"), MISTAKES)
def test_more_answers_get_the_same_message_in_both_modes(function: str, answer: str, words: str) -> None:
    message = in_lab(PART[function], answer)
    assert graded(PART[function], answer) == message
    if words:
        assert message is not None and words in message, message
    else:
        assert message is None


@pytest.mark.parametrize("function", list(answers.CHEAT))
def test_calling_the_course_fails_in_both_modes(function: str) -> None:
    if "torch" in answers.CHEAT[function]:
        pytest.importorskip("torch")
    lab = in_lab(PART[function], answers.CHEAT[function])
    assert lab is not None and ("earn no points" in lab or "torch" in lab), lab
    # In the sandbox the import itself fails: the function never exists.
    sandbox = graded(PART[function], answers.CHEAT[function])
    assert sandbox is not None and f"{function} is not defined" in sandbox, sandbox


def test_a_modified_input_gets_the_same_verdict_in_both_modes() -> None:
    part, answer = PART["rnn_cell_forward"], answers.IN_PLACE["rnn_cell_forward"]
    lab = in_lab(part, answer)
    assert lab is not None and "modified its argument h_prev in place" in lab
    assert graded(part, answer) == lab


def test_hidden_failures_name_the_case_but_not_its_inputs() -> None:
    for function, answer, _ in MISTAKES:
        message = graded(PART[function], answer)
        if message is None or not message.startswith("Hidden check"):
            continue
        hidden = hidden_cases(PART[function])
        name = message.split("'")[1]
        assert name in {case.name for case in hidden}
        for case in hidden:
            for arg in case.args:
                if isinstance(arg, list) and arg and isinstance(arg[0], str):
                    words_of_inputs = {w for s in arg for w in s.lower().split() if len(w) > 3}
                    assert not [w for w in words_of_inputs if w in message], message
        assert "[[" not in message and "expected [" not in message, message


# -- verify reads what crosses the wall ------------------------------------------------------


def test_verify_accepts_a_list_for_a_tuple_and_reads_the_codecs_error_form() -> None:
    part = PART["encode_and_pad"]
    case = part.visible()[0]
    ids, lengths = plain(check.pad_batch([[2, 3], [4]], 5))  # type: ignore[misc]
    sentences, vocab, max_len = case.args
    right = plain(
        check.pad_batch(
            [check.Vocabulary(sorted(vocab, key=vocab.get)).encode(s) for s in sentences], max_len
        )
    )
    assert isinstance(right, tuple)
    assert part.verify(case, right) is None and part.verify(case, list(right)) is None
    assert part.verify(case, (ids, lengths)) is not None
    error = {"error": "KeyError", "message": "'zebra'", "line": "ids[row, col] = vocab[token]"}
    from_dict = part.verify(case, error)
    assert from_dict == part.verify(case, LearnerError.from_dict(error))
    assert (
        from_dict is not None
        and "raised KeyError: 'zebra', at the line `ids[row, col] = vocab[token]`" in from_dict
    )


def test_what_the_codec_cannot_carry_is_named_by_its_type() -> None:
    value = across_the_wall(iter([1, 2]))
    assert from_codec(value) == Opaque("list_iterator")
    message = PART["softmax"].verify(PART["softmax"].visible()[0], value)
    assert message is not None and "returned list_iterator" in message


def test_a_value_no_check_foresaw_fails_without_stopping_the_grader() -> None:
    part = PART["encode_and_pad"]
    ragged = ([[1, 2], [3]], [2, 1])  # np.asarray cannot stack the rows
    cases = graded_cases(part)
    verdict = verify_part(part, [ragged] * len(cases), cases)
    assert not verdict.passed and verdict.failure is not None and "could not read" in verdict.failure


# -- the parts match the notebook, and their cases are deterministic ---------------------


def test_parts_are_the_notebooks_test_cells_with_their_points() -> None:
    assert [part.grade_id for part in check.PARTS] == grade_ids(NOTEBOOK, "grade")
    assert [part.function for part in check.PARTS] == grade_ids(NOTEBOOK, "solution")
    table = points(NOTEBOOK)
    assert {part.grade_id: float(part.points) for part in check.PARTS} == table
    for index, part in enumerate(check.PARTS, start=1):
        assert part.title.startswith(f"Part {index}: ")


def test_every_test_cell_runs_its_parts_visible_cases_and_no_hidden_ones() -> None:
    # The hidden cases are drawn by the grader from the instructor's secret: no notebook can run them.
    sources = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in NOTEBOOK.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }
    for part in check.PARTS:
        assert f"check.{part.function}({part.function})" in sources[part.grade_id]
        assert "hidden" not in sources[part.grade_id].lower()


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
    if isinstance(a, (list, tuple, dict)):
        if type(a) is not type(b) or len(a) != len(b):  # type: ignore[arg-type]
            return False
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)  # type: ignore[union-attr]
        return all(_same(x, y) for x, y in zip(a, b))  # type: ignore[call-overload]
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("part", check.PARTS, ids=lambda part: part.function)
def test_cases_are_deterministic_named_once_and_visible_first(part: Part) -> None:
    first, second = graded_cases(part), graded_cases(part)
    assert len(first) == len(second) and all(
        a.name == b.name and a.hidden == b.hidden and _same(a.args, b.args) for a, b in zip(first, second)
    )
    names = [case.name for case in first]
    assert len(set(names)) == len(names), "the grader keys values by case name"
    flags = [case.hidden for case in first]
    assert flags == sorted(flags) and 0 < sum(flags) < len(flags), "visible cases first, then hidden"
    for case in first:
        assert isinstance(case, Case) and len(case.args) == len(part.parameters)
        for arg in case.args:
            assert not isinstance(arg, np.ndarray) or arg.dtype in (np.float64, np.int64)
        assert _same(across_the_wall(case.args), case.args), "inputs cross the codec unchanged"


# -- substitutes are self-contained and correct ------------------------------------------


SUBSTITUTES = sorted({(name, source) for part in check.PARTS for name, source in part.substitutes.items()})


@pytest.mark.parametrize(("name", "source"), SUBSTITUTES, ids=[name for name, _ in SUBSTITUTES])
def test_substitutes_use_numpy_alone_and_are_correct(name: str, source: str) -> None:
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
    }
    assert imported == {"numpy"}
    namespace = {"__builtins__": dict(vars(builtins), __import__=_sandbox_import)}
    exec(compile(source, f"<substitute {name}>", "exec"), namespace)
    function = namespace[name]
    part = PART[name]
    cases = graded_cases(part)
    values = [plain(function(*copy.deepcopy(case.args))) for case in cases]
    assert verify_part(part, values, cases).passed
    # Against the course's reference directly, too, on the first case.
    reference = {
        "rnn_cell_forward": lambda *a: check._correct_cell(*a),
        "rnn_forward": lambda *a: check._correct_rnn_forward(*a),
        "softmax": lambda z: check.reference_softmax(z),
    }[name]
    args = part.visible()[0].args
    assert rel_error(function(*args), reference(*args)) < 1e-12


def test_a_later_part_does_not_pay_for_an_earlier_mistake() -> None:
    wrong_cell = answers.WRONG["rnn_cell_forward"]
    for function in ("rnn_forward", "classify"):
        namespace = notebook("rnn_cell_forward", wrong_cell, sandboxed=True)
        namespace_lab = notebook("rnn_cell_forward", wrong_cell, sandboxed=False)
        values = in_sandbox(PART[function], namespace[function], namespace)
        assert verify_part(PART[function], values, graded_cases(PART[function])).passed
        run_part_in_process(PART[function], namespace_lab)
        run_hidden(PART[function], namespace_lab)
        assert namespace_lab["rnn_cell_forward"].__code__.co_filename == "<cell rnn_cell_forward>"
    assert in_lab(PART["rnn_cell_forward"], wrong_cell) is not None


def test_the_verdict_counts_visible_and_hidden_checks() -> None:
    part = PART["rnn_cell_forward"]
    verdict = run_part_in_process(part, {"rnn_cell_forward": defined_alone(correct.rnn_cell_forward)})
    assert (verdict.visible, verdict.hidden) == (2, 0)
    namespace = notebook("rnn_cell_forward", CORRECT["rnn_cell_forward"], sandboxed=True)
    full = verify_part(part, in_sandbox(part, namespace["rnn_cell_forward"], namespace), graded_cases(part))
    assert full.summary() == "Part 3: one step of the recurrence: passed, 2 visible and 5 hidden checks"


def test_a_call_the_sandbox_stopped_is_named_plainly() -> None:
    part = PART["softmax"]
    stopped = {"error": "TimeLimit", "message": "the call ran longer than the 10 s limit", "line": ""}
    cases = graded_cases(part)
    message = verify_part(part, [stopped] * len(cases), cases).failure
    assert message == (
        f"{cases[0].label}: softmax did not finish: the call ran longer than the 10 s limit. "
        "Look for a loop that never ends."
    )


# -- and through the real sandbox, where bubblewrap runs -----------------------------------


@pytest.mark.parametrize("kind", ["alternative", "wrong", "mistakes-0", "mistakes-1"])
def test_the_sandbox_and_the_lab_agree(kind: str) -> None:
    from rnncourse.autograder import autograde, sandbox

    why = sandbox.sandbox_available()
    if why is not None:
        pytest.skip(why)
    if kind.startswith("mistakes"):
        index = int(kind.split("-")[1])
        table = {function: entries[index][0] for function, entries in answers.MISTAKES.items()}
    else:
        table = answers.ALTERNATIVE if kind == "alternative" else answers.WRONG
    release = read(SOLUTION.parents[2] / "exercises" / "ch01_recurrence" / "ch01_recurrence.ipynb")
    cells, requests = autograde.sandbox_inputs(filled(release, table), check.PARTS, key("ch01_recurrence"))
    result = sandbox.run_sandboxed(cells, requests, sandbox.Limits(cell_seconds=20, notebook_seconds=120))
    assert result.status == "ok", result.detail
    for part in check.PARTS:
        cases = graded_cases(part)
        values = [result.parts[part.grade_id][case.name] for case in cases]
        assert verify_part(part, values, cases).failure == in_lab(part, table[part.function]), part.function


# -- libraries: each part says what it may use, and the lab refuses the rest as the grader does -----


def test_each_notebook_says_what_its_parts_may_import(repo: Path) -> None:
    import importlib

    from rnncourse.grading.parts import libraries_statement

    for folder in sorted((repo / "solutions").iterdir()):
        parts = importlib.import_module(f"rnncourse.grading.{folder.name}").PARTS
        statement = libraries_statement(parts)
        for kind in ("solutions", "exercises"):
            notebook = read(repo / kind / folder.name / f"{folder.name}.ipynb")
            first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
            assert statement in first.source, (kind, folder.name)


def test_a_library_the_part_does_not_allow_fails_in_the_lab() -> None:
    """The lab's call monitor refuses what the sandbox cannot import (item 8): the same verdict."""
    from dataclasses import replace

    import sacrebleu  # installed for the course's own BLEU checks, never allowed to a learner

    part = PART["softmax"]

    def by_library(logits: np.ndarray) -> np.ndarray:
        sacrebleu.corpus_bleu(["a b"], [["a b"]])  # any call into a library the part does not allow
        return check.reference_softmax(np.asarray(logits))

    with pytest.raises(
        GradingFailure, match=r"calls sacrebleu .*may use NumPy and Python's standard library only"
    ):
        run_part_in_process(part, by_library)
    numpy_only = PART["rnn_cell_forward"]

    def by_einsum(x_t, h_prev, W_xh, W_hh, b_h):  # type: ignore[no-untyped-def]
        return np.tanh(np.einsum("nd,hd->nh", x_t, W_xh) + h_prev @ W_hh.T + b_h)

    run_part_in_process(numpy_only, by_einsum)
    with pytest.raises(GradingFailure, match=r"calls numpy .*einsum.*may use Python's standard library only"):
        run_part_in_process(replace(numpy_only, imports=()), by_einsum)
