"""Checks for exercise 5, the GRU: step forward, its backward, the other reset variant, a training run.

``PARTS`` lists the four parts (``parts.Part``), as in chapter 1: the notebook
imports this module as ``check`` and calls ``check.<part>(<function>)`` for the
visible cases; the autograder runs them and the hidden cases (their shapes
here, their values drawn from the instructor's secret at grading time) in
its sandbox and the same ``verify`` outside it.

Shapes: N batch, T steps, D inputs, H hidden units, S seeds. Gates are
stacked r, z, n on the rows of ``W_xh`` (3H, D) and ``W_hh`` (3H, H), with
two biases ``b_xh``, ``b_hh`` (3H,), as in ``torch.nn.GRU``.

Parts 1 to 3 compare with the course's reference to ``core.TOLERANCE``;
part 2's gradients are also checked against central differences of the
reference forward (``gradcheck.numerical_gradient``). Part 4 trains, so its
values depend on how the learner draws random numbers: it returns the
curves and the initial weights each seed drew, and is checked for shape,
reproducibility (the same seed gives the same run, another seed another
one) and trend (the loss falls); then each curve is compared with the
course's training replayed from the learner's own initial weights
(``replay_losses``), so that only a curve that training produced passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch05_gru as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.scratch.activations import sigmoid
from rnncourse.scratch.gru import gru_reset_before_step_forward as reference_reset_before
from rnncourse.scratch.gru import gru_step_backward as reference_step_backward
from rnncourse.scratch.gru import gru_step_forward as reference_step_forward

GRADIENT_NAMES = ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db_xh", "db_hh")
#: A learner's gradient may differ from central differences by this much (relative): the
#: differences themselves are accurate to about 1e-10 here, a wrong formula is off by 1e-3 or more.
NUMERICAL_TOLERANCE = 1e-6


def _step_args(seed: int, N: int, D: int, H: int) -> tuple[np.ndarray, ...]:
    """x_t (N, D), h_prev (N, H), W_xh (3H, D), W_hh (3H, H), b_xh, b_hh (3H,); weights scaled to 2/sqrt(H)."""
    p = core.float64_inputs(
        seed, x_t=(N, D), h_prev=(N, H), W_xh=(3 * H, D), W_hh=(3 * H, H), b_xh=(3 * H,), b_hh=(3 * H,)
    )
    scale = 2.0 / np.sqrt(H)
    return (2 * p["x_t"], p["h_prev"], scale * p["W_xh"], scale * p["W_hh"], p["b_xh"], p["b_hh"])


def step_cases(seed: int, shapes: Sequence[tuple[int, int, int]]) -> list[parts.Case]:
    """One case per (N, D, H): the six arguments of a GRU step, case i drawn with seed + i."""
    return [
        parts.Case(f"N={N}, D={D}, H={H}", _step_args(seed + i, N, D, H))
        for i, (N, D, H) in enumerate(shapes)
    ]


_VISIBLE_STEP = (0, ((3, 4, 5), (2, 3, 3)))
_HIDDEN_STEP = {
    "all sizes 1": (1, 1, 1),
    "batch 1": (1, 6, 4),
    "more inputs than hidden units": (4, 9, 2),
    "D = H": (5, 6, 6),
    "one hidden unit": (3, 2, 1),
}


def _visible_step() -> list[parts.Case]:
    return step_cases(*_VISIBLE_STEP)


def _pieces(x_t: np.ndarray, h_prev: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray,
            b_xh: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """The pre-activations of every block, input side and hidden side, for the named mistakes."""
    H = h_prev.shape[1]
    ax, ah = x_t @ W_xh.T + b_xh, h_prev @ W_hh.T + b_hh
    blocks = {}
    for k, gate in enumerate("rzn"):
        rows = slice(k * H, (k + 1) * H)
        blocks[f"x{gate}"], blocks[f"h{gate}"] = ax[:, rows], ah[:, rows]
        blocks[f"W{gate}"], blocks[f"b{gate}"] = W_hh[rows], b_hh[rows]
    return blocks


def _mix(z: np.ndarray, n: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    return (1 - z) * n + z * h_prev


# -- Part 1: one step in torch's convention ------------------------------------------


def _reference_step(*args: np.ndarray) -> np.ndarray:
    return reference_step_forward(*args)[0]


def _step_result(name: str, case: parts.Case, result: object) -> np.ndarray:
    """The h_t a step function returned, checked for errors, tuples, shape and values."""
    parts.raise_if_error(name, result, case)
    N, H = case.args[1].shape
    if isinstance(result, tuple):
        raise core.GradingFailure(f"{name} returned a tuple; return only h_t, an array of shape {(N, H)}.")
    return core.check_array(result, name, (N, H), "the new hidden state h_t (N, H)")


def _gates(p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(r_t, z_t) from the step's pre-activations."""
    return sigmoid(p["xr"] + p["hr"]), sigmoid(p["xz"] + p["hz"])


def _run_step_part(
    part: parts.Part,
    fn: Callable[..., np.ndarray],
    seed: int | None,
    shapes: Sequence[tuple[int, int, int]] | None,
) -> None:
    """A step part on its visible cases, or on the learner's own seed or (N, D, H) shapes."""
    cases = None
    if seed is not None or shapes is not None:
        cases = step_cases(
            _VISIBLE_STEP[0] if seed is None else seed, _VISIBLE_STEP[1] if shapes is None else shapes
        )
    parts.run_part_in_process(part, fn, cases=cases)


@parts.verifier
def _verify_step(case: parts.Case, result: object) -> None:
    name = "gru_step_forward"
    result = _step_result(name, case, result)
    x_t, h_prev, W_xh, W_hh, b_xh, b_hh = case.args
    p = _pieces(*case.args)
    r, z = _gates(p)
    n = np.tanh(p["xn"] + r * p["hn"])
    z_swapped = sigmoid(p["xr"] + p["hr"])  # blocks read in the order z, r, n
    r_swapped = sigmoid(p["xz"] + p["hz"])
    mistakes = {
        "the reset gate is applied to h_{t-1} before the product with W_hn (the other variant); "
        "torch's convention multiplies r_t with (W_hn h_{t-1} + b_hn)": _mix(
            z, np.tanh(p["xn"] + (r * h_prev) @ p["Wn"].T + p["bn"]), h_prev
        ),
        "the update gate's roles are swapped: in torch's convention z_t keeps the old state, "
        "h_t = (1 - z_t) n_t + z_t h_{t-1}": z * n + (1 - z) * h_prev,
        "b_hn is added outside the reset; it belongs inside: r_t * (W_hn h_{t-1} + b_hn)": _mix(
            z, np.tanh(p["xn"] + r * (p["hn"] - p["bn"]) + p["bn"]), h_prev
        ),
        "the gates are read in the wrong order: the rows of W_xh and W_hh are stacked r, z, n "
        "(reset first, then update)": _mix(z_swapped, np.tanh(p["xn"] + r_swapped * p["hn"]), h_prev),
        "the candidate uses sigmoid; it is tanh": _mix(z, sigmoid(p["xn"] + r * p["hn"]), h_prev),
        "the hidden bias b_hh is missing": _reference_step(x_t, h_prev, W_xh, W_hh, b_xh, 0 * b_hh),
        "the reset gate is missing from the candidate": _mix(z, np.tanh(p["xn"] + p["hn"]), h_prev),
        "h_t is the candidate alone; mix it with h_{t-1}: (1 - z_t) n_t + z_t h_{t-1}": n,
    }
    core.compare(result, _reference_step(*case.args), name, mistakes)


GRU_STEP_FORWARD = parts.Part(
    grade_id="test_gru_step_forward",
    function="gru_step_forward",
    title="Part 1: one GRU step, torch's convention",
    points=3,
    visible=_visible_step,
    verify=_verify_step,
    hidden=parts.hidden_from(step_cases, _HIDDEN_STEP),
    parameters=("x_t", "h_prev", "W_xh", "W_hh", "b_xh", "b_hh"),
)


def gru_step_forward(
    fn: Callable[..., np.ndarray],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """``gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh)`` -> h_t (N, H); or your own (N, D, H) shapes."""
    _run_step_part(GRU_STEP_FORWARD, fn, seed, shapes)


# -- Part 2: the backward of one step ------------------------------------------------


def backward_cases(seed: int, shapes: Sequence[tuple[int, int, int]]) -> list[parts.Case]:
    """``gru_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh)`` for each (N, D, H)."""
    cases = []
    for i, (N, D, H) in enumerate(shapes):
        dh_t = core.float64_inputs(seed + 1000 + i, dh_t=(N, H))["dh_t"]
        cases.append(parts.Case(f"N={N}, D={D}, H={H}", (dh_t, *_step_args(seed + i, N, D, H))))
    return cases


def _visible_backward() -> list[parts.Case]:
    return backward_cases(*_VISIBLE_STEP)


def reference_backward(dh_t: np.ndarray, *args: np.ndarray) -> tuple[np.ndarray, ...]:
    """The course's gradients: dx_t, dh_prev, dW_xh, dW_hh, db_xh, db_hh."""
    _, cache = reference_step_forward(*args)
    return reference_step_backward(dh_t, cache)


def numerical_gradients(dh_t: np.ndarray, *args: np.ndarray) -> tuple[np.ndarray, ...]:
    """Central differences of ``sum(dh_t * h_t)`` for every argument of the reference forward."""
    inputs = [a.copy() for a in args]
    return tuple(numerical_gradient(lambda: _reference_step(*inputs), x, dh_t) for x in inputs)


def _backward_mistakes(dh_t: np.ndarray, *args: np.ndarray) -> dict[str, tuple[np.ndarray, ...]]:
    """What typical mistakes return, all six gradients each."""
    x_t, h_prev, W_xh, W_hh, _, b_hh = args
    H = h_prev.shape[1]
    _, c = reference_step_forward(*args)
    r, z, n, hn = c.r, c.z, c.n, c.hn

    def assemble(da_r: np.ndarray, da_z: np.ndarray, da_n: np.ndarray, da_hn: np.ndarray,
                 direct: np.ndarray) -> tuple[np.ndarray, ...]:  # fmt: skip
        dax = np.concatenate([da_r, da_z, da_n], axis=1)
        dah = np.concatenate([da_r, da_z, da_hn], axis=1)
        return (dax @ W_xh, direct + dah @ W_hh, dax.T @ x_t, dah.T @ h_prev, dax.sum(0), dah.sum(0))

    da_n = dh_t * (1 - z) * (1 - n**2)
    da_r = da_n * hn * r * (1 - r)
    da_z = dh_t * (h_prev - n) * z * (1 - z)
    return {
        "dz has the wrong sign: h_t = (1 - z) n + z h_{t-1}, so dL/dz = dh_t * (h_{t-1} - n_t)": assemble(
            da_r, -da_z, da_n, da_n * r, dh_t * z
        ),
        "dh_prev misses the direct path: h_{t-1} also reaches h_t through z_t * h_{t-1}, "
        "which adds dh_t * z_t": assemble(da_r, da_z, da_n, da_n * r, 0 * dh_t),
        "the hidden side of the candidate is scaled by the reset gate: its gradient is "
        "da_n * r_t (in dW_hh, db_hh and dh_prev), not da_n": assemble(da_r, da_z, da_n, da_n, dh_t * z),
        "the reset gate's gradient leaves out b_hn: dr = da_n * (W_hn h_{t-1} + b_hn)": assemble(
            da_n * (hn - b_hh[2 * H :]) * r * (1 - r), da_z, da_n, da_n * r, dh_t * z
        ),
        "the tanh derivative is missing from the candidate: da_n = dn * (1 - n_t^2)": assemble(
            dh_t * (1 - z) * hn * r * (1 - r), da_z, dh_t * (1 - z), dh_t * (1 - z) * r, dh_t * z
        ),
    }


@parts.verifier
def _verify_backward(case: parts.Case, result: object) -> None:
    name = "gru_step_backward"
    parts.raise_if_error(name, result, case)
    dh_t, *args = case.args
    if not isinstance(result, (tuple, list)) or len(result) != 6:
        count = f" of {len(result)} items" if isinstance(result, (tuple, list)) else ""
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}{count}; return the six gradients "
            "dx_t, dh_prev, dW_xh, dW_hh, db_xh, db_hh, in this order."
        )
    expected = reference_backward(dh_t, *args)
    numeric = numerical_gradients(dh_t, *args)
    mistakes = _backward_mistakes(dh_t, *args)
    for k, grad_name in enumerate(GRADIENT_NAMES):
        shape = expected[k].shape
        got = core.check_array(result[k], f"{name} ({grad_name})", shape, f"{grad_name}, shape {shape}")
        if rel_error(got, expected[k]) < 1e-10:
            continue
        named = {description: wrong[k] for description, wrong in mistakes.items() if wrong[k].shape == shape}
        against_numeric = rel_error(got, numeric[k])
        if against_numeric < NUMERICAL_TOLERANCE:
            continue  # agrees with central differences: right, however it was computed
        try:
            core.compare(got, expected[k], f"{name} ({grad_name})", named)
        except core.GradingFailure as failure:
            raise core.GradingFailure(
                f"{failure} It differs from the numerical gradient (central differences) "
                f"by a relative error of {against_numeric:.1e}."
            ) from None


GRU_STEP_BACKWARD = parts.Part(
    grade_id="test_gru_step_backward",
    function="gru_step_backward",
    title="Part 2: the backward of one GRU step",
    points=4,
    visible=_visible_backward,
    hidden=parts.hidden_from(backward_cases, _HIDDEN_STEP),
    verify=_verify_backward,
    parameters=("dh_t", "x_t", "h_prev", "W_xh", "W_hh", "b_xh", "b_hh"),
)


def gru_step_backward(
    fn: Callable[..., tuple[np.ndarray, ...]],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """``gru_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh)`` -> the six gradients."""
    cases = None
    if seed is not None or shapes is not None:
        cases = backward_cases(
            _VISIBLE_STEP[0] if seed is None else seed, _VISIBLE_STEP[1] if shapes is None else shapes
        )
    parts.run_part_in_process(GRU_STEP_BACKWARD, fn, cases=cases)


# -- Part 3: the other variant, reset before the product ------------------------------


def _reference_reset_before(*args: np.ndarray) -> np.ndarray:
    return reference_reset_before(*args)[0]


@parts.verifier
def _verify_reset_before(case: parts.Case, result: object) -> None:
    name = "gru_reset_before_step_forward"
    result = _step_result(name, case, result)
    h_prev = case.args[1]
    p = _pieces(*case.args)
    r, z = _gates(p)
    reset_h = (r * h_prev) @ p["Wn"].T
    mistakes = {
        "this is torch's variant (the reset multiplies W_hn h_{t-1} + b_hn, after the product); "
        "here it multiplies h_{t-1} before it: W_hn (r_t * h_{t-1})": _reference_step(*case.args),
        "b_hn is missing: W_hn (r_t * h_{t-1}) + b_hn": _mix(z, np.tanh(p["xn"] + reset_h), h_prev),
        "b_hn is scaled by the reset gate; in this variant only h_{t-1} is reset: "
        "W_hn (r_t * h_{t-1}) + b_hn": _mix(z, np.tanh(p["xn"] + reset_h + r * p["bn"]), h_prev),
        "the update gate's roles are swapped: z_t keeps the old state, h_t = (1 - z_t) n_t + z_t h_{t-1}": z
        * np.tanh(p["xn"] + reset_h + p["bn"])
        + (1 - z) * h_prev,
        "the reset is applied to h_{t-1} transposed: use (r_t * h_{t-1}) @ W_hn.T": _mix(
            z, np.tanh(p["xn"] + (r * h_prev) @ p["Wn"] + p["bn"]), h_prev
        ),
    }
    core.compare(result, _reference_reset_before(*case.args), name, mistakes)


GRU_RESET_BEFORE = parts.Part(
    grade_id="test_gru_reset_before_step_forward",
    function="gru_reset_before_step_forward",
    title="Part 3: the other variant, reset before the product",
    points=3,
    visible=_visible_step,
    verify=_verify_reset_before,
    hidden=parts.hidden_from(step_cases, _HIDDEN_STEP),
    parameters=("x_t", "h_prev", "W_xh", "W_hh", "b_xh", "b_hh"),
)


def gru_reset_before_step_forward(
    fn: Callable[..., np.ndarray],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """``gru_reset_before_step_forward(...)`` -> h_t (N, H), the same arguments as part 1."""
    _run_step_part(GRU_RESET_BEFORE, fn, seed, shapes)


def variants_differ(
    forward: Callable[..., np.ndarray], reset_before: Callable[..., np.ndarray], seed: int = 0
) -> float:
    """The relative difference between two step functions on the same inputs (a test that tells them apart)."""
    args = _step_args(seed, 3, 4, 5)
    return rel_error(np.asarray(forward(*args)), np.asarray(reset_before(*args)))


# -- Part 4: a training run, replayed from the initial weights it returns ---------------


CELL_GATES = {"gru": 3, "rnn": 1}
#: The last fifth of a curve must average below this multiple of the best constant
#: prediction's loss, Var(y) (plus ``TREND_SLACK``), or below ``TREND_FRACTION`` of its first loss.
#: Gradient descent learns the read-out's bias, hence the mean of y, within a few
#: steps at these learning rates; a run that does not learn stays at its first loss,
#: which with a random read-out lies far above Var(y).
TREND_BASELINE = 1.1
TREND_SLACK = 1e-3
TREND_FRACTION = 0.6
#: Rises are counted on the running mean over this many steps.
SMOOTHING = 4
#: The smoothed curve may go up from one step to the next on at most this fraction of its steps.
RISES_ALLOWED = 0.34


def training_data(seed: int, N: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """A small adding problem: x (N, T, 2) with values and two markers, y (N, 1) the sum of the marked values."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (N, T))
    markers = np.zeros((N, T))
    rows = np.arange(N)
    first = rng.integers(0, max(T // 2, 1), N)
    second = rng.integers(T // 2, T, N) if T > 1 else first
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values[rows, first] + np.where(second != first, values[rows, second], 0.0))[:, None]
    return np.stack([values, markers], axis=2), y


TrainingSpec = tuple[str, int, int, int, int, float, Sequence[int]]  # cell, N, T, H, steps, lr, seeds


def training_cases(specs: Sequence[TrainingSpec], data_seed: int) -> list[parts.Case]:
    """``train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds)`` per (cell, N, T, H, steps, lr, seeds)."""
    cases = []
    for i, (cell, N, T, H, steps, lr, seeds) in enumerate(specs):
        x, y = training_data(data_seed + i, N, T)
        name = f"{cell}, N={N}, T={T}, H={H}, {steps} steps, seeds {list(seeds)}"
        cases.append(parts.Case(name, (cell, x, y, H, steps, lr, list(seeds))))
    return cases


def _training_draw(spec: TrainingSpec) -> parts.Draw:
    """The spec's data drawn anew, and its seeds replaced by drawn ones with the same repeats."""
    cell, N, T, H, steps, lr, seeds = spec

    def draw(rng: np.random.Generator) -> tuple[Any, ...]:
        x, y = training_data(parts.seed_of(rng), N, T)
        distinct = list(dict.fromkeys(seeds))
        drawn = rng.choice(10**6, size=len(distinct), replace=False)
        renamed = {seed: int(new) for seed, new in zip(distinct, drawn)}
        return cell, x, y, H, steps, lr, [renamed[seed] for seed in seeds]

    return draw


_VISIBLE_TRAINING = (
    ("gru", 16, 4, 4, 30, 0.2, (0, 0, 1)),
    ("rnn", 16, 4, 4, 30, 0.1, (3, 3, 4)),
)
_HIDDEN_TRAINING = {
    "gru, batch 1": ("gru", 1, 4, 3, 25, 0.2, (5, 6, 5)),
    "gru, length 1": ("gru", 8, 1, 3, 25, 0.2, (2, 2, 7)),
    "gru, one hidden unit, 4 seeds": ("gru", 12, 5, 1, 30, 0.2, (9, 8, 9, 8)),
    "rnn, 7 steps long": ("rnn", 10, 7, 5, 25, 0.1, (1, 2, 1)),
}


def _visible_training() -> list[parts.Case]:
    return training_cases(_VISIBLE_TRAINING, 600)


#: The initial weights a run returns for each seed, in the order of the step's arguments, then the read-out's.
PARAMETER_NAMES = ("W_xh", "W_hh", "b_xh", "b_hh", "W_out", "b_out")
#: A learner's curve must equal the replay of its training to this much (relative to the curve's
#: largest loss). Rounding in another order of operations moves a 30-step curve by about 1e-15
#: of its scale; a loss recorded one step late, or any other training, moves it by 1e-3 or more.
REPLAY_TOLERANCE = 1e-6


def initial_shapes(cell: str, D: int, H: int) -> dict[str, tuple[int, ...]]:
    """The shape of each initial weight of a ``cell`` ("gru" or "rnn") network with D inputs and H units."""
    G = CELL_GATES[cell]
    shapes = ((G * H, D), (G * H, H), (G * H,), (G * H,), (1, H), (1,))
    return dict(zip(PARAMETER_NAMES, shapes, strict=True))


def draw_initial(cell: str, D: int, H: int, seed: int) -> dict[str, np.ndarray]:
    """The course's initial weights for one seed: uniform in +-1/sqrt(H), as torch draws them; b_out = 0."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    shapes = initial_shapes(cell, D, H)
    initial = {name: rng.uniform(-bound, bound, shapes[name]) for name in PARAMETER_NAMES[:5]}
    return initial | {"b_out": np.zeros(1)}


#: Training slips whose losses ``replay_losses`` reproduces, for the messages that name them.
TRAINING_SLIPS = {
    "accumulated": "the gradients of each step are added to those of earlier steps: start every step's "
    "sums at zero",
    "last step only": "each weight's gradient is that of one step of the sequence only: backpropagation "
    "through time sums the gradients of every step t = T, ..., 1",
    "dh not carried": "the gradient dh_prev of each step is not passed back: the step at t - 1 must "
    "receive the dh_prev that the step at t returned",
    "read-out frozen": "the read-out W_out, b_out is not updated: it is trained like every other weight",
    "half gradient": "the gradient of the mean squared error is 2 * (pred - y) / N (the factor 2 is missing)",
}


def replay_losses(
    cell: str,
    x: np.ndarray,
    y: np.ndarray,
    steps: int,
    learning_rate: float,
    initial: Mapping[str, np.ndarray],
    slip: str | None = None,
) -> np.ndarray:
    """Full-batch gradient descent from ``initial``: the loss before each of ``steps`` updates, then after the last.

    The network reads ``x`` (N, T, D) from h_0 = 0 with the course's step forward and backward of
    ``cell``, predicts ``h_T W_out^T + b_out`` and is trained on the mean squared error against ``y``
    (N, 1). ``initial`` maps each of ``PARAMETER_NAMES`` to its array. ``slip`` (a key of
    ``TRAINING_SLIPS``) trains with that mistake instead.

    Returns:
        (steps + 1,) losses: entry k is the loss after k updates.
    """
    forward, backward = (
        (_reference_step, reference_backward)
        if cell == "gru"
        else (correct.rnn_step_forward, correct.rnn_step_backward)
    )
    N, T, _ = x.shape
    params = [np.array(initial[name], dtype=float) for name in PARAMETER_NAMES[:4]]
    w_out = np.array(initial["W_out"], dtype=float).reshape(1, -1)
    b_out = np.array(initial["b_out"], dtype=float).reshape(1)
    H = w_out.shape[1]
    carried = [np.zeros_like(p) for p in params]
    losses = np.zeros(steps + 1)
    for step in range(steps + 1):
        states = [np.zeros((N, H))]
        for t in range(T):
            states.append(forward(x[:, t], states[-1], *params))
        error = states[-1] @ w_out.T + b_out - y  # (N, 1)
        losses[step] = np.mean(error**2)
        if step == steps:
            break
        d_pred = (1 if slip == "half gradient" else 2) * error / N
        grads = [np.zeros_like(p) for p in params]
        dh = d_pred @ w_out
        for t in reversed(range(T)):
            _, dh_prev, *dparams = backward(dh, x[:, t], states[t], *params)
            dh = d_pred @ w_out if slip == "dh not carried" else dh_prev
            grads = list(dparams) if slip == "last step only" else [g + d for g, d in zip(grads, dparams)]
        if slip == "accumulated":
            grads = carried = [c + g for c, g in zip(carried, grads, strict=True)]
        d_w_out, d_b_out = d_pred.T @ states[-1], d_pred.sum(0)
        params = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
        if slip != "read-out frozen":
            w_out, b_out = w_out - learning_rate * d_w_out, b_out - learning_rate * d_b_out
    return losses


def reference_curves(
    cell: str,
    x: np.ndarray,
    y: np.ndarray,
    hidden_size: int,
    steps: int,
    learning_rate: float,
    seeds: Sequence[int],
) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """The course's ``train_loss_curves``: (S, steps) full-batch losses, and each seed's initial weights.

    Used to test the check (its curves pass), never as the expected values:
    another correct answer draws its initial weights in another order.
    """
    initial = [draw_initial(cell, x.shape[2], hidden_size, seed) for seed in seeds]
    curves = [replay_losses(cell, x, y, steps, learning_rate, weights)[:steps] for weights in initial]
    return np.array(curves).reshape(len(seeds), steps), initial


def _run(case: parts.Case, s: int) -> str:
    """How messages name run ``s``: its place in ``seeds``, and its seed when the case is visible."""
    seeds = case.args[6]
    return f"seeds[{s}]" if case.hidden else f"seeds[{s}] = {seeds[s]}"


def _training_result(case: parts.Case, result: object) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """The curves (S, steps) and the initial weights of each seed, checked for their form."""
    name = "train_loss_curves"
    cell, x, _, H, steps, _, seeds = case.args
    S = len(seeds)
    returns = (
        "return two things, `curves, initial`: the losses, shape (len(seeds), steps), and a list "
        f"with, for each seed, a dict of the weights its run started from ({', '.join(PARAMETER_NAMES)})."
    )
    if isinstance(result, np.ndarray):
        raise core.GradingFailure(f"{name} returned only an array; {returns}")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        count = f" of {len(result)} items" if isinstance(result, (tuple, list)) else ""
        raise core.GradingFailure(f"{name} returned {core.type_name(result)}{count}; {returns}")
    curves, initial = result
    if isinstance(curves, np.ndarray) and curves.shape == (steps, S) and steps != S:
        raise core.GradingFailure(
            f"{name} returned curves of shape {curves.shape}: one row per seed, (len(seeds), steps)."
        )
    if isinstance(curves, np.ndarray) and curves.shape == (steps,):
        raise core.GradingFailure(
            f"{name} returned one curve; return one row per seed, shape (len(seeds), steps)."
        )
    curves = core.check_array(curves, name, (S, steps), "the losses, one row per seed")
    if not isinstance(initial, (list, tuple)) or len(initial) != S:
        raise core.GradingFailure(
            f"{name} returned {core.type_name(initial)} as its initial weights; {returns} Here that list has "
            f"{S} dicts."
        )
    shapes = initial_shapes(cell, x.shape[2], H)
    weights = []
    for s, drawn in enumerate(initial):
        if not isinstance(drawn, dict) or set(drawn) != set(PARAMETER_NAMES):
            keys = f"the keys {sorted(drawn)}" if isinstance(drawn, dict) else core.type_name(drawn)
            raise core.GradingFailure(
                f"{name}: the initial weights of {_run(case, s)} are {keys}; give a dict with the keys "
                f"{', '.join(PARAMETER_NAMES)}."
            )
        checked = {}
        for key, shape in shapes.items():
            value = drawn[key]
            if (
                key in ("W_out", "b_out")
                and isinstance(value, np.ndarray)
                and value.size == int(np.prod(shape))
            ):
                value = value.reshape(shape)  # (H,) or (H, 1) for W_out, () for b_out: the same numbers
            if key == "b_out" and isinstance(value, (int, float)):
                value = np.full(1, float(value))
            checked[key] = core.check_array(value, f"{name} (initial {key})", shape, f"the initial {key}")
        weights.append(checked)
    return curves, weights


def _same_weights(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    return all(np.array_equal(a[key], b[key]) for key in PARAMETER_NAMES)


def _check_seeds(case: parts.Case, curves: np.ndarray, initial: list[dict[str, np.ndarray]]) -> None:
    """The same seed gives the same run, another seed another one."""
    name, seeds = "train_loss_curves", case.args[6]
    for i in range(len(seeds)):
        for j in range(i + 1, len(seeds)):
            same_weights = _same_weights(initial[i], initial[j])
            same_curve = np.array_equal(curves[i], curves[j])
            if seeds[i] == seeds[j] and not (same_curve and same_weights):
                what = "curves" if not same_curve else "initial weights"
                raise core.GradingFailure(
                    f"{name}: two runs with the same seed gave different {what}. Draw every random number "
                    "from one generator made inside the function for each seed, "
                    "rng = np.random.default_rng(seed), and nothing from np.random's global state."
                )
            if seeds[i] != seeds[j] and same_weights:
                raise core.GradingFailure(
                    f"{name}: {_run(case, i)} and {_run(case, j)} gave the same initial weights: the seed is "
                    "not used. Draw the initial weights from rng = np.random.default_rng(seed)."
                )
            if seeds[i] != seeds[j] and same_curve:
                raise core.GradingFailure(
                    f"{name}: {_run(case, i)} and {_run(case, j)} gave the same curve: the seed is not used. "
                    "Draw the initial weights from np.random.default_rng(seed)."
                )


def _check_trend(case: parts.Case, curves: np.ndarray) -> None:
    """The loss falls, mostly monotonically, to below the loss of predicting the mean of y."""
    name = "train_loss_curves"
    steps, S = case.args[4], len(case.args[6])
    first, tail = curves[:, 0], curves[:, -max(steps // 5, 1) :].mean(axis=1)
    if np.any(tail > first * 1.05):
        raise core.GradingFailure(
            f"{name}: the loss grows during training. The update must go against the gradient: "
            "p = p - learning_rate * dp (and the gradients of each step must be computed afresh, not added "
            "to those of earlier steps)."
        )
    y = np.asarray(case.args[2])
    baseline = float(np.mean((y - y.mean()) ** 2))  # the loss of predicting the mean of y
    if np.any(tail > np.maximum(TREND_BASELINE * baseline + TREND_SLACK, TREND_FRACTION * first)):
        raise core.GradingFailure(
            f"{name}: the loss hardly falls (by the end it should be below the loss of predicting "
            "the mean of y, which the read-out's bias alone learns in a few steps). Check that every "
            "parameter, the read-out's too, is updated, that the loss is recorded before each step's "
            "update, and that the gradient of the mean over the batch is 2 * (pred - y) / N."
        )
    # A mostly monotone trend: the running mean over SMOOTHING steps falls on most steps
    # (a correct run may oscillate a little when its initial weights are large).
    width = min(SMOOTHING, steps)
    smooth = np.stack([np.convolve(row, np.ones(width) / width, mode="valid") for row in curves])
    rises = np.mean(np.diff(smooth, axis=1) > 0, axis=1) if smooth.shape[1] > 1 else np.zeros(S)
    if np.any(rises > RISES_ALLOWED):
        raise core.GradingFailure(
            f"{name}: the loss goes up on {rises.max():.0%} of the steps (averaged over {width} steps); "
            "full-batch gradient descent with "
            "this learning rate should fall almost every step. Check the gradients' signs and that each "
            "step uses the weights updated by the step before."
        )


def _deviation(curve: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """How far each loss of ``curve`` lies from ``losses``, relative to the larger curve's scale."""
    scale = max(float(np.abs(losses).max()), float(np.abs(curve).max()), np.finfo(float).tiny)
    return np.abs(curve - losses) / scale


def _agrees(curve: np.ndarray, losses: np.ndarray) -> bool:
    """Whether ``curve`` equals ``losses`` to ``REPLAY_TOLERANCE`` (NaN or infinite losses never agree)."""
    return bool(np.all(np.isfinite(losses)) and np.all(_deviation(curve, losses) <= REPLAY_TOLERANCE))


def _not_trained(case: parts.Case, s: int) -> str:
    return (
        f"train_loss_curves: the losses of {_run(case, s)} are not those of training from the initial "
        "weights you returned"
    )


def _check_slips(
    case: parts.Case, curve: np.ndarray, initial: Mapping[str, np.ndarray], replay: np.ndarray, s: int
) -> None:
    """Fail if ``curve`` is a known slip's training from ``initial`` (``replay`` is the right one)."""
    cell, x, y, _, steps, learning_rate, _ = case.args
    if _agrees(curve, replay[:steps]):
        return
    if _agrees(curve, replay[1:]):
        raise core.GradingFailure(
            f"train_loss_curves: the losses of {_run(case, s)} are recorded after each update (your "
            "curve is the training's shifted by one step). Record the loss of each step before its "
            "update: forward, loss, backward, then update."
        )
    with np.errstate(all="ignore"):
        slips = {
            slip: replay_losses(cell, x, y, steps, learning_rate, initial, slip) for slip in TRAINING_SLIPS
        }
    named = [TRAINING_SLIPS[slip] for slip, losses in slips.items() if _agrees(curve, losses[:steps])]
    if named:
        raise core.GradingFailure(f"{_not_trained(case, s)}. Likely mistake: {'; or '.join(named)}.")


def _check_replay(case: parts.Case, curve: np.ndarray, replay: np.ndarray, s: int) -> None:
    """Fail, saying where, unless ``curve`` is ``replay[:steps]``, the training from the returned weights."""
    steps = case.args[4]
    if _agrees(curve, replay[:steps]):
        return
    start = _not_trained(case, s)
    if not np.all(np.isfinite(replay)):
        raise core.GradingFailure(
            f"{start}: training from them overflows to NaN or infinity, and your losses stay finite. "
            "Return the weights each run started from."
        )
    deviation = _deviation(curve, replay[:steps])
    if deviation[0] > REPLAY_TOLERANCE:
        if replay[0] <= curve[-1]:
            loss = "" if case.hidden else f" ({replay[0]:.4g})"
            raise core.GradingFailure(
                f"{start}: those weights give a loss{loss} lower than your last one, as trained weights "
                "do. Return copies of the weights made before the first update (arrays that later "
                "updates do not change: update with W = W - learning_rate * dW, not W -= ..., and do "
                "not keep the dict you update)."
            )
        losses = (
            "" if case.hidden else f" (yours is {curve[0]:.4g}, your initial weights give {replay[0]:.4g})"
        )
        raise core.GradingFailure(
            f"{start}: already the first loss differs{losses}. Return the weights each run started "
            "from, and record the loss of the predictions h_T W_out^T + b_out, "
            "np.mean((pred - y) ** 2), before each update."
        )
    differs = int(np.flatnonzero(deviation > REPLAY_TOLERANCE)[0])
    raise core.GradingFailure(
        f"{start}: they agree up to the loss after {differs - 1} updates, not after {differs}. Train all "
        "six weights by full-batch gradient descent, p = p - learning_rate * dp, with the gradients of "
        "backpropagation through time, and compute each curve by training, not by formula."
    )


@parts.verifier
def _verify_training(case: parts.Case, result: object) -> None:
    parts.raise_if_error("train_loss_curves", result, case)
    curves, initial = _training_result(case, result)
    if np.any(curves < 0):
        raise core.GradingFailure(
            "train_loss_curves: a mean squared error is never negative; record np.mean((pred - y) ** 2)."
        )
    _check_seeds(case, curves, initial)
    cell, x, y, _, steps, learning_rate, _ = case.args
    with np.errstate(all="ignore"):  # weights that make the training overflow are named below
        replays = [replay_losses(cell, x, y, steps, learning_rate, weights) for weights in initial]
    if all(_agrees(curve, replay[:steps]) for curve, replay in zip(curves, replays, strict=True)):
        return  # training produced these curves, whatever initialisation the learner chose
    # Not the training from the returned weights: first a known slip's training, ...
    for s, (curve, replay) in enumerate(zip(curves, replays, strict=True)):
        _check_slips(case, curve, initial[s], replay, s)
    # ... then the mistakes a curve's trend shows, then where the curve departs from the training.
    _check_trend(case, curves)
    for s, (curve, replay) in enumerate(zip(curves, replays, strict=True)):
        _check_replay(case, curve, replay, s)


TRAIN_LOSS_CURVES = parts.Part(
    grade_id="test_train_loss_curves",
    function="train_loss_curves",
    title="Part 4: a seeded training run",
    points=4,
    visible=_visible_training,
    hidden={name: _training_draw(spec) for name, spec in _HIDDEN_TRAINING.items()},
    verify=_verify_training,
    substitutes={
        "gru_step_forward": source_of(correct.gru_step_forward),
        "gru_step_backward": source_of(correct.gru_step_backward),
    },
    parameters=("cell", "x", "y", "hidden_size", "steps", "learning_rate", "seeds"),
)


def train_loss_curves(
    fn: Callable[..., tuple[np.ndarray, list[dict[str, np.ndarray]]]],
    specs: Sequence[TrainingSpec] | None = None,
) -> None:
    """``train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds)`` -> ``curves, initial``.

    ``curves`` is (len(seeds), steps); ``initial[s]`` is the dict of seed s's initial weights
    (``PARAMETER_NAMES``). The check trains again from those weights and compares. ``specs`` lists
    your own cases as (cell, N, T, H, steps, learning_rate, seeds). While it runs, your
    ``gru_step_forward`` and ``gru_step_backward`` are replaced by correct ones.
    """
    cases = None if specs is None else training_cases(specs, 600)
    parts.run_part_in_process(TRAIN_LOSS_CURVES, fn, cases=cases)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [GRU_STEP_FORWARD, GRU_STEP_BACKWARD, GRU_RESET_BEFORE, TRAIN_LOSS_CURVES]
