"""Tests of exercise 6's checks: the reference passes, each named mistake is named, cheats are refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from rnncourse.evaluation.vectors import answer_analogies, unit_rows
from rnncourse.gradcheck import check_gradients
from rnncourse.grading import ch06_embeddings as check
from rnncourse.grading.core import GradingFailure
from tests.grading import ch06_embeddings_answers as answers
from tests.grading.hidden import graded_cases, run_hidden

SOURCE = Path(__file__).resolve().parents[2] / "solutions" / "ch06_embeddings" / "ch06_embeddings.ipynb"


def _define(source: str) -> dict:
    namespace: dict = {"np": np, "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x))}
    exec(source, namespace)
    return namespace


def _solutions() -> dict[str, str]:
    notebook = json.loads(SOURCE.read_text())
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["metadata"].get("nbgrader", {}).get("solution")
    }


PARTS = {p.function: p for p in check.PARTS}


def _run(part: str, source: str, hidden: bool) -> None:
    """The visible cases as the lab runs them, or the hidden ones drawn from the tests' secret."""
    if hidden:
        run_hidden(PARTS[part], _define(source)[part])
    else:
        getattr(check, part)(_define(source)[part])


@pytest.mark.parametrize("part", [p.function for p in check.PARTS])
@pytest.mark.parametrize("kind", ["solution", "alternative"])
def test_correct_answers_pass_visible_and_hidden(part: str, kind: str) -> None:
    source = _solutions()[part] if kind == "solution" else answers.ALTERNATIVE[part]
    _run(part, source, hidden=False)
    _run(part, source, hidden=True)


EXPECTED_WRONG = {
    "embedding_forward": "off by one",
    "embedding_backward": "overwritten instead of added",
    "noise_distribution": "not raised to the power 0.75",
    "sgns_loss_and_grads": "divide by N",
    "hs_log_prob": "1 - sigma(x)",
    "analogy": "query words are not excluded",
}


@pytest.mark.parametrize("part", list(EXPECTED_WRONG))
def test_the_typical_mistake_is_named_on_the_visible_check(part: str) -> None:
    with pytest.raises(GradingFailure, match="Likely mistake") as failure:
        _run(part, answers.WRONG[part], hidden=False)
    assert EXPECTED_WRONG[part] in str(failure.value)


@pytest.mark.parametrize(
    "part, source, words", [(p, s, w) for p, items in answers.MISTAKES.items() for s, w in items]
)
def test_more_mistakes_are_named(part: str, source: str, words: str) -> None:
    with pytest.raises(GradingFailure) as failure:
        _run(part, source, hidden=False)
        _run(part, source, hidden=True)
    assert words in str(failure.value)


@pytest.mark.parametrize("part", [p.function for p in check.PARTS])
def test_the_course_implementation_earns_nothing(part: str) -> None:
    with pytest.raises(GradingFailure, match="earn no points"):
        _run(part, answers.CHEAT[part], hidden=False)


def test_every_analogy_case_separates_the_named_mistakes() -> None:
    for case in graded_cases(check.ANALOGY):
        vectors, a, b, c = case.args
        ask = np.array([[a, b, c]])
        right = answer_analogies(unit_rows(vectors), ask)[0]
        raw_offset = unit_rows(vectors) @ (vectors[b] - vectors[a] + vectors[c])
        raw_offset[[a, b, c]] = -np.inf
        if case.name == "words of very different lengths":  # the case built for the raw offset
            assert right != np.argmax(raw_offset), case.name
            continue
        unexcluded = answer_analogies(unit_rows(vectors), ask, exclude_query=False)[0]
        raw = vectors @ (vectors[b] - vectors[a] + vectors[c])
        raw[[a, b, c]] = -np.inf
        assert unexcluded in (a, b, c) and right != unexcluded and right != np.argmax(raw), case.name


@pytest.mark.parametrize("seed", range(30))
def test_the_raw_offset_case_always_tells_the_offsets_apart(seed: int) -> None:
    vectors, a, b, c, d = check.raw_offset_set(seed, 10, 8)
    ask = np.array([[a, b, c]])
    assert answer_analogies(unit_rows(vectors), ask)[0] == d
    raw_offset = unit_rows(vectors) @ (vectors[b] - vectors[a] + vectors[c])
    raw_offset[[a, b, c]] = -np.inf
    assert np.argmax(raw_offset) == 4


def test_the_reference_gradients_the_checks_name_mistakes_against_are_exact() -> None:
    """The analytic formulas the messages quote equal numerical gradients (so naming is sound)."""
    sol = _define(_solutions()["sgns_loss_and_grads"])["sgns_loss_and_grads"]
    (case, *_) = check.SGNS_LOSS_AND_GRADS.visible()
    v, u_pos, u_neg = (a.copy() for a in case.args)
    _, dv, du_pos, du_neg = sol(v, u_pos, u_neg)
    check_gradients(
        lambda: np.array(sol(v, u_pos, u_neg)[0]),
        {"v": v, "u_pos": u_pos, "u_neg": u_neg},
        {"v": dv, "u_pos": du_pos, "u_neg": du_neg},
        np.array(1.0),
    )


def test_float32_and_in_place_changes_are_reported() -> None:
    with pytest.raises(GradingFailure, match="float32"):
        check.embedding_forward(lambda ids, W: W.astype(np.float32)[ids])

    def in_place(counts):
        counts **= 0.75
        return counts / counts.sum()

    with pytest.raises(GradingFailure, match="in place"):
        check.noise_distribution(in_place)


def test_hidden_messages_do_not_show_inputs() -> None:
    with pytest.raises(GradingFailure) as failure:
        _run("embedding_backward", answers.MISTAKES["embedding_backward"][0][0], hidden=True)
    message = str(failure.value)
    assert message.startswith("Hidden check 'padded batch") and not re.search(r"\d\.\d{3}", message)


def test_losses_are_accepted_to_the_tolerance_the_notebook_states() -> None:
    """A float64 loss that lost a few digits (a log of a sigmoid near 0) is within the stated 1e-8."""
    notebook = json.loads(SOURCE.read_text())
    intro = "".join(notebook["cells"][0]["source"])
    assert "losses and log-probabilities to $10^{-8}$" in intro and check.LOG_TOLERANCE == 1e-8
    solution = _define(_solutions()["sgns_loss_and_grads"])["sgns_loss_and_grads"]

    def off_by(relative: float):  # type: ignore[no-untyped-def]
        def loss_and_grads(v, u_pos, u_neg):  # type: ignore[no-untyped-def]
            loss, *grads = solution(v, u_pos, u_neg)
            return (loss * (1 + relative), *grads)

        return loss_and_grads

    check.sgns_loss_and_grads(off_by(5e-9))
    run_hidden(PARTS["sgns_loss_and_grads"], off_by(5e-9))
    with pytest.raises(GradingFailure) as failure:
        check.sgns_loss_and_grads(off_by(5e-7))
    assert "float32 arithmetic somewhere, or a formula that loses digits" in str(failure.value)
