"""Checks for exercise 4, the LSTM: step forward, step backward, padded sequences, torch's weights,
and the backward over a sequence.

``PARTS`` lists the five parts (``parts.Part``), as in chapter 1: the nbgrader
test cell each scores, the learner's function, deterministic float64 visible
cases, the hidden cases' shapes (length 1, batch 1, padded batches, one hidden
unit, several layers; their values drawn from the instructor's secret at
grading time) and ``verify``, which the autograder runs outside the sandbox.
The notebook imports this module as ``check`` and calls ``check.<part>(fn)``.

References: the forward passes are the course's NumPy LSTM
(``rnncourse.scratch.lstm``, ``rnncourse.scratch.recurrent``, ``rnncourse.porting``),
proven equal to ``torch.nn.LSTM`` in ``tests/test_porting.py`` and
``tests/grading/test_ch04_lstm_checks.py``. The backward is checked against
central differences of the forward (a numerical gradient, not the course's
backward), to ``GRADIENT_TOLERANCE``; the analytic variants only name mistakes.
So is the backward over a sequence (part 5), against central differences of the
sequence's forward.
Shapes: N batch, T steps, D inputs, H hidden units, L layers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rnncourse.gradcheck import numerical_gradient
from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch04_lstm as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.porting import reorder_gates, stacked_from_torch
from rnncourse.scratch.activations import sigmoid
from rnncourse.scratch.lstm import LSTMStepCache, lstm_step_backward, lstm_step_forward
from rnncourse.scratch.recurrent import RecurrentLayer, State

#: Central differences (eps = 1e-5) of these smooth functions are exact to about 1e-10
#: relative to the gradient's scale; a wrong formula is off by 1e-3 or more.
GRADIENT_TOLERANCE = 1e-7


def _tuple_of(name: str, result: object, count: int, what: str) -> tuple[Any, ...]:
    if isinstance(result, np.ndarray):
        raise core.GradingFailure(f"{name} returned one array; return {count} values: {what}.")
    if not isinstance(result, (tuple, list)) or len(result) != count:
        size = f" of {len(result)} items" if isinstance(result, (tuple, list)) else ""
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}{size}; return {count} values: {what}."
        )
    return tuple(result)


# -- The step, with the mistakes it can be written with ------------------------------


def _step(args: tuple[np.ndarray, ...], mistake: str = "") -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step written out, with one named mistake made on purpose (``""`` for none).

    ``args`` are a case's arguments of ``lstm_step_forward``: x_t (N, D), h_prev (N, H),
    c_prev (N, H), W_xh (4H, D), W_hh (4H, H), b (4H,). Returns h_t and c_t, each (N, H).
    """
    x_t, h_prev, c_prev, W_xh, W_hh, b = args
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + (0.0 if mistake == "no bias" else b)
    order = "ifog" if mistake == "ifog" else "ifgo"
    block = {gate: a[:, k * H : (k + 1) * H] for k, gate in enumerate(order)}
    squash_g = sigmoid if mistake in ("g sigmoid", "swapped") else np.tanh
    squash_gate = np.tanh if mistake == "swapped" else sigmoid
    i, f, o = (squash_gate(block[gate]) for gate in "ifo")
    g = squash_g(block["g"])
    kept = h_prev if mistake == "h for c" else c_prev
    c_t = f * kept + i * g
    if mistake == "no tanh":
        return o * c_t, c_t
    return o * np.tanh(c_t), c_t


_STEP_MISTAKES = {
    "ifog": "the gates are sliced in the order i, f, o, g (as some courses stack them); this course and "
    "torch stack them i, f, g, o: the candidate g is the third block, a[:, 2H:3H]",
    "swapped": "tanh and sigmoid are swapped: the gates i, f, o use sigmoid (values in (0, 1)), "
    "the candidate g uses tanh (values in (-1, 1))",
    "g sigmoid": "the candidate g uses sigmoid; it uses tanh, so that it can add and subtract from the cell",
    "h for c": "c_t is computed from h_prev; the forget gate scales the previous *cell* state: "
    "c_t = f ⊙ c_prev + i ⊙ g",
    "no tanh": "h_t = o ⊙ c_t; the cell state is squashed first: h_t = o ⊙ tanh(c_t)",
    "no bias": "the bias b is missing (it holds the forget gate's bias too)",
}

# -- Part 1: one step forward ----------------------------------------------------------

_VISIBLE_STEP = (0, ((3, 4, 5), (2, 3, 3)))
_HIDDEN_STEP = {
    "all sizes 1": (1, 1, 1),
    "one example": (1, 6, 4),
    "one hidden unit": (4, 3, 1),
    "more units than inputs": (5, 2, 7),
}


def step_cases(seed: int, shapes: Sequence[tuple[int, int, int]]) -> list[parts.Case]:
    """``lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b)`` for each (N, D, H), case i drawn with seed + i."""
    cases = []
    for k, (N, D, H) in enumerate(shapes):
        p = core.float64_inputs(
            seed + k, x_t=(N, D), h_prev=(N, H), c_prev=(N, H), W_xh=(4 * H, D), W_hh=(4 * H, H), b=(4 * H,)
        )
        # A cell state of a few units, as after some steps: tanh(c) is then not nearly c.
        args = (p["x_t"], p["h_prev"], 2.0 * p["c_prev"], p["W_xh"], 2.0 * p["W_hh"], p["b"])
        cases.append(parts.Case(f"N={N}, D={D}, H={H}", args))
    return cases


def _visible_step() -> list[parts.Case]:
    return step_cases(*_VISIBLE_STEP)


@parts.verifier
def _verify_step(case: parts.Case, result: object) -> None:
    name = "lstm_step_forward"
    parts.raise_if_error(name, result, case)
    h_prev = case.args[1]
    N, H = h_prev.shape
    h, c = _tuple_of(
        name, result, 2, "the new hidden state h_t and the new cell state c_t, `return h_t, c_t`"
    )
    h = core.check_array(h, name, (N, H), "h_t (N, H)")
    c = core.check_array(c, name, (N, H), "c_t (N, H)")
    h_ref, c_ref, _ = lstm_step_forward(*case.args)
    swapped = max(abs(h - c_ref).max(), abs(c - h_ref).max()) < 1e-10 * max(1.0, abs(c_ref).max())
    if swapped and abs(h_ref - c_ref).max() > 1e-6:
        raise core.GradingFailure(
            f"{name} returns c_t first and h_t second; return `h_t, c_t`, in that order."
        )
    wrong = {text: _step(case.args, key) for key, text in _STEP_MISTAKES.items()}
    core.compare(c, c_ref, f"{name} (its c_t)", {text: w[1] for text, w in wrong.items()})
    core.compare(h, h_ref, f"{name} (its h_t)", {text: w[0] for text, w in wrong.items()})


STEP_FORWARD = parts.Part(
    grade_id="test_lstm_step_forward",
    function="lstm_step_forward",
    title="Part 1: one LSTM step",
    points=3,
    visible=_visible_step,
    hidden=parts.hidden_from(step_cases, _HIDDEN_STEP),
    verify=_verify_step,
    parameters=("x_t", "h_prev", "c_prev", "W_xh", "W_hh", "b"),
)


def step_forward(
    fn: Callable[..., Any],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """``lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b)`` -> (h_t, c_t), each (N, H).

    Runs the visible cases, or your own ``shapes`` (N, D, H).
    """
    cases = None
    if seed is not None or shapes is not None:
        cases = step_cases(
            _VISIBLE_STEP[0] if seed is None else seed, _VISIBLE_STEP[1] if shapes is None else shapes
        )
    parts.run_part_in_process(STEP_FORWARD, fn, cases=cases)


# -- Part 2: one step backward ---------------------------------------------------------

_GRAD_NAMES = ("dx_t", "dh_prev", "dc_prev", "dW_xh", "dW_hh", "db")


def _backward(
    cache: LSTMStepCache, dh: np.ndarray, dc_next: np.ndarray, mistake: str = ""
) -> list[np.ndarray]:
    """The step's gradients written out, with one named mistake made on purpose."""
    x_t, h_prev, c_prev, W_xh, W_hh, i, f, g, o, tanh_c = cache
    through_h = dh * o * (1 - tanh_c**2)
    if mistake == "no tanh derivative":
        through_h = dh * o
    dc = {"no dc_next": through_h, "no h path": dc_next}.get(mistake, through_h + dc_next)
    da_i, da_f, da_g = dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g)
    da_o = dh * tanh_c * o * (1 - o)
    if (
        mistake == "slopes of a"
    ):  # sigma'(a) taken as sigma(a) (1 - sigma(a)) of the wrong thing: the gate itself
        da_i, da_f, da_o = dc * g, dc * c_prev, dh * tanh_c
    blocks = [da_i, da_f, da_o, da_g] if mistake == "ifog" else [da_i, da_f, da_g, da_o]
    da = np.concatenate(blocks, axis=1)
    dc_prev = dc if mistake == "no forget" else dc * f
    return [da @ W_xh, da @ W_hh, dc_prev, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)]


_BACKWARD_MISTAKES = {
    "no dc_next": "the gradient dc_t arriving from the next step is not added: the cell state's "
    "gradient is dc_t + dh_t ⊙ o ⊙ (1 - tanh²(c_t))",
    "no h path": "the path from h_t to c_t is missing: add dh_t ⊙ o ⊙ (1 - tanh²(c_t)) to dc_t",
    "no tanh derivative": "the derivative of tanh(c_t) is missing: through h_t = o ⊙ tanh(c_t), "
    "c_t gets dh_t ⊙ o ⊙ (1 - tanh²(c_t))",
    "slopes of a": "the gates' nonlinearities are not differentiated: multiply the gradient reaching "
    "i, f and o by σ' = s (1 - s), and g's by 1 - g²",
    "ifog": "the gate gradients are stacked i, f, o, g; stack them in the order of the weights' rows, i, f, g, o",
    "no forget": "dc_prev = dc; the forget gate scales it: dc_prev = dc ⊙ f",
}


def _numerical_step_gradients(
    args: tuple[np.ndarray, ...], dh: np.ndarray, dc: np.ndarray
) -> list[np.ndarray]:
    """Central differences of ``sum(dh ⊙ h_t + dc ⊙ c_t)`` with respect to every input."""
    inputs = [np.array(a, dtype=np.float64, copy=True) for a in args]
    upstream = np.concatenate([dh, dc], axis=1)

    def f() -> np.ndarray:
        h, c, _ = lstm_step_forward(*inputs)
        return np.concatenate([h, c], axis=1)

    x_t, h_prev, c_prev, W_xh, W_hh, b = range(6)
    return [numerical_gradient(f, inputs[k], upstream) for k in (x_t, h_prev, c_prev, W_xh, W_hh, b)]


_VISIBLE_BACKWARD = (10, ((3, 4, 5), (2, 3, 2)))
_HIDDEN_BACKWARD = {
    "all sizes 1": (1, 1, 1),
    "one example": (1, 5, 3),
    "one hidden unit": (3, 2, 1),
    "D = 4H": (2, 8, 2),
}


def backward_cases(seed: int, shapes: Sequence[tuple[int, int, int]]) -> list[parts.Case]:
    """``lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b)`` for each (N, D, H)."""
    cases = []
    for k, (N, D, H) in enumerate(shapes):
        p = core.float64_inputs(
            seed + k,
            dh=(N, H),
            dc=(N, H),
            x_t=(N, D),
            h_prev=(N, H),
            c_prev=(N, H),
            W_xh=(4 * H, D),
            W_hh=(4 * H, H),
            b=(4 * H,),
        )
        args = (
            p["dh"],
            p["dc"],
            p["x_t"],
            p["h_prev"],
            2.0 * p["c_prev"],
            p["W_xh"],
            2.0 * p["W_hh"],
            p["b"],
        )
        cases.append(parts.Case(f"N={N}, D={D}, H={H}", args))
    return cases


def _visible_backward() -> list[parts.Case]:
    return backward_cases(*_VISIBLE_BACKWARD)


def _compare_gradients(
    name: str,
    grad_names: Sequence[str],
    grads: Sequence[np.ndarray],
    numerical: Sequence[np.ndarray],
    wrong: Mapping[str, Sequence[np.ndarray]],
) -> None:
    """Each gradient against its numerical value, naming the mistake whose result it matches."""
    for k, grad_name in enumerate(grad_names):
        core.compare(
            grads[k],
            numerical[k],
            f"{name} (its {grad_name}, checked against a numerical gradient)",
            {text: w[k] for text, w in wrong.items()},
            tolerance=GRADIENT_TOLERANCE,
        )


@parts.verifier
def _verify_backward(case: parts.Case, result: object) -> None:
    name = "lstm_step_backward"
    parts.raise_if_error(name, result, case)
    dh, dc, *forward_args = case.args
    x_t, h_prev = forward_args[0], forward_args[1]
    (N, D), H = x_t.shape, h_prev.shape[1]
    shapes = [(N, D), (N, H), (N, H), (4 * H, D), (4 * H, H), (4 * H,)]
    values = _tuple_of(name, result, 6, "dx_t, dh_prev, dc_prev, dW_xh, dW_hh, db")
    if isinstance(values[5], np.ndarray) and values[5].shape == (N, 4 * H) and N > 1:
        raise core.GradingFailure(
            f"{name} returned db of shape (N, 4H); b is shared by the batch: sum over axis 0."
        )
    grads = [core.check_array(v, name, s, g) for v, s, g in zip(values, shapes, _GRAD_NAMES)]
    numerical = _numerical_step_gradients(tuple(forward_args), dh, dc)
    cache = lstm_step_forward(*forward_args)[2]
    wrong = {text: _backward(cache, dh, dc, key) for key, text in _BACKWARD_MISTAKES.items()}
    _compare_gradients(name, _GRAD_NAMES, grads, numerical, wrong)


STEP_BACKWARD = parts.Part(
    grade_id="test_lstm_step_backward",
    function="lstm_step_backward",
    title="Part 2: the step's backward, gradient-checked",
    points=4,
    visible=_visible_backward,
    hidden=parts.hidden_from(backward_cases, _HIDDEN_BACKWARD),
    verify=_verify_backward,
    substitutes={"lstm_step_forward": source_of(correct.lstm_step_forward)},
    parameters=("dh_t", "dc_t", "x_t", "h_prev", "c_prev", "W_xh", "W_hh", "b"),
)


def step_backward(
    fn: Callable[..., Any],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """``lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b)`` -> the six gradients.

    Checked against central differences of the forward. While it runs, your
    ``lstm_step_forward`` is replaced by a correct one.
    """
    cases = None
    if seed is not None or shapes is not None:
        cases = backward_cases(
            _VISIBLE_BACKWARD[0] if seed is None else seed, _VISIBLE_BACKWARD[1] if shapes is None else shapes
        )
    parts.run_part_in_process(STEP_BACKWARD, fn, cases=cases)


# -- Part 3: a padded batch of sequences -----------------------------------------------

SequenceShape = tuple[Sequence[int], int, int, int]  # lengths, T, D, H

_VISIBLE_SEQUENCE: tuple[int, tuple[SequenceShape, ...]] = (20, (((4, 2, 3), 4, 3, 4), ((2, 5), 5, 2, 3)))
_HIDDEN_SEQUENCE: dict[str, SequenceShape] = {
    "one sequence of one step": ((1,), 1, 1, 1),
    "every sequence of length 1": ((1, 1, 1), 5, 2, 3),
    "no padding": ((6, 6), 6, 3, 2),
    "batch of one, padded": ((3,), 7, 2, 4),
    "many lengths, one hidden unit": ((5, 1, 3, 2, 4), 6, 2, 1),
}


def sequence_cases(seed: int, shapes: Sequence[SequenceShape]) -> list[parts.Case]:
    """``lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b)`` cases; the pads are not zero (as an embedded ``<pad>``)."""
    cases = []
    for k, (lengths_given, T, D, H) in enumerate(shapes):
        lengths = np.array(lengths_given, dtype=np.int64)
        N = len(lengths)
        p = core.float64_inputs(
            seed + k, x=(N, T, D), h0=(N, H), c0=(N, H), W_xh=(4 * H, D), W_hh=(4 * H, H), b=(4 * H,)
        )
        args = (p["x"], lengths, p["h0"], 2.0 * p["c0"], p["W_xh"], 2.0 * p["W_hh"], p["b"])
        cases.append(parts.Case(f"lengths {tuple(lengths.tolist())}, T={T}, D={D}, H={H}", args))
    return cases


def _visible_sequence() -> list[parts.Case]:
    return sequence_cases(*_VISIBLE_SEQUENCE)


def _reference_sequence(
    x: np.ndarray,
    lengths: np.ndarray | None,
    h0: np.ndarray,
    c0: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    layer = RecurrentLayer("lstm", x.shape[2], h0.shape[1], params={"W_xh": W_xh, "W_hh": W_hh, "b": b})
    h, final, _ = layer.forward(x, State(h0, c0), lengths)
    assert final.c is not None
    return h, final.h, final.c


def _masked_run(
    args: tuple[Any, ...], real: np.ndarray, hold_c: bool = True, pad_state: str = "hold"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An LSTM with the steps ``real`` (N, T) bool counted as real: a padding slip made on purpose.

    ``args`` are a case's arguments of ``lstm_forward``: x (N, T, D), lengths (N,), h0 and c0
    (N, H), W_xh (4H, D), W_hh (4H, H), b (4H,); ``real`` stands in for the lengths.

    ``hold_c=False`` lets the cell state run on through the pads while h is held;
    ``pad_state="zero"`` resets h and c to 0 at the pads instead of holding them.

    Returns the states (N, T, H), zero at the steps not counted as real, and h and c
    after the last step, each (N, H).
    """
    x, _, h0, c0, W_xh, W_hh, b = args
    N, T, _ = x.shape
    h, c = h0, c0
    out = np.zeros((N, T, h0.shape[1]))
    for t in range(T):
        h_new, c_new, _ = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)
        keep = real[:, t, None]
        if pad_state == "zero":
            h, c = np.where(keep, h_new, 0.0), np.where(keep, c_new, 0.0)
        else:
            h, c = np.where(keep, h_new, h), (np.where(keep, c_new, c) if hold_c else c_new)
        out[:, t] = np.where(keep, h_new, 0.0)
    return out, h, c


def _padding_slips(args: tuple[Any, ...]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """What lstm_forward returns with each padding slip, named by what to do instead."""
    x, lengths = args[0], args[1]
    T = x.shape[1]
    steps = np.arange(T)[None, :]
    real = steps < lengths[:, None]
    return {
        "one step too many counts as real: step t is real when t < lengths[n] "
        "(the steps 0 .. lengths[n] - 1), not t <= lengths[n]": _masked_run(args, steps <= lengths[:, None]),
        "one real step is left out: step t is real when t < lengths[n], so the last real step is "
        "t = lengths[n] - 1": _masked_run(args, steps < lengths[:, None] - 1),
        "the cell state c keeps changing through the padding while h is held: hold c too "
        "(c = np.where(real, c_new, c))": _masked_run(args, real, hold_c=False),
        "the states are reset to zero at the padding; hold them instead, so that h_last and "
        "c_last are the states at each sequence's last real step": _masked_run(args, real, pad_state="zero"),
        "the real steps are taken to be the last lengths[n] (padding at the start); the batch "
        "is padded at the end, so the real steps are the first lengths[n]": _masked_run(
            args, steps >= T - lengths[:, None]
        ),
    }


@parts.verifier
def _verify_sequence(case: parts.Case, result: object) -> None:
    name = "lstm_forward"
    parts.raise_if_error(name, result, case)
    x, lengths, h0, c0, W_xh, W_hh, b = case.args
    (N, T, _), H = x.shape, h0.shape[1]
    h, h_last, c_last = _tuple_of(name, result, 3, "h (N, T, H), h_last (N, H), c_last (N, H)")
    h = core.check_array(h, name, (N, T, H), "every hidden state h (N, T, H)")
    h_last = core.check_array(h_last, name, (N, H), "h_last (N, H)")
    c_last = core.check_array(c_last, name, (N, H), "c_last (N, H)")
    h_ref, h_last_ref, c_last_ref = _reference_sequence(x, lengths, h0, c0, W_xh, W_hh, b)
    unmasked, h_unmasked, c_unmasked = _reference_sequence(x, None, h0, c0, W_xh, W_hh, b)
    real = np.arange(T)[None, :, None] < lengths[:, None, None]
    held = np.where(real, h_ref, h_last_ref[:, None])  # the state kept through the pads, not zeroed
    zeros = np.zeros_like(h0)
    from_zero = _reference_sequence(x, lengths, zeros, zeros, W_xh, W_hh, b)
    slips = _padding_slips(case.args)
    through_pads = (
        "the state keeps changing through the padding: stop each sequence at its own length "
        "(keep h and c where t >= lengths[n])"
    )
    core.compare(
        h,
        h_ref,
        f"{name} (its h)",
        {
            "the outputs at padded steps are not zero: set h[n, t] = 0 for t >= lengths[n]": held,
            through_pads: np.where(real, unmasked, 0.0),
            through_pads + ", and the outputs there are not zero": unmasked,
            "h0 and c0 are ignored: start from the given states": from_zero[0],
        }
        | {text: slip[0] for text, slip in slips.items()},
    )
    core.compare(
        h_last,
        h_last_ref,
        f"{name} (its h_last)",
        {
            through_pads + "; h_last is each sequence's state at its last real step": h_unmasked,
            "h_last is the cell state; return h first, then c": c_last_ref,
            "h_last is h[:, -1], which is 0 after the padding; it is the state at step lengths[n] - 1": h_ref[
                :, -1
            ],
        }
        | {text: slip[1] for text, slip in slips.items()},
    )
    core.compare(
        c_last,
        c_last_ref,
        f"{name} (its c_last)",
        {through_pads: c_unmasked, "c_last is the hidden state; return c last": h_last_ref}
        | {text: slip[2] for text, slip in slips.items()},
    )


SEQUENCE_FORWARD = parts.Part(
    grade_id="test_lstm_forward",
    function="lstm_forward",
    title="Part 3: a padded batch of sequences",
    points=4,
    visible=_visible_sequence,
    hidden=parts.hidden_from(sequence_cases, _HIDDEN_SEQUENCE),
    verify=_verify_sequence,
    substitutes={"lstm_step_forward": source_of(correct.lstm_step_forward)},
    parameters=("x", "lengths", "h0", "c0", "W_xh", "W_hh", "b"),
)


def sequence_forward(
    fn: Callable[..., Any],
    seed: int | None = None,
    cases: Sequence[SequenceShape] | None = None,
) -> None:
    """``lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b)`` -> h (N, T, H), h_last (N, H), c_last (N, H).

    ``cases`` lists (lengths, T, D, H). While it runs, your ``lstm_step_forward``
    is replaced by a correct one.
    """
    own = None
    if seed is not None or cases is not None:
        own = sequence_cases(
            _VISIBLE_SEQUENCE[0] if seed is None else seed, _VISIBLE_SEQUENCE[1] if cases is None else cases
        )
    parts.run_part_in_process(SEQUENCE_FORWARD, fn, cases=own)


# -- Part 4: torch.nn.LSTM's weights -----------------------------------------------------

TorchShape = tuple[Sequence[int], int, int, int, int]  # lengths, T, D, H, L

_VISIBLE_TORCH: tuple[int, tuple[TorchShape, ...]] = (30, (((3, 1, 2), 3, 2, 3, 1), ((4, 2), 4, 3, 2, 2)))
_HIDDEN_TORCH: dict[str, TorchShape] = {
    "one step, one unit, one layer": ((1,), 1, 1, 1, 1),
    "three layers, D = H": ((2, 5, 3), 5, 3, 3, 3),
    "batch of one, two layers, padded": ((2,), 4, 2, 5, 2),
    "no padding, one layer": ((3, 3), 3, 4, 2, 1),
}


def torch_state(seed: int, D: int, H: int, layers: int) -> dict[str, np.ndarray]:
    """A torch.nn.LSTM(D, H, num_layers=layers) state dict as float64 arrays (deterministic)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(layers):
        shapes |= {
            f"weight_ih_l{layer}": (4 * H, D if layer == 0 else H),
            f"weight_hh_l{layer}": (4 * H, H),
            f"bias_ih_l{layer}": (4 * H,),
            f"bias_hh_l{layer}": (4 * H,),
        }
    return core.float64_inputs(seed, **shapes)


def torch_cases(seed: int, shapes: Sequence[TorchShape]) -> list[parts.Case]:
    """``run_torch_lstm(state_dict, x, lengths)`` cases: a state dict of arrays with torch's names."""
    cases = []
    for k, (lengths_given, T, D, H, L) in enumerate(shapes):
        lengths = np.array(lengths_given, dtype=np.int64)
        state = torch_state(seed + k, D, H, L)
        x = core.float64_inputs(seed + 1000 + k, x=(len(lengths), T, D))["x"]
        name = f"lengths {tuple(lengths.tolist())}, T={T}, D={D}, H={H}, {L} layer(s)"
        cases.append(parts.Case(name, (state, x, lengths)))
    return cases


def _visible_torch() -> list[parts.Case]:
    return torch_cases(*_VISIBLE_TORCH)


def _run_state(
    state: dict[str, np.ndarray], x: np.ndarray, lengths: np.ndarray | None
) -> tuple[np.ndarray, ...]:
    """What torch.nn.LSTM(batch_first=True) returns for a packed batch: output, h_n, c_n."""
    h, finals, _ = stacked_from_torch(state).forward(x, None, lengths)
    layers = [final for final in finals if isinstance(final, State) and final.c is not None]
    return (
        h,
        np.stack([final.h for final in layers]),
        np.stack([final.c for final in layers if final.c is not None]),
    )


def _stack_slip(
    state: dict[str, np.ndarray], x: np.ndarray, lengths: np.ndarray, slip: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stack run layer by layer with one slip in how layers connect (``slip`` names it)."""
    L = sum(key.startswith("weight_ih_l") for key in state)
    H = state["weight_hh_l0"].shape[1]
    zeros = np.zeros((x.shape[0], H))
    inputs, h_start, c_start = x, zeros, zeros
    finals_h, finals_c, outputs = [], [], []
    for layer in range(L):
        source = 0 if slip == "layer 0's weights" and x.shape[2] == H else layer
        W_xh, W_hh = state[f"weight_ih_l{source}"], state[f"weight_hh_l{source}"]
        b = state[f"bias_ih_l{source}"] + state[f"bias_hh_l{source}"]
        reads = x if slip == "every layer reads x" and x.shape[2] == H else inputs
        out, h_last, c_last = _reference_sequence(reads, lengths, h_start, c_start, W_xh, W_hh, b)
        if slip == "states carried":
            h_start, c_start = h_last, c_last
        inputs = out
        outputs.append(out)
        finals_h.append(h_last)
        finals_c.append(c_last)
    if slip == "top first":
        finals_h, finals_c = finals_h[::-1], finals_c[::-1]
    top = outputs[0] if slip == "bottom output" else outputs[-1]
    return top, np.stack(finals_h), np.stack(finals_c)


def _torch_mistakes(
    state: dict[str, np.ndarray], x: np.ndarray, lengths: np.ndarray
) -> dict[str, tuple[np.ndarray, ...]]:
    def edited(rule: Callable[[str, np.ndarray], np.ndarray]) -> dict[str, np.ndarray]:
        return {key: rule(key, value) for key, value in state.items()}

    return {
        "bias_hh is left out: torch adds both of its biases, so b = bias_ih + bias_hh": _run_state(
            edited(lambda k, v: 0 * v if k.startswith("bias_hh") else v), x, lengths
        ),
        "bias_ih is left out: torch adds both of its biases, so b = bias_ih + bias_hh": _run_state(
            edited(lambda k, v: 0 * v if k.startswith("bias_ih") else v), x, lengths
        ),
        "the gate blocks were reordered; torch already stacks them i, f, g, o, the order your "
        "lstm_step_forward reads: use weight_ih, weight_hh as they are": _run_state(
            edited(lambda k, v: reorder_gates(v, "ifgo", "ifog")), x, lengths
        ),
        "the lengths are ignored: run each sequence only over its real steps, as torch does on a packed batch": _run_state(
            state, x, None
        ),
        "each layer starts from the final states of the layer below; in torch every layer starts "
        "from zero states (h0 = c0 = 0 for each layer)": _stack_slip(state, x, lengths, "states carried"),
        "every layer reads the input x; layer l reads the outputs of layer l - 1 "
        "(the h returned for the layer below)": _stack_slip(state, x, lengths, "every layer reads x"),
        "every layer uses layer 0's weights; layer l has its own, weight_ih_l{l}, weight_hh_l{l}, "
        "bias_ih_l{l}, bias_hh_l{l}": _stack_slip(state, x, lengths, "layer 0's weights"),
        "h_n and c_n list the layers top first; torch lists them bottom first "
        "(h_n[0] is layer 0's)": _stack_slip(state, x, lengths, "top first"),
        "output is the bottom layer's; torch returns the top layer's hidden states": _stack_slip(
            state, x, lengths, "bottom output"
        ),
    }


@parts.verifier
def _verify_torch(case: parts.Case, result: object) -> None:
    name = "run_torch_lstm"
    parts.raise_if_error(
        name,
        result,
        case,
        "The state dict's keys are weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, _l1 ...; "
        "layer l > 0 reads the outputs of the layer below, so its weight_ih_l{l} is (4H, H).",
    )
    state, x, lengths = case.args
    N, T, _ = x.shape
    H = state["weight_hh_l0"].shape[1]
    L = sum(key.startswith("weight_ih_l") for key in state)
    output, h_n, c_n = _tuple_of(name, result, 3, "output (N, T, H), h_n (L, N, H), c_n (L, N, H)")
    if isinstance(h_n, np.ndarray) and h_n.shape == (N, H) and L > 1:
        raise core.GradingFailure(
            f"{name} returned h_n of shape (N, H); torch's h_n holds every layer's final state, (L, N, H)."
        )
    output = core.check_array(output, name, (N, T, H), "the top layer's output (N, T, H)")
    h_n = core.check_array(h_n, name, (L, N, H), "h_n (L, N, H), one final state per layer")
    c_n = core.check_array(c_n, name, (L, N, H), "c_n (L, N, H)")
    expected = _run_state(state, x, lengths)
    wrong = _torch_mistakes(state, x, lengths)
    swapped = {"h_n and c_n are swapped: torch returns output, (h_n, c_n)": expected[2]}
    core.compare(output, expected[0], f"{name} (its output)", {text: w[0] for text, w in wrong.items()})
    core.compare(h_n, expected[1], f"{name} (its h_n)", {text: w[1] for text, w in wrong.items()} | swapped)
    core.compare(c_n, expected[2], f"{name} (its c_n)", {text: w[2] for text, w in wrong.items()})


TORCH_WEIGHTS = parts.Part(
    grade_id="test_run_torch_lstm",
    function="run_torch_lstm",
    title="Part 4: torch.nn.LSTM's weights in your LSTM",
    points=4,
    visible=_visible_torch,
    hidden=parts.hidden_from(torch_cases, _HIDDEN_TORCH),
    verify=_verify_torch,
    substitutes={
        "lstm_step_forward": source_of(correct.lstm_step_forward),
        "lstm_forward": source_of(correct.lstm_forward),
    },
    parameters=("state_dict", "x", "lengths"),
)


def torch_weights(
    fn: Callable[..., Any],
    seed: int | None = None,
    cases: Sequence[TorchShape] | None = None,
) -> None:
    """``run_torch_lstm(state_dict, x, lengths)`` -> output (N, T, H), h_n (L, N, H), c_n (L, N, H).

    ``cases`` lists (lengths, T, D, H, L). While it runs, your ``lstm_step_forward``
    and ``lstm_forward`` are replaced by correct ones.
    """
    own = None
    if seed is not None or cases is not None:
        own = torch_cases(
            _VISIBLE_TORCH[0] if seed is None else seed, _VISIBLE_TORCH[1] if cases is None else cases
        )
    parts.run_part_in_process(TORCH_WEIGHTS, fn, cases=own)


# -- Part 5: the backward over a sequence ----------------------------------------------------

_SEQUENCE_GRADS = ("dx", "dh0", "dc0", "dW_xh", "dW_hh", "db")
BackwardShape = tuple[int, int, int, int]  # N, T, D, H

_VISIBLE_SEQUENCE_BACKWARD: tuple[int, tuple[BackwardShape, ...]] = (40, ((3, 4, 2, 3), (2, 5, 3, 2)))
_HIDDEN_SEQUENCE_BACKWARD: dict[str, BackwardShape] = {
    "one step": (3, 1, 2, 2),
    "batch of one": (1, 6, 3, 2),
    "one hidden unit": (4, 5, 2, 1),
    "ten steps": (2, 10, 2, 3),
    "one input feature": (3, 4, 1, 3),
}


def sequence_backward_cases(seed: int, shapes: Sequence[BackwardShape]) -> list[parts.Case]:
    """``lstm_backward(dh, x, h0, c0, W_xh, W_hh, b)`` cases for each (N, T, D, H): dh is dL/dh_t at every step."""
    cases = []
    for k, (N, T, D, H) in enumerate(shapes):
        p = core.float64_inputs(
            seed + k,
            dh=(N, T, H),
            x=(N, T, D),
            h0=(N, H),
            c0=(N, H),
            W_xh=(4 * H, D),
            W_hh=(4 * H, H),
            b=(4 * H,),
        )
        args = (p["dh"], p["x"], p["h0"], 2.0 * p["c0"], p["W_xh"], 2.0 * p["W_hh"], p["b"])
        cases.append(parts.Case(f"N={N}, T={T}, D={D}, H={H}", args))
    return cases


def _visible_sequence_backward() -> list[parts.Case]:
    return sequence_backward_cases(*_VISIBLE_SEQUENCE_BACKWARD)


def _states(
    x: np.ndarray, h0: np.ndarray, c0: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], list[LSTMStepCache]]:
    """h_0 .. h_T, c_0 .. c_T and each step's cache (the course's step, no padding)."""
    hs, cs, caches = [h0], [c0], []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], hs[-1], cs[-1], W_xh, W_hh, b)
        hs.append(h)
        cs.append(c)
        caches.append(cache)
    return hs, cs, caches


def _sequence_backward(args: tuple[np.ndarray, ...], slip: str = "") -> list[np.ndarray]:
    """The six gradients of ``sum(dh ⊙ h)``, written out step by step, with one named slip made on purpose."""
    dh, x, h0, c0, W_xh, W_hh, b = args
    hs, cs, caches = _states(x, h0, c0, W_xh, W_hh, b)
    T = x.shape[1]
    grads = {
        "dx": np.zeros_like(x),
        "dW_xh": np.zeros_like(W_xh),
        "dW_hh": np.zeros_like(W_hh),
        "db": np.zeros_like(b),
    }
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    order = range(T) if slip == "forward order" else reversed(range(T))
    for t in order:
        cache = caches[t]
        if slip == "own states":  # the step's outputs where its inputs belong
            cache = lstm_step_forward(x[:, t], hs[t + 1], cs[t + 1], W_xh, W_hh, b)[2]
        upstream = {
            "no dh_next": dh[:, t],
            "last dh only": dh[:, t] * (t == T - 1) + dh_next,
        }.get(slip, dh[:, t] + dh_next)
        dc_in = np.zeros_like(dc_next) if slip == "no dc_next" else dc_next
        dx_t, dh_next, dc_next, dW_xh, dW_hh, db = lstm_step_backward(upstream, dc_in, cache)
        grads["dx"][:, t] = dx_t
        for name, value in (("dW_xh", dW_xh), ("dW_hh", dW_hh), ("db", db)):
            grads[name] = value if slip == "overwritten" else grads[name] + value
    if slip == "swapped":
        dh_next, dc_next = dc_next, dh_next
    return [grads["dx"], dh_next, dc_next, grads["dW_xh"], grads["dW_hh"], grads["db"]]


_SEQUENCE_SLIPS = {
    "no dh_next": "the gradient that step t + 1 sends back to h_t (its dh_prev) is not added: "
    "step t's backward gets dh[:, t] + dh_prev of step t + 1",
    "no dc_next": "the cell state's gradient from step t + 1 (its dc_prev) is not passed on: it is step t's dc_t "
    "(only the last step starts from dc = 0)",
    "last dh only": "only the last step's dh[:, T - 1] enters; the loss reaches every h_t, so step t adds dh[:, t]",
    "overwritten": "dW_xh, dW_hh and db keep only one step's gradient; the weights are shared by every step, "
    "so their gradients are sums over the steps",
    "own states": "step t's backward is given the states it produced, h_t and c_t; it needs the states it "
    "started from, h_{t-1} and c_{t-1} (h0 and c0 for the first step)",
    "forward order": "the steps are visited from the first to the last; the gradient flows back in time, "
    "from t = T - 1 down to t = 0",
    "swapped": "dh0 and dc0 are swapped: return dx, dh0, dc0, dW_xh, dW_hh, db",
}


def _numerical_sequence_gradients(args: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Central differences of ``sum(dh ⊙ h)`` with respect to x, h0, c0, W_xh, W_hh and b."""
    dh, *forward_args = args
    inputs = [np.array(a, dtype=np.float64, copy=True) for a in forward_args]

    def hidden_states() -> np.ndarray:
        hs, _, _ = _states(*inputs)
        return np.stack(hs[1:], axis=1)  # (N, T, H)

    return [numerical_gradient(hidden_states, value, dh) for value in inputs]


@parts.verifier
def _verify_sequence_backward(case: parts.Case, result: object) -> None:
    name = "lstm_backward"
    parts.raise_if_error(name, result, case)
    _, x, h0, c0, W_xh, W_hh, b = case.args
    values = _tuple_of(name, result, 6, "dx, dh0, dc0, dW_xh, dW_hh, db")
    shapes = [x.shape, h0.shape, c0.shape, W_xh.shape, W_hh.shape, b.shape]
    grads = [core.check_array(v, name, s, g) for v, s, g in zip(values, shapes, _SEQUENCE_GRADS)]
    numerical = _numerical_sequence_gradients(case.args)
    wrong = {text: _sequence_backward(case.args, slip) for slip, text in _SEQUENCE_SLIPS.items()}
    _compare_gradients(name, _SEQUENCE_GRADS, grads, numerical, wrong)


SEQUENCE_BACKWARD = parts.Part(
    grade_id="test_lstm_backward",
    function="lstm_backward",
    title="Part 5: the backward over a sequence, gradient-checked",
    points=4,
    visible=_visible_sequence_backward,
    hidden=parts.hidden_from(sequence_backward_cases, _HIDDEN_SEQUENCE_BACKWARD),
    verify=_verify_sequence_backward,
    substitutes={
        "lstm_step_forward": source_of(correct.lstm_step_forward),
        "lstm_step_backward": source_of(correct.lstm_step_backward),
        "lstm_forward": source_of(correct.lstm_forward),
    },
    parameters=("dh", "x", "h0", "c0", "W_xh", "W_hh", "b"),
)


def sequence_backward(
    fn: Callable[..., Any],
    seed: int | None = None,
    shapes: Sequence[BackwardShape] | None = None,
) -> None:
    """``lstm_backward(dh, x, h0, c0, W_xh, W_hh, b)`` -> dx, dh0, dc0, dW_xh, dW_hh, db.

    ``dh`` (N, T, H) is dL/dh_t at every step. Checked against central differences
    of the forward. ``shapes`` lists (N, T, D, H). While it runs, your
    ``lstm_step_forward``, ``lstm_step_backward`` and ``lstm_forward`` are replaced by
    correct ones.
    """
    cases = None
    if seed is not None or shapes is not None:
        cases = sequence_backward_cases(
            _VISIBLE_SEQUENCE_BACKWARD[0] if seed is None else seed,
            _VISIBLE_SEQUENCE_BACKWARD[1] if shapes is None else shapes,
        )
    parts.run_part_in_process(SEQUENCE_BACKWARD, fn, cases=cases)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [STEP_FORWARD, STEP_BACKWARD, SEQUENCE_FORWARD, TORCH_WEIGHTS, SEQUENCE_BACKWARD]
