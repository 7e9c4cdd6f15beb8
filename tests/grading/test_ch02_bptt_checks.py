"""The checks of exercise 2: they pass correct answers, name each typical mistake, and grade true derivatives."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.grading import ch02_bptt as check
from rnncourse.grading.parts import Case, Part, Verdict, defined_alone, plain, verify_part
from rnncourse.grading.substitutes import ch02_bptt as correct
from rnncourse.scratch.tbptt import RNN_LM_PARAMS
from tests.grading.hidden import graded_cases, run_hidden

STEP, BPTT, CLIP = map(defined_alone, (correct.rnn_step_backward, correct.bptt, correct.clip_by_global_norm))


def GENERATE(params, h, first_id, uniforms, temperature):  # type: ignore[no-untyped-def]
    """A correct sampler written apart from the check's reference: a batch of one, a running sum."""
    ids, state, x = [], h[None, :], first_id
    for u in uniforms:
        state = np.tanh(params["W_xh"].T[x][None, :] + state @ params["W_hh"].T + params["b_h"])
        z = (state @ params["W_hy"].T + params["b_y"])[0] / temperature
        p = np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))
        x = int(np.argmax(np.cumsum(p) > u))
        ids.append(x)
    return ids


def _tbptt(params, x, targets, h0, k, lr, max_norm):  # type: ignore[no-untyped-def]
    return check.tbptt_variant((params, x, targets, h0, k, lr, max_norm))


def _verdict(part: Part, fn: Callable[..., Any]) -> Verdict:
    """Grade ``fn`` as the autograder does: its values on every case, verified as plain data."""
    cases = graded_cases(part)
    return verify_part(part, [plain(fn(*copy.deepcopy(case.args))) for case in cases], cases)


def _fails_with(part: Part, fn: Callable[..., Any], message: str) -> None:
    verdict = _verdict(part, fn)
    assert not verdict.passed
    assert re.search(message, str(verdict.failure)), verdict.failure


def test_correct_answers_pass_every_case_visible_and_hidden() -> None:
    # In the learner's kernel (NumPy-only substitutes, through the call monitor) ...
    for run, part, fn in [
        (check.rnn_step_backward, check.RNN_STEP_BACKWARD, STEP),
        (check.bptt, check.BPTT, BPTT),
        (check.clip_by_global_norm, check.CLIP, CLIP),
    ]:
        run(fn)
        run_hidden(part, fn)
    # ... and as the autograder verifies (the reference loop calls the course's code, which the monitor refuses).
    assert _verdict(check.TBPTT_TRAIN, _tbptt).passed
    check.generate(GENERATE)
    run_hidden(check.GENERATE, GENERATE)


def test_every_part_has_visible_and_hidden_cases_and_fourteen_points() -> None:
    assert sum(part.points for part in check.PARTS) == 14
    for part in check.PARTS:
        cases = graded_cases(part)
        assert any(c.hidden for c in cases) and any(not c.hidden for c in cases)
        assert [c.name for c in cases] == [c.name for c in graded_cases(part)]


def _step_gradients_are_true(case: Case) -> None:
    dh_t, x_t, h_prev, h_t, W_xh, W_hh = (a.copy() for a in case.args)
    # The bias that makes h_t the output, read off the row least saturated (arctanh near +-1 amplifies rounding).
    row = int(np.argmin(np.abs(h_t).max(axis=1)))
    b_h = (np.arctanh(h_t) - x_t @ W_xh.T - h_prev @ W_hh.T)[row]
    # h_t is a real step's output: the same bias explains every row (a wrong h_t is off by 1e-2 or more).
    assert rel_error(np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h), h_t) < 1e-9, case.name
    expected = check._reference_step(dh_t, x_t, h_prev, h_t, W_xh, W_hh)

    def f() -> np.ndarray:
        return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)

    for array, grad in zip((x_t, h_prev, W_xh, W_hh, b_h), expected):
        assert rel_error(numerical_gradient(f, array, dh_t), grad) < 1e-7, case.name


def _bptt_gradients_are_true(case: Case) -> None:
    params, x, targets, mask, h0 = copy.deepcopy(case.args)
    _, grads, _ = BPTT(params, x, targets, mask, h0)

    def loss() -> np.ndarray:
        return np.array(BPTT(params, x, targets, mask, h0)[0])

    for name, array in [*params.items(), ("h0", h0)]:
        numeric = numerical_gradient(loss, array, np.array(1.0))
        assert rel_error(numeric, grads[name]) < 1e-7, (case.name, name)


def test_the_graders_references_are_the_true_derivatives_on_every_case() -> None:
    """The graders compare with the course's backward: prove it against central differences on their inputs."""
    for case in graded_cases(check.RNN_STEP_BACKWARD):
        _step_gradients_are_true(case)
    for case in graded_cases(check.BPTT):
        _bptt_gradients_are_true(case)
        params, x, targets, mask, h0 = case.args
        reference = check.rnn_lm_loss_and_grads(dict(params), x, targets, mask, h0)
        ours = BPTT(params, x, targets, mask, h0)
        assert rel_error(reference[0], ours[0]) < 1e-12
        assert all(rel_error(reference[1][name], ours[1][name]) < 1e-12 for name in check.GRAD_NAMES)


# -- Named mistakes ------------------------------------------------------------------


def _step_mistake(kind: str) -> Callable[..., Any]:
    def step(dh_t, x_t, h_prev, h_t, W_xh, W_hh):  # type: ignore[no-untyped-def]
        da = dh_t if kind == "no derivative" else dh_t * (1 - h_t**2)
        dh_prev = da @ W_hh.T if kind == "transposed" else da @ W_hh
        dW_hh = da.T @ h_t if kind == "h_t" else da.T @ h_prev
        db = da.mean(axis=0) if kind == "mean" else da.sum(axis=0)
        return da @ W_xh, dh_prev, da.T @ x_t, dW_hh, db

    return step


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("no derivative", "the tanh derivative is missing"),
        ("transposed", "W_hh is transposed"),
        ("h_t", "dW_hh uses h_t"),
        ("mean", "db_h is averaged over the batch"),
    ],
)
def test_step_mistakes_are_named(kind: str, message: str) -> None:
    _fails_with(check.RNN_STEP_BACKWARD, _step_mistake(kind), message)


def _bptt_with(**switches: Any) -> Callable[..., Any]:
    def wrong(params, x, targets, mask, h0):  # type: ignore[no-untyped-def]
        loss, grads = check.bptt_variant(params, x, targets, mask, h0, **switches)
        hs = h0
        for t in range(x.shape[1]):
            hs = np.tanh(x[:, t] @ params["W_xh"].T + hs @ params["W_hh"].T + params["b_h"])
        return loss, grads, hs

    return wrong


@pytest.mark.parametrize(
    ("switches", "message"),
    [
        ({"tanh_prime": False}, "the tanh derivative is missing"),
        ({"recurrent": False}, "the recurrent term is dropped"),
        ({"accumulate": False}, "not accumulated over steps"),
        ({"shifted": True}, "an off-by-one in the loop"),
        ({"time_mean": True}, "also divided by T"),
        ({"batch_mean": False}, "summed over the batch"),
        ({"loss_steps": "first"}, "only one step's loss is kept"),
        ({"loss_steps": "last"}, "only the last step's loss is kept"),
        ({"carry_accumulates": True}, "accumulated \\(\\+=\\) across steps"),
        ({"carry_skips_tanh": True}, "skips the tanh derivative"),
        ({"derivative_shifted": True}, "taken at the wrong state"),
        ({"h0_is_h1": True}, "the gradient of h0 is that of h_1"),
    ],
)
def test_bptt_mistakes_are_named(switches: dict[str, Any], message: str) -> None:
    _fails_with(check.BPTT, _bptt_with(**switches), message)


def test_bptt_padding_and_h0_mistakes_are_named_in_the_cases_that_show_them() -> None:
    _fails_with(check.BPTT, _bptt_with(use_mask=False), "the mask is ignored")

    def no_h0(params, x, targets, mask, h0):  # type: ignore[no-untyped-def]
        loss, grads, h = BPTT(params, x, targets, mask, h0)
        return loss, {**grads, "h0": np.zeros_like(h0)}, h

    _fails_with(check.BPTT, no_h0, "the gradient of h0 is missing")

    def missing_key(params, x, targets, mask, h0):  # type: ignore[no-untyped-def]
        loss, grads, h = BPTT(params, x, targets, mask, h0)
        del grads["h0"]
        return loss, grads, h

    _fails_with(check.BPTT, missing_key, r"no entry \['h0'\]")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (
            lambda g, m: ({k: np.clip(v, -m, m) for k, v in g.items()}, CLIP(g, m)[1]),
            "each element is clipped",
        ),
        (
            lambda g, m: (
                {k: v * min(1.0, m / max(np.linalg.norm(v), 1e-300)) for k, v in g.items()},
                CLIP(g, m)[1],
            ),
            "clipped by its own norm",
        ),
        (
            lambda g, m: ({k: v * m / max(CLIP(g, m)[1], 1e-300) for k, v in g.items()}, CLIP(g, m)[1]),
            "scaled up",
        ),
        (lambda g, m: (CLIP(g, m)[0], CLIP(g, m)[1] ** 2), "not square-rooted"),
    ],
)
def test_clip_mistakes_are_named(wrong: Callable[..., Any], message: str) -> None:
    _fails_with(check.CLIP, wrong, message)


@pytest.mark.parametrize(
    ("switches", "message"),
    [
        ({"carry": False}, "the state is not carried"),
        ({"detach": False}, "the gradient crosses the chunk boundary"),
        ({"update_each_chunk": False}, "updated once at the end"),
        ({"clip": "none"}, "not clipped"),
        ({"clip": "entries"}, "each element is clipped"),
    ],
)
def test_tbptt_mistakes_are_named(switches: dict[str, Any], message: str) -> None:
    _fails_with(check.TBPTT_TRAIN, lambda *args: check.tbptt_variant(args, **switches), message)


def test_not_detaching_is_what_torch_computes_with_retain_graph() -> None:
    """The named "not detached" variant equals torch autograd through the earlier chunks' graphs."""
    torch = pytest.importorskip("torch")
    args = check.TBPTT_TRAIN.visible()[0].args
    params, x, targets, h0, k, lr, max_norm = args
    expected, _, _ = check.tbptt_variant(args, detach=False)
    current = {name: torch.tensor(params[name], requires_grad=True) for name in RNN_LM_PARAMS}
    history: list[dict[str, Any]] = []  # the parameter tensors every chunk ran with
    h = torch.tensor(h0)
    for t0 in range(0, x.shape[1], k):
        history.append(current)
        total = torch.zeros((), dtype=torch.float64)
        for t in range(t0, min(t0 + k, x.shape[1])):
            h = torch.tanh(
                torch.from_numpy(x[:, t]) @ current["W_xh"].T + h @ current["W_hh"].T + current["b_h"]
            )
            z = h @ current["W_hy"].T + current["b_y"]
            total = total + torch.nn.functional.cross_entropy(
                z, torch.from_numpy(targets[:, t]), reduction="sum"
            )
        tensors = [(name, tensor) for chunk in history for name, tensor in chunk.items()]
        found = torch.autograd.grad(
            total / x.shape[0], [t for _, t in tensors], retain_graph=True, allow_unused=True
        )
        grads = {name: np.zeros(params[name].shape) for name in RNN_LM_PARAMS}
        for (name, _), g in zip(tensors, found):
            if g is not None:
                grads[name] = grads[name] + g.numpy()
        clipped, _ = check.reference_clip(grads, max_norm)
        current = {
            name: torch.tensor(current[name].detach().numpy() - lr * clipped[name], requires_grad=True)
            for name in RNN_LM_PARAMS
        }
    for name in RNN_LM_PARAMS:
        assert rel_error(current[name].detach().numpy(), expected[name]) < 1e-10, name


def test_verify_part_reads_plain_values_like_the_grader() -> None:
    cases = graded_cases(check.CLIP)
    values = [CLIP(*case.args) for case in cases]
    assert verify_part(check.CLIP, values, cases).passed
    values[2] = ({k: np.clip(v, -2.5, 2.5) for k, v in cases[2].args[0].items()}, values[2][1])
    verdict = verify_part(check.CLIP, values, cases)
    assert not verdict.passed and "Hidden check 'one gradient'" in str(verdict.failure)


def _generate_with(mistake: str) -> Callable[..., Any]:
    return lambda *args: check.generate_variant(*args, mistake)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("multiplied", "multiplied by the temperature"),
        ("no temperature", "the temperature is left out"),
        ("not carried", "the state is not carried"),
        ("not fed back", "not fed back"),
        ("argmax", "argmax"),
        ("drawn before the step", "drawn from the state before the step"),
    ],
)
def test_generate_mistakes_are_named(mistake: str, message: str) -> None:
    _fails_with(check.GENERATE, _generate_with(mistake), message)


def test_generate_length_and_type_slips_are_told_plainly() -> None:
    _fails_with(check.GENERATE, lambda p, h, x, u, t: [x, *GENERATE(p, h, x, u, t)], "not first_id")
    _fails_with(
        check.GENERATE,
        lambda p, h, x, u, t: [float(i) for i in GENERATE(p, h, x, u, t)],
        "list of Python ints",
    )
    assert _verdict(
        check.GENERATE, lambda p, h, x, u, t: np.array(GENERATE(p, h, x, u, t))
    ).passed  # ints in an array


def test_generate_reference_draws_each_character_with_its_probability() -> None:
    """Over many uniform numbers, the first-index rule draws i with frequency p_i (a chi-square bound)."""
    params, h, first, _, temperature = check.GENERATE.visible()[0].args
    draws = np.random.default_rng(0).random(20000)
    W = params
    state = np.tanh(W["W_xh"][:, first] + W["W_hh"] @ h + W["b_h"])
    z = (W["W_hy"] @ state + W["b_y"]) / temperature
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    counts = np.bincount(
        [check.generate_reference(params, h, first, np.array([u]), temperature)[0][0] for u in draws],
        minlength=len(p),
    )
    expected = p * len(draws)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 30  # 4 degrees of freedom: p < 1e-5 for a correct sampler to exceed this


def test_generate_cases_keep_their_draws_clear_of_every_boundary() -> None:
    for case in graded_cases(check.GENERATE):
        ids, closest = check.generate_reference(*case.args)
        assert closest > 1e-9 and len(ids) == len(case.args[3]), case.name
