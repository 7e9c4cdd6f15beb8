"""Exercise 3's checks, called directly: right answers pass, wrong ones are named.

The source notebook's solutions and the differently written answers of
``ch03_vanishing_answers`` pass every visible and hidden case; every
mistake there fails its part with a message that names it. Part 1's
reference is a backward pass, so it is proven against central differences
here, on every case's own forward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnncourse.gradcheck import rel_error
from rnncourse.grading import ch03_vanishing as check
from rnncourse.grading.core import GradingFailure
from rnncourse.grading.parts import defined_alone
from rnncourse.grading.substitutes import ch03_vanishing as given
from rnncourse.scratch.gradient_flow import NEUTRAL, step_jacobians
from rnncourse.scratch.gradient_flow import gradient_norms as norms_of
from tests.grading import ch03_vanishing_answers as answers
from tests.grading.hidden import graded_cases, run_hidden
from tests.grading.notebooks import read, solution_sources

SOURCE = Path(__file__).resolve().parents[2] / "solutions" / "ch03_vanishing" / "ch03_vanishing.ipynb"
PART_FUNCTIONS = {part.function: part for part in check.PARTS}


def define(source: str, function: str) -> Any:
    """Run an answer cell in a fresh namespace with what the notebook provides; its function."""
    namespace: dict[str, Any] = {"np": np}
    namespace["loss_and_grad"] = defined_alone(given.loss_and_grad)
    exec(compile(source, f"<answer {function}>", "exec"), namespace)
    return namespace[function]


def run(function: str, fn: Any, hidden: bool) -> None:
    """The part's visible cases as the lab runs them, or its hidden ones drawn from the tests' secret."""
    if hidden:
        run_hidden(PART_FUNCTIONS[function], fn)
    else:
        getattr(check, function)(fn)


@pytest.fixture(scope="module")
def solutions() -> dict[str, str]:
    return solution_sources(read(SOURCE))


@pytest.mark.parametrize("function", list(PART_FUNCTIONS))
@pytest.mark.parametrize("hidden", [False, True])
def test_the_solution_passes(solutions: dict[str, str], function: str, hidden: bool) -> None:
    run(function, define(solutions[function], function), hidden)


@pytest.mark.parametrize("function", list(PART_FUNCTIONS))
@pytest.mark.parametrize("hidden", [False, True])
def test_differently_written_answers_pass(function: str, hidden: bool) -> None:
    run(function, define(answers.ALTERNATIVE[function], function), hidden)


WRONG_MESSAGES = {
    "gradient_norms": "tanh derivative is missing",
    "diagnose": "from the eigenvalues alone",
    "jacobian_product_norms": "wrong order",
    "train_with_clipping": "the update lr * g is clipped",
    "recurrent_init": "signs are not fixed",
}


@pytest.mark.parametrize("function", list(PART_FUNCTIONS))
def test_the_typical_mistake_fails_visibly_and_is_named(function: str) -> None:
    with pytest.raises(GradingFailure, match="Visible check") as failure:
        run(function, define(answers.WRONG[function], function), hidden=False)
    assert WRONG_MESSAGES[function] in str(failure.value)


@pytest.mark.parametrize(
    ("function", "source", "message"),
    [
        (function, source, message)
        for function, cases in answers.MISTAKES.items()
        for source, message in cases
    ],
)
def test_more_mistakes_are_named(function: str, source: str, message: str) -> None:
    fn = define(source, function)
    with pytest.raises(GradingFailure) as failure:
        run(function, fn, hidden=False)
        run(function, fn, hidden=True)
    assert message in str(failure.value)


@pytest.mark.parametrize("function", list(PART_FUNCTIONS))
def test_calling_the_course_is_refused(function: str) -> None:
    with pytest.raises(GradingFailure, match="calls"):
        run(function, define(answers.CHEAT[function], function), hidden=False)


def test_hidden_messages_do_not_show_inputs() -> None:
    wrong = define(answers.WRONG["diagnose"], "diagnose")
    with pytest.raises(GradingFailure) as failure:
        run_hidden(check.DIAGNOSE, wrong)
    assert "Hidden check" in str(failure.value) and "[[" not in str(failure.value)


@pytest.mark.parametrize(
    "seed_shape", [(10, (2, 6, 3)), (3031, (1, 7, 5)), (3034, (1, 1, 1)), (3032, (4, 9, 1))]
)
def test_part_1_reference_equals_central_differences(seed_shape: tuple[int, tuple[int, int, int]]) -> None:
    seed, (N, T, H) = seed_shape
    p = check.norms_inputs(seed, N, T, H)
    numerical = check.numerical_state_gradients(p)
    case = check.norms_cases(seed, [(N, T, H)])[0]
    assert rel_error(check.reference_gradient_norms(*case.args), norms_of(numerical)) < 1e-7


def test_part_1_cases_mix_growing_and_shrinking_steps() -> None:
    # The visible cases must tell a transposed W_hh from the right one: they do only if the norms vary.
    for case in graded_cases(check.GRADIENT_NORMS):
        norms = check.reference_gradient_norms(*case.args)
        assert np.all(np.isfinite(norms)) and norms[-1] > 0


def test_part_2_cases_cover_every_verdict() -> None:
    verdicts = {check.reference_diagnose(*case.args)[2] for case in graded_cases(check.DIAGNOSE)}
    assert verdicts == set(check.VERDICTS)
    visible = [check.reference_diagnose(*case.args)[2] for case in check.DIAGNOSE.visible()]
    assert sorted(visible) == sorted(check.VERDICTS)


def test_part_2_boundary_cases_sit_on_the_boundary_and_the_others_clear_of_it() -> None:
    for case in graded_cases(check.DIAGNOSE):
        sigma, rho, verdict = check.reference_diagnose(*case.args)
        if verdict == NEUTRAL:
            assert abs(rho - 1) < 1e-12, case.name  # deep inside the band of 1e-6
        else:
            assert min(abs(sigma - 1), abs(rho - 1)) > 0.01, case.name
    hidden = [case.name for case in graded_cases(check.DIAGNOSE) if case.hidden]
    assert sum("boundary" in name for name in hidden) == 3


@pytest.mark.parametrize("seed", [b"one course's secret, 1", b"another course's secret, 2"])
def test_part_2_boundary_verdict_does_not_depend_on_rounding(seed: bytes) -> None:
    # An exact comparison with 1 passes some draws and fails others; the band passes all.
    from tests.grading.hidden import hidden_cases

    for case in hidden_cases(check.DIAGNOSE, seed):
        if "boundary" in case.name:
            W, gamma = case.args
            assert check.reference_diagnose(W, gamma)[2] == NEUTRAL
            assert check.reference_diagnose(W.T, gamma)[2] == NEUTRAL


def test_part_3_reference_is_the_explicit_product_of_the_step_jacobians() -> None:
    for case in graded_cases(check.PRODUCT_NORMS):
        h, W_hh = case.args
        J = step_jacobians(h[None], W_hh)[0]
        T = h.shape[0]
        for k in range(T + 1):
            P = np.eye(W_hh.shape[0])
            for t in range(T, T - k, -1):  # J_T J_{T-1} ... J_{T-k+1}
                P = P @ J[t - 1]
            assert abs(check.reference_product_norms(h, W_hh)[k] - np.linalg.svd(P)[1][0]) < 1e-12 * max(
                1.0, np.linalg.norm(P, 2)
            ), (case.name, k)


def test_part_3_products_stay_under_the_bound_and_the_cases_tell_the_mistakes_apart() -> None:
    for case in graded_cases(check.PRODUCT_NORMS):
        h, W_hh = case.args
        norms = check.reference_product_norms(h, W_hh)
        bound = np.linalg.norm(W_hh, 2) ** np.arange(h.shape[0] + 1)
        assert np.all(norms <= bound * (1 + 1e-12)), case.name
    # Every named mistake differs from the truth on some visible case (else the lab cannot name it).
    for key in check._PRODUCT_MISTAKES:
        assert any(
            rel_error(check._product_variant(*case.args, key), check.reference_product_norms(*case.args))
            > 1e-3
            for case in check.PRODUCT_NORMS.visible()
        ), key


def test_part_4_unclipped_visible_run_diverges_and_the_clipped_one_converges() -> None:
    w0, target, T, lr, max_norm, steps = check.TRAIN.visible()[0].args
    with np.errstate(all="ignore"):
        unclipped = define(answers.MISTAKES["train_with_clipping"][0][0], "train_with_clipping")(
            w0, target, T, lr, max_norm, steps
        )
    assert not np.all(np.isfinite(unclipped))
    clipped = check.reference_train(w0, target, T, lr, max_norm, steps)
    assert abs(clipped[-1] - target ** (1 / T)) < 1e-6


def test_part_5_spectral_cases_tell_the_radius_from_its_look_alikes() -> None:
    # Each case with more than one unit separates rho from sigma_max or from the largest real
    # eigenvalue (else that mistake would pass it), and the visible case separates both.
    cases = [
        case
        for case in graded_cases(check.RECURRENT_INIT)
        if case.args[1] == "spectral" and case.args[0].size > 1
    ]
    for case in cases:
        eigenvalues = np.linalg.eigvals(case.args[0])
        rho = np.max(np.abs(eigenvalues))
        sigma_apart = np.linalg.norm(case.args[0], 2) > 1.01 * rho
        real_apart = np.max(eigenvalues.real) < 0.99 * rho
        assert sigma_apart or real_apart, case.name
        if not case.hidden:
            assert sigma_apart, case.name


def test_part_5_orthogonal_reference_is_orthogonal_with_positive_r() -> None:
    for case in graded_cases(check.RECURRENT_INIT):
        A, scheme, gain = case.args
        if scheme != "orthogonal":
            continue
        Q = check.from_matrix(A, scheme, gain) / gain
        assert rel_error(Q.T @ Q, np.eye(A.shape[0])) < 1e-12
        assert np.all(np.diag(Q.T @ A) > 0)
