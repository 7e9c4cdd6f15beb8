"""Exercise 5's checks, called directly: right answers pass, wrong ones are named.

The correct answers are written here as a learner might (not imported from
the course); each mistake is a small mutant of one of them, and its test
asserts that the check fails with the message naming that mistake.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.grading import ch05_gru as check
from rnncourse.grading.core import GradingFailure
from rnncourse.grading.parts import Case, defined_alone, plain, verify_part
from rnncourse.grading.substitutes import ch05_gru as given

# -- correct answers, written as a learner might ------------------------------------------
from tests.grading.hidden import graded_cases, run_hidden


def sig(a):
    return 1 / (1 + np.exp(-a))


def split3(a):
    return np.split(a, 3, axis=0)


def step(x, h, W_xh, W_hh, b_xh, b_hh, *, reset_before=False, swap_z=False, b_hn_outside=False):
    (Wr, Wz, Wn), (Ur, Uz, Un) = split3(W_xh), split3(W_hh)
    (br, bz, bn), (cr, cz, cn) = split3(b_xh), split3(b_hh)
    r = sig(x @ Wr.T + br + h @ Ur.T + cr)
    z = sig(x @ Wz.T + bz + h @ Uz.T + cz)
    if reset_before:
        n = np.tanh(x @ Wn.T + bn + (r * h) @ Un.T + cn)
    elif b_hn_outside:
        n = np.tanh(x @ Wn.T + bn + r * (h @ Un.T) + cn)
    else:
        n = np.tanh(x @ Wn.T + bn + r * (h @ Un.T + cn))
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def backward(dh, x, h, W_xh, W_hh, b_xh, b_hh, *, direct=True, dz_sign=1.0, reset_hidden=True):
    H = h.shape[1]
    (Wr, Wz, Wn), (Ur, Uz, Un) = split3(W_xh), split3(W_hh)
    (br, bz, bn), (cr, cz, cn) = split3(b_xh), split3(b_hh)
    r = sig(x @ Wr.T + br + h @ Ur.T + cr)
    z = sig(x @ Wz.T + bz + h @ Uz.T + cz)
    hn = h @ Un.T + cn
    n = np.tanh(x @ Wn.T + bn + r * hn)
    g_n = dh * (1 - z) * (1 - n**2)
    g_z = dz_sign * dh * (h - n) * z * (1 - z)
    g_r = g_n * hn * r * (1 - r)
    gx = np.concatenate([g_r, g_z, g_n], 1)
    gh = np.concatenate([g_r, g_z, g_n * r if reset_hidden else g_n], 1)
    dh_prev = gh @ W_hh + (dh * z if direct else 0)
    assert W_hh.shape[0] == 3 * H
    return gx @ W_xh, dh_prev, gx.T @ x, gh.T @ h, gx.sum(0), gh.sum(0)


# -- parts 1 and 3 ------------------------------------------------------------------------


def test_right_steps_pass() -> None:
    check.gru_step_forward(step)
    run_hidden(check.GRU_STEP_FORWARD, step)
    check.gru_reset_before_step_forward(lambda *a: step(*a, reset_before=True))
    run_hidden(check.GRU_RESET_BEFORE, lambda *a: step(*a, reset_before=True))


def test_the_step_agrees_with_torch() -> None:
    torch = pytest.importorskip("torch")
    cell = torch.nn.GRUCell(3, 4).double()
    x, h = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal((2, 4))
    expected = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
    params = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    assert rel_error(step(x, h, *params), expected) < 1e-12


STEP_MISTAKES = [
    (lambda *a: step(*a, swap_z=True), "roles are swapped"),
    (lambda *a: step(*a, reset_before=True), "before the product with W_hn"),
    (lambda *a: step(*a, b_hn_outside=True), "b_hn is added outside the reset"),
    (lambda x, h, A, B, b, c: step(x, h, A, B, b, 0 * c), "b_hh is missing"),
    (
        lambda x, h, A, B, b, c: step(
            x, h, *(np.concatenate([m[1], m[0], m[2]]) for m in map(split3, (A, B, b, c)))
        ),
        "wrong order",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), STEP_MISTAKES)
def test_step_mistakes_are_named(wrong, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        check.gru_step_forward(wrong)


def test_the_reset_before_check_tells_the_variants_apart() -> None:
    with pytest.raises(GradingFailure, match="this is torch's variant"):
        check.gru_reset_before_step_forward(step)
    with pytest.raises(GradingFailure, match="b_hn is scaled by the reset gate"):
        check.gru_reset_before_step_forward(_reset_before_scaled_b_hn)
    assert check.variants_differ(step, lambda *a: step(*a, reset_before=True)) > 1e-2


def _reset_before_scaled_b_hn(x, h, A, B, b, c):
    (Wr, Wz, Wn), (Ur, Uz, Un) = split3(A), split3(B)
    (br, bz, bn), (cr, cz, cn) = split3(b), split3(c)
    r, z = sig(x @ Wr.T + br + h @ Ur.T + cr), sig(x @ Wz.T + bz + h @ Uz.T + cz)
    n = np.tanh(x @ Wn.T + bn + (r * h) @ Un.T + r * cn)
    return (1 - z) * n + z * h


def test_returning_the_cache_too_is_explained() -> None:
    with pytest.raises(GradingFailure, match="return only h_t"):
        check.gru_step_forward(lambda *a: (step(*a), None))


# -- part 2 ------------------------------------------------------------------------------


def test_the_learner_style_backward_passes_and_matches_numerical_gradients() -> None:
    check.gru_step_backward(backward)
    run_hidden(check.GRU_STEP_BACKWARD, backward)
    rng = np.random.default_rng(3)
    N, D, H = 2, 3, 4
    inputs = {
        "x": rng.standard_normal((N, D)),
        "h": rng.standard_normal((N, H)),
        "W_xh": rng.standard_normal((3 * H, D)),
        "W_hh": rng.standard_normal((3 * H, H)),
        "b_xh": rng.standard_normal(3 * H),
        "b_hh": rng.standard_normal(3 * H),
    }
    dh = rng.standard_normal((N, H))
    analytic = dict(zip(inputs, backward(dh, *inputs.values()), strict=True))
    check_gradients(lambda: step(*inputs.values()), inputs, analytic, dh)


BACKWARD_MISTAKES = [
    (lambda *a: backward(*a, direct=False), "misses the direct path"),
    (lambda *a: backward(*a, dz_sign=-1.0), "dz has the wrong sign"),
    (lambda *a: backward(*a, reset_hidden=False), "scaled by the reset gate"),
]


@pytest.mark.parametrize(("wrong", "message"), BACKWARD_MISTAKES)
def test_backward_mistakes_are_named_with_the_numerical_error(wrong, message: str) -> None:
    with pytest.raises(GradingFailure, match=message) as failure:
        check.gru_step_backward(wrong)
    assert "numerical gradient" in str(failure.value)


def test_backward_in_the_wrong_order_or_count_is_explained() -> None:
    with pytest.raises(GradingFailure, match="six gradients"):
        check.gru_step_backward(lambda *a: backward(*a)[:5])
    with pytest.raises(GradingFailure, match="dh_prev"):
        check.gru_step_backward(lambda *a: (lambda g: (g[0], g[1] * 1.01, *g[2:]))(backward(*a)))


# -- part 4 ------------------------------------------------------------------------------


#: The tanh step the notebook gives, defined as the sandbox defines it.
GIVEN_RNN_STEP = (defined_alone(given.rnn_step_forward), defined_alone(given.rnn_step_backward))
NAMES = ("W_xh", "W_hh", "b_xh", "b_hh", "W_out", "b_out")


def learner_curves(
    cell,
    x,
    y,
    H,
    steps,
    lr,
    seeds,
    *,
    sign=1.0,
    rng_factory=None,
    init_scale=None,
    step_functions=None,
    record_after_update=False,
    sum_over_time=True,
    carry_dh=True,
    train_readout=True,
    factor=2.0,
    reset_grads=True,
    in_place=False,
):
    """Training curves and initial weights as a learner's part 4 computes them, mistakes on request.

    ``step_functions`` replace the GRU's. With ``in_place`` the learner updates its weights with
    ``-=`` and returns the arrays it updated as the initial weights.
    """
    fwd = (lambda *a: step(*a)) if cell == "gru" else GIVEN_RNN_STEP[0]
    bwd = backward if cell == "gru" else GIVEN_RNN_STEP[1]
    if cell == "gru" and step_functions is not None:
        fwd, bwd = step_functions
    G = 3 if cell == "gru" else 1
    N, T, D = x.shape
    out, initial = [], []

    def loss(P, w, b):
        hs = [np.zeros((N, H))]
        for t in range(T):
            hs.append(fwd(x[:, t], hs[-1], *P))
        return hs, hs[-1] @ w.T + b - y

    for seed in seeds:
        gen = (rng_factory or np.random.default_rng)(seed)
        scale = init_scale or 1 / np.sqrt(H)
        P = [gen.uniform(-scale, scale, s) for s in ((G * H, D), (G * H, H), (G * H,), (G * H,))]
        w, b = gen.uniform(-scale, scale, (1, H)), np.zeros(1)
        initial.append(dict(zip(NAMES, [*P, w, b], strict=True)))
        losses = []
        total = [np.zeros_like(p) for p in P]

        for _ in range(steps):
            hs, err = loss(P, w, b)
            if not record_after_update:
                losses.append(float(np.mean(err**2)))
            dp = factor * err / N
            dh, grads = dp @ w, [np.zeros_like(p) for p in P]
            for t in reversed(range(T)):
                _, dh_prev, *g = bwd(dh, x[:, t], hs[t], *P)
                dh = dh_prev if carry_dh else dp @ w
                grads = [a + c for a, c in zip(grads, g, strict=True)] if sum_over_time else g
            if not reset_grads:
                grads = total = [a + c for a, c in zip(total, grads, strict=True)]
            if in_place:
                for p, g in zip(P, grads, strict=True):
                    p -= sign * lr * g
                if train_readout:
                    w -= sign * lr * (dp.T @ hs[-1])
                    b -= sign * lr * dp.sum(0)
            else:
                P = [p - sign * lr * g for p, g in zip(P, grads, strict=True)]
                if train_readout:
                    w, b = w - sign * lr * (dp.T @ hs[-1]), b - sign * lr * dp.sum(0)
            if record_after_update:
                losses.append(float(np.mean(loss(P, w, b)[1] ** 2)))
        out.append(losses)
    return np.array(out), initial


def test_the_course_curves_and_a_learner_style_run_pass() -> None:
    cases = graded_cases(check.TRAIN_LOSS_CURVES)
    values = [check.reference_curves(*case.args) for case in cases]
    assert verify_part(check.TRAIN_LOSS_CURVES, values, cases).passed
    check.train_loss_curves(learner_curves)


@pytest.mark.parametrize("shift", [100, 200])
def test_the_trend_check_passes_for_other_seeds_and_initialisations(shift: int) -> None:
    """Values depend on the draws; any correct answer must pass, whatever its seeds give."""
    for case in graded_cases(check.TRAIN_LOSS_CURVES):
        cell, x, y, H, steps, lr, seeds = case.args
        for scale in (None, 0.3, 1.0):  # 1.0: oscillates on some cases, but it is training
            run = learner_curves(cell, x, y, H, steps, lr, [s + shift for s in seeds], init_scale=scale)
            moved = Case(case.name, (cell, x, y, H, steps, lr, [s + shift for s in seeds]), case.hidden)
            assert check.TRAIN_LOSS_CURVES.verify(moved, plain(run)) is None, (case.name, scale)


def test_the_replay_accepts_rounding_of_another_order_and_refuses_a_curve_one_step_off() -> None:
    """The tolerance lies far above rounding and far below the smallest change training makes."""
    case = check.TRAIN_LOSS_CURVES.visible()[0]
    curves, initial = learner_curves(*case.args)
    # Rounding in another order of operations: every loss moved by a few units of float64
    # (the same for every row, so that equal seeds keep equal curves).
    signs = np.random.default_rng(0).choice([-1, 1], curves.shape[1])
    rounded = curves * (1 + 8 * np.finfo(float).eps * signs)
    assert check.TRAIN_LOSS_CURVES.verify(case, plain((rounded, initial))) is None
    # The smallest change a step of training makes to these curves, relative to their scale.
    smallest_step = np.abs(np.diff(curves, axis=1)).min() / np.abs(curves).max()
    assert smallest_step > 100 * check.REPLAY_TOLERANCE


class Unseeded:
    """np.random.default_rng that ignores its seed: a fresh stream on every call."""

    stream = np.random.default_rng(12345)

    def __call__(self, seed):
        return np.random.default_rng(self.stream.integers(1 << 30))


def fabricated(cell, x, y, H, steps, lr, seeds):
    """A curve no training produced: geometric decay from a first value that depends on the seed."""
    _, initial = learner_curves(cell, x, y, H, 1, lr, seeds)
    curves = []
    for weights in initial:
        first = float(np.mean(y**2)) + float(np.abs(weights["W_out"]).sum())
        curves.append(first * 0.9 ** np.arange(steps))
    return np.array(curves), initial


def fabricated_from_the_true_first_loss(cell, x, y, H, steps, lr, seeds):
    """The true first loss, then a made-up decay towards the loss of predicting the mean."""
    curves, initial = learner_curves(cell, x, y, H, steps, lr, seeds)
    floor = np.var(y)
    made_up = floor + (curves[:, :1] - floor) * 0.8 ** np.arange(steps)
    return made_up, initial


def same_initial_for_every_seed(*a):
    curves, initial = learner_curves(*a)
    return curves, [initial[0]] * len(initial)


TRAINING_MISTAKES = [
    (lambda *a: learner_curves(*a, sign=-1.0), "the loss grows during training"),
    (lambda *a: learner_curves(*a, rng_factory=Unseeded()), "same seed gave different curves"),
    (lambda *a: learner_curves(*a[:-1], [0] * len(a[-1])), "initial weights: the seed is not used"),
    (same_initial_for_every_seed, "initial weights: the seed is not used"),
    (lambda *a: (learner_curves(*a)[0].T, learner_curves(*a)[1]), "one row per seed"),
    (lambda *a: learner_curves(*a)[0], "returned only an array; return two things"),
    (lambda *a: learner_curves(*a, sign=0.0), "the loss hardly falls"),
    (lambda *a: learner_curves(*a, record_after_update=True), "recorded after each update"),
    (fabricated, "not those of training from the initial weights you returned: already the first loss"),
    (fabricated_from_the_true_first_loss, "not those of training from the initial weights you returned"),
    (lambda *a: learner_curves(*a, in_place=True), "lower than your last one, as trained weights do"),
    (lambda *a: learner_curves(*a, sum_over_time=False), "sums the gradients of every step"),
    (lambda *a: learner_curves(*a, carry_dh=False), "dh_prev of each step is not passed back"),
    (lambda *a: learner_curves(*a, train_readout=False), "the read-out W_out, b_out is not updated"),
    (lambda *a: learner_curves(*a, factor=1.0), "the factor 2 is missing"),
    (lambda *a: learner_curves(*a, reset_grads=False), "added to those of earlier steps"),
]


@pytest.mark.parametrize(("wrong", "message"), TRAINING_MISTAKES)
def test_training_mistakes_are_named(wrong, message: str) -> None:
    with pytest.raises(GradingFailure, match=re.escape(message)):
        check.train_loss_curves(wrong)


def test_a_made_up_curve_fails_however_it_was_made_up() -> None:
    """Curves of the right form that no training from the returned weights produced all fail."""
    case = check.TRAIN_LOSS_CURVES.visible()[0]
    curves, initial = learner_curves(*case.args)
    other_seed = learner_curves(*case.args[:-1], [s + 7 for s in case.args[-1]])[1]
    made_up = {
        "the curves of other initial weights": (curves, other_seed),
        "smoothed": (np.array([np.convolve(c, np.ones(3) / 3, mode="same") for c in curves]), initial),
        "scaled by 1.001": (curves * 1.001, initial),
        "one loss changed by 1e-4": (
            curves + (np.arange(curves.shape[1]) == 5) * 1e-4 * curves.max(),
            initial,
        ),
    }
    for name, answer in made_up.items():
        message = check.TRAIN_LOSS_CURVES.verify(case, plain(answer))
        assert message is not None and "not those of training" in message, name


def test_part_4_runs_with_correct_earlier_parts() -> None:
    namespace: dict = {"np": np}
    exec(
        "def gru_step_forward(*a):\n    return a[1] * 0\n"  # wrong on purpose
        "def gru_step_backward(*a):\n    raise ValueError('wrong on purpose')\n",
        namespace,
    )

    namespace["learner_curves_with"] = learner_curves_with
    exec("def run(*a):\n    return learner_curves_with(globals(), *a)\n", namespace)
    check.train_loss_curves(namespace["run"])
    assert namespace["gru_step_forward"].__code__.co_name == "gru_step_forward"


def learner_curves_with(namespace, cell, x, y, H, steps, lr, seeds):
    """A GRU training run that looks its step functions up in ``namespace`` at call time."""
    if cell != "gru":
        return learner_curves(cell, x, y, H, steps, lr, seeds)
    functions = (namespace["gru_step_forward"], namespace["gru_step_backward"])
    return learner_curves(cell, x, y, H, steps, lr, seeds, init_scale=0.5, step_functions=functions)


def test_calls_into_the_course_are_refused() -> None:
    from rnncourse.scratch import gru as course

    with pytest.raises(GradingFailure, match="earn no points"):
        check.gru_step_forward(lambda *a: course.gru_step_forward(*a)[0])
    with pytest.raises(GradingFailure, match="earn no points"):
        check.train_loss_curves(lambda *a: check.reference_curves(*a))
