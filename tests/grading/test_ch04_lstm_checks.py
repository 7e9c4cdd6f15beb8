"""Exercise 4's checks, called directly: right answers pass, wrong ones are named, torch agrees.

Answers are run as the notebook runs them: each cell's source executed in a
namespace holding what the setup cell defines (``np`` and ``sigmoid``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.gradcheck import rel_error
from rnncourse.grading import ch04_lstm as check
from rnncourse.grading.core import GradingFailure
from rnncourse.grading.parts import Part, run_part_in_process
from tests.grading import ch04_lstm_answers as answers
from tests.grading.hidden import graded_cases, run_hidden
from tests.grading.notebooks import solution_sources

REPO = Path(__file__).resolve().parents[2]
PARTS = {part.function: part for part in check.PARTS}
SOURCE = nbformat.read(REPO / "solutions" / "ch04_lstm" / "ch04_lstm.ipynb", as_version=4)


def learner_function(grade_id: str, source: str) -> Any:
    """The function a cell defines, in a namespace like the notebook's after its setup cell."""
    namespace: dict[str, Any] = {"np": np, "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a))}
    exec(compile(source, f"<answer {grade_id}>", "exec"), namespace)
    return namespace[grade_id]


def run_all(part: Part, fn: Any) -> None:
    run_part_in_process(part, fn)
    run_hidden(part, fn)


@pytest.mark.parametrize("grade_id", list(PARTS))
def test_solution_and_alternative_pass_every_case(grade_id: str) -> None:
    run_all(PARTS[grade_id], learner_function(grade_id, solution_sources(SOURCE)[grade_id]))
    run_all(PARTS[grade_id], learner_function(grade_id, answers.ALTERNATIVE[grade_id]))


WRONG_MESSAGES = {
    "lstm_step_forward": "sliced in the order i, f, o, g",
    "lstm_step_backward": "the gradient dc_t arriving from the next step is not added",
    "lstm_forward": "the state keeps changing through the padding",
    "run_torch_lstm": "bias_hh is left out",
    "lstm_backward": "the cell state's gradient from step t \\+ 1",
}


@pytest.mark.parametrize("grade_id", list(PARTS))
def test_the_typical_mistake_is_named(grade_id: str) -> None:
    with pytest.raises(GradingFailure, match=WRONG_MESSAGES[grade_id]):
        run_part_in_process(PARTS[grade_id], learner_function(grade_id, answers.WRONG[grade_id]))


@pytest.mark.parametrize(
    ("grade_id", "source", "message"),
    [
        (grade_id, source, message)
        for grade_id, cases in answers.MISTAKES.items()
        for source, message in cases
    ],
)
def test_more_mistakes_are_named(grade_id: str, source: str, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        run_all(PARTS[grade_id], learner_function(grade_id, source))


@pytest.mark.parametrize("grade_id", list(PARTS))
def test_calling_the_course_or_torch_earns_nothing(grade_id: str) -> None:
    with pytest.raises(GradingFailure, match="earn no points"):
        run_part_in_process(PARTS[grade_id], learner_function(grade_id, answers.CHEAT[grade_id]))


def test_part_4_reference_is_what_torch_computes() -> None:
    for case in graded_cases(check.PARTS[3]):
        state, x, lengths = case.args
        layers = sum(key.startswith("weight_ih_l") for key in state)
        lstm = torch.nn.LSTM(x.shape[2], state["weight_hh_l0"].shape[1], num_layers=layers, batch_first=True)
        lstm = lstm.double()
        lstm.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})
        packed = pack_padded_sequence(
            torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
        )
        out, (h_n, c_n) = lstm(packed)
        out = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]
        ours = check._run_state(state, x, lengths)
        for a, b in zip(ours, (out, h_n, c_n), strict=True):
            assert rel_error(a, b.detach().numpy()) < 1e-12, case.name


def test_numerical_gradients_agree_with_the_course_backward() -> None:
    from rnncourse.scratch.lstm import lstm_step_backward, lstm_step_forward

    for case in graded_cases(check.STEP_BACKWARD):
        dh, dc, *args = case.args
        numerical = check._numerical_step_gradients(tuple(args), dh, dc)
        analytic = lstm_step_backward(dh, dc, lstm_step_forward(*args)[2])
        for a, n in zip(analytic, numerical, strict=True):
            assert rel_error(a, n) < 1e-8, case.name


def test_every_named_step_mistake_differs_from_the_truth_on_the_visible_cases() -> None:
    # A mistake that coincides with the right answer could never be named; these must all show.
    case = check.STEP_FORWARD.visible()[0]
    h, c, _ = check.lstm_step_forward(*case.args)
    for key in check._STEP_MISTAKES:
        h_wrong, c_wrong = check._step(case.args, mistake=key)
        assert max(rel_error(h_wrong, h), rel_error(c_wrong, c)) > 1e-3, key


def test_hidden_cases_cover_length_one_batch_one_and_padding() -> None:
    names = {name for part in check.PARTS for name in part.hidden}
    assert {"all sizes 1", "one sequence of one step", "batch of one, padded", "three layers, D = H"} <= names
    assert {"one step", "batch of one", "one hidden unit"} <= set(check.SEQUENCE_BACKWARD.hidden)


def test_the_course_sequence_backward_agrees_with_the_numerical_gradients_of_part_5() -> None:
    """The check's central differences are right: the course's fast BPTT gives the same gradients."""
    from rnncourse.scratch.lstm import lstm_backward, lstm_forward

    for case in graded_cases(check.SEQUENCE_BACKWARD):
        dh, x, h0, c0, W_xh, W_hh, b = case.args
        _, _, cache = lstm_forward(x, h0, c0, W_xh, W_hh, b)
        analytic = lstm_backward(dh, cache)
        numerical = check._numerical_sequence_gradients(case.args)
        for a, n in zip(analytic, numerical, strict=True):
            assert rel_error(a, n) < 1e-8, case.name
        written_out = check._sequence_backward(case.args)
        for a, w in zip(analytic, written_out, strict=True):
            assert rel_error(a, w) < 1e-10, case.name


@pytest.mark.parametrize("slip", list(check._SEQUENCE_SLIPS))
def test_every_sequence_slip_is_wrong_on_a_visible_case(slip: str) -> None:
    # A slip that gives the right gradients could never be named: each must differ on some visible case.
    differs = []
    for case in check.SEQUENCE_BACKWARD.visible():
        right, wrong = check._sequence_backward(case.args), check._sequence_backward(case.args, slip)
        differs.append(max(rel_error(w, r) for w, r in zip(wrong, right, strict=True)))
    assert max(differs) > 1e-3, slip


@pytest.mark.parametrize("text", list(check._padding_slips(check.SEQUENCE_FORWARD.visible()[0].args)))
def test_every_padding_slip_is_wrong_on_the_first_visible_case(text: str) -> None:
    case = check.SEQUENCE_FORWARD.visible()[0]
    right = check._reference_sequence(*case.args)
    wrong = check._padding_slips(case.args)[text]
    assert max(rel_error(w, r) for w, r in zip(wrong, right, strict=True)) > 1e-3, text
