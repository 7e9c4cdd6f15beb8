"""Checks for exercise 2, backpropagation through time: step backward, BPTT, clipping, truncated BPTT, sampling.

``PARTS`` lists the four parts (``parts.Part``), as in chapter 1: the nbgrader
test cell each scores, the learner's function, deterministic float64 visible
cases, how to draw each hidden case (shapes and edge cases here, values from
the instructor's secret) and ``verify``, run outside the sandbox by the
autograder and in the learner's kernel by ``check.<part>(<function>)``.

The expected values come from the course's NumPy code
(``rnncourse.scratch.rnn``, ``rnncourse.scratch.tbptt``,
``rnncourse.scratch.optim``), whose gradients the tests prove against
central differences and torch autograd on these very cases. A wrong answer
is compared with the output of each typical mistake (``core.named_mistakes``):
forgetting the tanh derivative, dropping the recurrent term, the slips of
accumulating over steps (assigning where the weights' gradients and the loss
are summed, summing the gradient carried back where it is replaced, carrying
it before the tanh derivative, the wrong normalisation), an off-by-one in the
loop, clipping each element, not carrying or not detaching the state; and in
sampling, a temperature that multiplies, a state or a character not fed on,
an argmax where a draw belongs. Part 5's verdict is exact (character ids):
its uniform numbers are drawn clear of every cumulative probability, so any
correct summation order draws the same characters.

Shapes: N batch, T steps, D inputs, H hidden units, C classes, k chunk length.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch02_bptt as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.scratch import rnn as reference_rnn
from rnncourse.scratch.activations import softmax
from rnncourse.scratch.optim import clip_by_global_norm as reference_clip
from rnncourse.scratch.optim import clip_elementwise
from rnncourse.scratch.rnn import SequenceCache, rnn_backward, rnn_forward, rnn_step_forward
from rnncourse.scratch.tbptt import RNN_LM_PARAMS, rnn_lm_loss_and_grads, rnn_lm_tbptt_sgd

GRAD_NAMES = (*RNN_LM_PARAMS, "h0")


def _check_tuple(result: object, name: str, length: int, what: str) -> Sequence[Any]:
    if not isinstance(result, (tuple, list)) or len(result) != length:
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return {length} values: {what}."
        )
    return result


def _check_dict(
    result: object, name: str, keys: Sequence[str], shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    if not isinstance(result, dict):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)} for the gradients; return a dict {list(keys)}."
        )
    missing = [key for key in keys if key not in result]
    if missing:
        raise core.GradingFailure(
            f"{name}: the gradients have no entry {missing}; the dict needs the keys {list(keys)}."
        )
    return {key: core.check_array(result[key], name, shapes[key], f"the gradient {key!r}") for key in keys}


# -- Part 1: the backward pass of one step -------------------------------------------

StepShape = tuple[int, int, int]  # (N, D, H)

_VISIBLE_STEP: tuple[int, tuple[StepShape, ...]] = (20, ((3, 4, 5), (2, 3, 3)))
_HIDDEN_STEP: dict[str, StepShape] = {
    "all sizes 1": (1, 1, 1),
    "batch 1": (1, 5, 4),
    "more hidden units than inputs": (4, 2, 7),
    "square weights, D = H": (3, 6, 6),
}


def step_cases(seed: int, shapes: Sequence[StepShape]) -> list[parts.Case]:
    """``rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh)`` for each (N, D, H); h_t is computed from the others."""
    cases = []
    for i, (N, D, H) in enumerate(shapes):
        p = core.float64_inputs(
            seed + i, x_t=(N, D), h_prev=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,), dh_t=(N, H)
        )
        h_t = np.tanh(
            p["x_t"] @ (2 * p["W_xh"]).T + p["h_prev"] @ p["W_hh"].T + p["b_h"]
        )  # some units near saturation
        args = (p["dh_t"], p["x_t"], p["h_prev"], h_t, 2 * p["W_xh"], p["W_hh"])
        cases.append(parts.Case(f"N={N}, D={D}, H={H}", args))
    return cases


def _visible_step() -> list[parts.Case]:
    return step_cases(*_VISIBLE_STEP)


def _reference_step(
    dh_t: np.ndarray, x_t: np.ndarray, h_prev: np.ndarray, h_t: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray
) -> tuple[np.ndarray, ...]:
    # The course's step backward reads f'(a) from the cached output h_t, so a cache with this h_t is all it needs.
    cache = rnn_step_forward(x_t, h_prev, W_xh, W_hh, np.zeros(W_hh.shape[0]))[1]._replace(h_t=h_t)
    return reference_rnn.rnn_step_backward(dh_t, cache)


STEP_OUTPUTS = ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db_h")


@parts.verifier
def _verify_step(case: parts.Case, result: object) -> None:
    name = "rnn_step_backward"
    parts.raise_if_error(name, result, case)
    dh_t, x_t, h_prev, h_t, W_xh, W_hh = case.args
    (N, D), H = x_t.shape, W_hh.shape[0]
    values = _check_tuple(result, name, 5, "dx_t, dh_prev, dW_xh, dW_hh, db_h")
    expected = _reference_step(*case.args)
    shapes = ((N, D), (N, H), (H, D), (H, H), (H,))
    da = dh_t * (1 - h_t**2)
    no_derivative = dh_t
    tanh_again = dh_t * (1 - np.tanh(h_t) ** 2)
    wrong: dict[str, dict[str, np.ndarray]] = {
        "dx_t": {
            "the tanh derivative is missing: first da = dh_t * (1 - h_t**2), then dx_t = da @ W_xh": no_derivative
            @ W_xh,
            "the tanh derivative is taken of h_t again: tanh'(a) = 1 - tanh(a)**2 = 1 - h_t**2, since h_t is already tanh(a)": tanh_again
            @ W_xh,
        },
        "dh_prev": {
            "the tanh derivative is missing: dh_prev = (dh_t * (1 - h_t**2)) @ W_hh": no_derivative @ W_hh,
            "the tanh derivative is taken of h_t again: 1 - h_t**2, not 1 - tanh(h_t)**2": tanh_again @ W_hh,
            "W_hh is transposed: the forward multiplies rows by W_hh.T, so the backward multiplies by W_hh: da @ W_hh": da
            @ W_hh.T,
        },
        "dW_xh": {
            "the tanh derivative is missing: dW_xh = da.T @ x_t with da = dh_t * (1 - h_t**2)": no_derivative.T
            @ x_t,
        },
        "dW_hh": {
            "the tanh derivative is missing: dW_hh = da.T @ h_prev with da = dh_t * (1 - h_t**2)": no_derivative.T
            @ h_prev,
            "dW_hh uses h_t; the weight multiplies the previous state, so dW_hh = da.T @ h_prev": da.T @ h_t,
            "dW_hh is transposed: it is da.T @ h_prev, of shape (H, H) with rows for the receiving units": h_prev.T
            @ da,
        },
        "db_h": {
            "the tanh derivative is missing: db_h = (dh_t * (1 - h_t**2)).sum(axis=0)": no_derivative.sum(
                axis=0
            ),
            "db_h is averaged over the batch; the loss already carries its own normalisation, so sum: da.sum(axis=0)": da.mean(
                axis=0
            ),
        },
    }
    for label, value, shape, reference in zip(STEP_OUTPUTS, values, shapes, expected):
        array = core.check_array(
            value, f"{name} ({label}, value {STEP_OUTPUTS.index(label) + 1} of 5)", shape, label
        )
        core.compare(array, reference, f"{name} ({label})", wrong[label])


RNN_STEP_BACKWARD = parts.Part(
    grade_id="test_rnn_step_backward",
    function="rnn_step_backward",
    title="Part 1: the backward pass of one step",
    points=3,
    visible=_visible_step,
    verify=_verify_step,
    hidden=parts.hidden_from(step_cases, _HIDDEN_STEP),
    parameters=("dh_t", "x_t", "h_prev", "h_t", "W_xh", "W_hh"),
)


def rnn_step_backward(fn: Callable[..., Any]) -> None:
    """``rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh)`` -> dx_t, dh_prev, dW_xh, dW_hh, db_h."""
    parts.run_part_in_process(RNN_STEP_BACKWARD, fn)


# -- Part 2: BPTT over a sequence with a loss at every step --------------------------

LMShape = tuple[int, int, int, int, int]  # (N, T, D, H, C)


def lm_inputs(
    seed: int, shape: LMShape, lengths: Sequence[int] | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic ``params, x, targets, mask, h0`` for one shape; ``lengths`` pads the rows."""
    N, T, D, H, C = shape
    p = core.float64_inputs(
        seed, W_xh=(H, D), W_hh=(H, H), b_h=(H,), W_hy=(C, H), b_y=(C,), x=(N, T, D), h0=(N, H)
    )
    params = {name: p[name] for name in RNN_LM_PARAMS}
    params["W_hh"] = 0.9 * params["W_hh"]
    targets = (np.arange(N * T).reshape(N, T) * 7 + seed) % C  # any classes, fixed by the seed
    mask = np.ones((N, T))
    if lengths is not None:
        mask = (np.arange(T)[None, :] < np.asarray(lengths)[:, None]).astype(np.float64)
    return params, p["x"], targets.astype(np.int64), mask, 0.5 * p["h0"]


_VISIBLE_BPTT: list[tuple[str, LMShape, list[int] | None]] = [
    ("N=3, T=5, D=4, H=6, C=4", (3, 5, 4, 6, 4), None),
    ("padded: lengths (4, 2), T=4", (2, 4, 3, 3, 5), [4, 2]),
]
_HIDDEN_BPTT: list[tuple[str, LMShape, list[int] | None]] = [
    ("length 1", (3, 1, 4, 5, 3), None),
    ("batch 1", (1, 6, 3, 4, 4), None),
    ("all sizes 1 but T", (1, 4, 1, 1, 2), None),
    ("padded, a row of length 1", (3, 6, 2, 5, 3), [6, 1, 3]),
    ("a longer sequence", (2, 12, 3, 4, 6), None),
]


def bptt_cases(seed: int, specs: Sequence[tuple[str, LMShape, list[int] | None]]) -> list[parts.Case]:
    """``bptt(params, x, targets, mask, h0)`` cases, case i drawn with seed + i."""
    return [
        parts.Case(name, lm_inputs(seed + i, shape, lengths))
        for i, (name, shape, lengths) in enumerate(specs)
    ]


def _visible_bptt() -> list[parts.Case]:
    return bptt_cases(40, _VISIBLE_BPTT)


def bptt_variant(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    h0: np.ndarray,
    *,
    tanh_prime: bool = True,
    recurrent: bool = True,
    accumulate: bool = True,
    shifted: bool = False,
    use_mask: bool = True,
    time_mean: bool = False,
    batch_mean: bool = True,
    loss_steps: str = "all",
    carry_accumulates: bool = False,
    carry_skips_tanh: bool = False,
    derivative_shifted: bool = False,
    h0_is_h1: bool = False,
) -> tuple[float, dict[str, np.ndarray]]:
    """BPTT written out step by step, with switches for the typical mistakes (all off: correct).

    ``tanh_prime=False`` forgets f'(a); ``recurrent=False`` drops W_hh^T delta_{t+1};
    ``accumulate=False`` overwrites the weight gradients at each step (only
    step 1's survive the backward loop); ``shifted`` pairs da_t with h_t instead
    of h_{t-1} in dW_hh; ``use_mask=False`` ignores the padding; ``time_mean``
    also divides by T; ``batch_mean=False`` does not divide by N;
    ``loss_steps`` "first" or "last" keeps one step's loss instead of the sum
    (an assignment where ``+=`` belongs, in a backward or a forward loop);
    ``carry_accumulates`` adds each step's da @ W_hh to the carried gradient
    instead of replacing it; ``carry_skips_tanh`` carries delta @ W_hh, before
    the tanh derivative; ``derivative_shifted`` takes the slope of step t from
    h_{t-1}; ``h0_is_h1`` returns the gradient of h_1 as that of h0.
    """
    W_xh, W_hh, b_h, W_hy, b_y = (params[name] for name in RNN_LM_PARAMS)
    N, T, _ = x.shape
    m = mask if use_mask else np.ones_like(mask)
    scale = (N if batch_mean else 1) * (T if time_mean else 1)
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))
    grads = {name: np.zeros_like(params[name]) for name in RNN_LM_PARAMS}
    loss, dh_next, rows = 0.0, np.zeros_like(h0), np.arange(N)
    step_losses = []
    delta = dh_next
    for t in reversed(range(T)):
        z = hs[t + 1] @ W_hy.T + b_y
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        step_losses.append(-float(np.sum(m[:, t] * np.log(p[rows, targets[:, t]]))) / scale)
        dz = p.copy()
        dz[rows, targets[:, t]] -= 1
        dz *= m[:, t : t + 1] / scale
        delta = dz @ W_hy + (dh_next if recurrent else 0.0)
        slope = 1 - (hs[t] if derivative_shifted else hs[t + 1]) ** 2
        da = delta * slope if tanh_prime else delta
        terms = {
            "W_hy": dz.T @ hs[t + 1],
            "b_y": dz.sum(axis=0),
            "W_xh": da.T @ x[:, t],
            "W_hh": da.T @ (hs[t + 1] if shifted else hs[t]),
            "b_h": da.sum(axis=0),
        }
        for name, term in terms.items():
            grads[name] = grads[name] + term if accumulate else term
        back = (delta if carry_skips_tanh else da) @ W_hh
        dh_next = dh_next + back if carry_accumulates else back
    loss = {"all": sum(step_losses), "first": step_losses[-1], "last": step_losses[0]}[loss_steps]
    grads["h0"] = delta if h0_is_h1 else dh_next
    return loss, grads


_BPTT_MISTAKES: dict[str, dict[str, Any]] = {
    "the tanh derivative is missing: multiply the total dL/dh_t by (1 - h_t**2) before it reaches the weights": {
        "tanh_prime": False
    },
    "the recurrent term is dropped: the total gradient of h_t is its own loss's dL_t/dh_t plus what flows back from step t+1, da_{t+1} @ W_hh": {
        "recurrent": False
    },
    "the weight gradients are not accumulated over steps: the shared weights collect one term per step, so add (+=), do not assign": {
        "accumulate": False
    },
    "an off-by-one in the loop: dW_hh pairs da_t with the state before the step, h_{t-1} (hs[t] if hs[0] is h0), not with h_t": {
        "shifted": True
    },
    "the mask is ignored: padded positions (mask 0) add no loss and send no gradient": {"use_mask": False},
    "the loss is also divided by T: here it is summed over time and averaged over the batch only, L = (1/N) sum_t sum_n": {
        "time_mean": True
    },
    "the loss is summed over the batch: average it over the N sequences (divide every step's loss, and its gradient dz, by N)": {
        "batch_mean": False
    },
    "the loss is not summed over the steps: only one step's loss is kept (an assignment where `loss += ...` belongs)": {
        "loss_steps": "first"
    },
    "the loss is not summed over the steps: only the last step's loss is kept (an assignment where `loss += ...` belongs)": {
        "loss_steps": "last"
    },
    "the gradient carried to step t-1 is accumulated (+=) across steps; it is replaced at each step: dh_next = da_t @ W_hh, only the shared weights' gradients are sums": {
        "carry_accumulates": True
    },
    "the gradient carried to step t-1 skips the tanh derivative: it is (delta_t * (1 - h_t**2)) @ W_hh, not delta_t @ W_hh": {
        "carry_skips_tanh": True
    },
    "the tanh derivative of step t is taken at the wrong state (off by one): it is 1 - h_t**2, h_t the step's own output (hs[t + 1] if hs[0] is h0)": {
        "derivative_shifted": True
    },
    "the gradient of h0 is that of h_1: take one more step back, da_1 @ W_hh": {"h0_is_h1": True},
}


@parts.verifier
def _verify_bptt(case: parts.Case, result: object) -> None:
    name = "bptt"
    parts.raise_if_error(name, result, case)
    params, x, targets, mask, h0 = case.args
    N, H = h0.shape
    loss, grads, h_last = _check_tuple(
        result, name, 3, "the loss (a float), the gradients (a dict) and h_T (N, H)"
    )
    exp_loss, exp_grads, exp_h = rnn_lm_loss_and_grads(dict(params), x, targets, mask, h0)
    variants = {
        description: bptt_variant(params, x, targets, mask, h0, **switches)
        for description, switches in _BPTT_MISTAKES.items()
    }
    if not isinstance(loss, (int, float)) or isinstance(loss, bool):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(loss)} for the loss; return a Python float (float(...))."
        )
    core.compare(
        np.array(float(loss)),
        np.array(exp_loss),
        f"{name} (the loss)",
        {d: np.array(v[0]) for d, v in variants.items()},
    )
    shapes = {**{key: params[key].shape for key in RNN_LM_PARAMS}, "h0": (N, H)}
    got = _check_dict(grads, name, GRAD_NAMES, shapes)
    for key in GRAD_NAMES:
        mistakes = {d: v[1][key] for d, v in variants.items()}
        if key == "h0":
            mistakes[
                "the gradient of h0 is missing: it is what flows back past the first step, da_1 @ W_hh"
            ] = np.zeros_like(h0)
        core.compare(got[key], exp_grads[key], f"{name} (the gradient {key!r})", mistakes)
    h_last = core.check_array(h_last, f"{name} (h_T)", (N, H), "the last hidden state h_T")
    core.compare(h_last, exp_h, f"{name} (h_T)", {"h_T is the state after the last step, not h0": h0})


BPTT = parts.Part(
    grade_id="test_bptt",
    function="bptt",
    title="Part 2: backpropagation through time over a sequence",
    points=4,
    visible=_visible_bptt,
    hidden=parts.hidden_from(bptt_cases, {spec[0]: spec for spec in _HIDDEN_BPTT}),
    verify=_verify_bptt,
    substitutes={"rnn_step_backward": source_of(correct.rnn_step_backward)},
    parameters=("params", "x", "targets", "mask", "h0"),
)


def bptt(fn: Callable[..., Any]) -> None:
    """``bptt(params, x, targets, mask, h0)`` -> loss, grads (with "h0"), h_T."""
    parts.run_part_in_process(BPTT, fn)


# -- Part 3: clipping by global norm -------------------------------------------------


ClipSpec = tuple[Mapping[str, tuple[int, ...]], float, float]  # shapes, scale, max_norm


def _clip_args(seed: int, spec: ClipSpec) -> tuple[dict[str, np.ndarray], float]:
    shapes, scale, max_norm = spec
    return {key: scale * value for key, value in core.float64_inputs(seed, **shapes).items()}, max_norm


def _visible_clip() -> list[parts.Case]:
    rnn_shapes = {"W_xh": (4, 3), "W_hh": (4, 4), "b_h": (4,)}
    return [
        parts.Case("three gradients, norm above the threshold", _clip_args(60, (rnn_shapes, 5.0, 1.0))),
        parts.Case("three gradients, norm below the threshold", _clip_args(61, (rnn_shapes, 0.1, 5.0))),
    ]


_HIDDEN_CLIP: dict[str, parts.Draw] = {
    "one gradient": parts.drawn(_clip_args, ({"W": (3, 5)}, 4.0, 2.5)),
    "one entry per gradient": parts.drawn(_clip_args, ({"a": (1,), "b": (1,), "c": (1, 1)}, 10.0, 0.5)),
    "all gradients zero": parts.drawn(_clip_args, ({"W": (2, 2), "b": (2,)}, 0.0, 1.0)),
    "huge gradients": parts.drawn(
        _clip_args, ({"W_xh": (5, 2), "W_hh": (5, 5), "b_h": (5,), "W_hy": (3, 5), "b_y": (3,)}, 1e6, 5.0)
    ),
}


@parts.verifier
def _verify_clip(case: parts.Case, result: object) -> None:
    name = "clip_by_global_norm"
    parts.raise_if_error(name, result, case)
    grads, max_norm = case.args
    clipped, norm = _check_tuple(
        result, name, 2, "the clipped gradients (a dict) and the norm before clipping (a float)"
    )
    expected, expected_norm = reference_clip(grads, max_norm)
    if not isinstance(norm, (int, float)) or isinstance(norm, bool):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(norm)} for the norm; return a Python float."
        )
    squared = sum(float(np.sum(g**2)) for g in grads.values())
    per_array = {key: float(np.linalg.norm(g)) for key, g in grads.items()}
    norm_mistakes = {
        "the norm is not square-rooted: ||g|| = sqrt(sum of every squared entry of every gradient)": np.array(
            squared
        ),
        "the norm is returned after clipping; return the norm before clipping (it is what you log)": np.array(
            min(expected_norm, max_norm)
        ),
        "the norm is the sum of the arrays' norms; it is the square root of the sum of their squared norms": np.array(
            sum(per_array.values())
        ),
    }
    core.compare(np.array(float(norm)), np.array(expected_norm), f"{name} (the norm)", norm_mistakes)
    shapes = {key: g.shape for key, g in grads.items()}
    got = _check_dict(clipped, name, list(grads), shapes)
    by_entry = clip_elementwise(grads, max_norm)
    for key in grads:
        own = per_array[key]
        mistakes = {
            "each element is clipped on its own (np.clip), which changes the direction; scale every gradient by the one factor max_norm / ||g||": by_entry[
                key
            ],
            "each gradient is clipped by its own norm; use one global norm over all of them": grads[key]
            * (min(1.0, max_norm / own) if own > 0 else 1.0),
            "gradients below the threshold are scaled up; only scale when ||g|| > max_norm (factor min(1, max_norm / ||g||))": grads[
                key
            ]
            * (max_norm / expected_norm if expected_norm > 0 else 1.0),
        }
        core.compare(got[key], expected[key], f"{name} (the gradient {key!r})", mistakes)


CLIP = parts.Part(
    grade_id="test_clip_by_global_norm",
    function="clip_by_global_norm",
    title="Part 3: clipping by global norm",
    points=2,
    visible=_visible_clip,
    verify=_verify_clip,
    hidden=_HIDDEN_CLIP,
    parameters=("grads", "max_norm"),
)


def clip_by_global_norm(fn: Callable[..., Any]) -> None:
    """``clip_by_global_norm(grads, max_norm)`` -> (clipped dict, norm before clipping)."""
    parts.run_part_in_process(CLIP, fn)


# -- Part 4: truncated BPTT training over chunks -------------------------------------

_VISIBLE_TBPTT: list[tuple[str, LMShape, int, float]] = [
    ("two chunks: T=6, k=3", (2, 6, 3, 4, 4), 3, 0.5),
    ("two chunks, batch 3: T=8, k=4", (3, 8, 4, 5, 3), 4, 0.3),
]
_HIDDEN_TBPTT: list[tuple[str, LMShape, int, float]] = [
    ("a shorter last chunk: T=5, k=3", (2, 5, 3, 4, 4), 3, 0.5),
    ("one chunk: k = T", (2, 4, 3, 3, 3), 4, 0.5),
    ("chunks of length 1", (2, 3, 2, 3, 3), 1, 0.2),
    ("batch 1, three chunks", (1, 6, 3, 4, 5), 2, 0.4),
]
_LR = 0.5


def tbptt_cases(seed: int, specs: Sequence[tuple[str, LMShape, int, float]]) -> list[parts.Case]:
    """``tbptt_train(params, x, targets, h0, k, lr, max_norm)`` cases, case i drawn with seed + i."""
    cases = []
    for i, (name, shape, k, max_norm) in enumerate(specs):
        params, x, targets, _, h0 = lm_inputs(seed + i, shape)
        cases.append(parts.Case(name, (params, x, targets, h0, k, _LR, max_norm)))
    return cases


def _visible_tbptt() -> list[parts.Case]:
    return tbptt_cases(80, _VISIBLE_TBPTT)


def tbptt_variant(
    args: tuple[Any, ...],
    *,
    carry: bool = True,
    detach: bool = True,
    update_each_chunk: bool = True,
    clip: str = "global",
) -> tuple[dict[str, np.ndarray], np.ndarray, list[float]]:
    """Truncated BPTT with switches for the typical mistakes (defaults: correct).

    ``carry=False`` restarts every chunk from h0; ``detach=False`` sends each
    chunk's dh0 back through the earlier chunks' graphs (as torch does with
    ``retain_graph=True``: with the weights each chunk was run with);
    ``update_each_chunk=False`` sums the chunks' gradients into one update
    at the end; ``clip`` is "global", "none" or "entries". ``args`` are a
    case's arguments of ``tbptt_train``: params (name -> array), x (N, T, D),
    targets (N, T), h0 (N, H), the chunk length k, lr and max_norm.
    """
    given, x, targets, h0, k, lr, max_norm = args
    params = {name: given[name].copy() for name in RNN_LM_PARAMS}
    T = x.shape[1]
    h, losses = h0, []
    caches: list[SequenceCache] = []
    total: dict[str, np.ndarray] = {name: np.zeros_like(p) for name, p in params.items()}
    for t0 in range(0, T, k):
        xs, ys = x[:, t0 : t0 + k], targets[:, t0 : t0 + k]
        start = h if carry else h0
        loss, grads, h_end = rnn_lm_loss_and_grads(params, xs, ys, None, start)
        if not detach:
            dh = grads["h0"]
            for cache in reversed(caches):  # back through the earlier chunks
                upstream = np.zeros_like(cache.h)
                upstream[:, -1] = dh
                _, dh, dW_xh, dW_hh, db_h = rnn_backward(upstream, cache)
                grads["W_xh"], grads["W_hh"], grads["b_h"] = (
                    grads["W_xh"] + dW_xh,
                    grads["W_hh"] + dW_hh,
                    grads["b_h"] + db_h,
                )
            caches.append(rnn_forward(xs, start, params["W_xh"], params["W_hh"], params["b_h"])[1])
        grads.pop("h0")
        if clip == "global":
            grads = reference_clip(grads, max_norm)[0]
        elif clip == "entries":
            grads = clip_elementwise(grads, max_norm)
        if update_each_chunk:
            params = {name: params[name] - lr * grads[name] for name in RNN_LM_PARAMS}
        else:
            total = {name: total[name] + grads[name] for name in RNN_LM_PARAMS}
        losses.append(loss)
        h = h_end
    if not update_each_chunk:
        params = {name: params[name] - lr * total[name] for name in RNN_LM_PARAMS}
    return params, h, losses


_TBPTT_MISTAKES: dict[str, dict[str, Any]] = {
    "the state is not carried: every chunk starts again from h0; start each chunk from the state the previous chunk ended in": {
        "carry": False
    },
    "the gradient crosses the chunk boundary (the state is not detached): the state carried into a chunk is a constant, so drop the chunk's dh0 instead of passing it back into the previous chunk": {
        "detach": False
    },
    "the parameters are updated once at the end; truncated BPTT updates after every chunk, and the next chunk runs with the new parameters": {
        "update_each_chunk": False
    },
    "the gradients are not clipped: clip them by global norm (your clip_by_global_norm) before every update": {
        "clip": "none"
    },
    "each element is clipped on its own; clip by global norm, which keeps the direction": {"clip": "entries"},
}


@parts.verifier
def _verify_tbptt(case: parts.Case, result: object) -> None:
    name = "tbptt_train"
    parts.raise_if_error(name, result, case)
    params, x, targets, h0, k, lr, max_norm = case.args
    N, T, _ = x.shape
    H = params["W_hh"].shape[0]
    new_params, h_last, losses = _check_tuple(
        result, name, 3, "the new parameters (a dict), the final state h (N, H) and the list of chunk losses"
    )
    exp_params, exp_h, exp_losses = rnn_lm_tbptt_sgd(dict(params), x, targets, h0, k, lr, max_norm)
    variants = {d: tbptt_variant(case.args, **switches) for d, switches in _TBPTT_MISTAKES.items()}
    if not isinstance(losses, (list, tuple)) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in losses
    ):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(losses)} for the losses; return a list of floats, one per chunk."
        )
    if len(losses) != len(exp_losses):
        raise core.GradingFailure(
            f"{name} returned {len(losses)} chunk losses for T={T} and k={k}; there are {len(exp_losses)} chunks (the last may be shorter than k)."
        )
    core.compare(
        np.array(losses, dtype=np.float64),
        np.array(exp_losses),
        f"{name} (the chunk losses)",
        {d: np.array(v[2]) for d, v in variants.items()},
    )
    got = _check_dict(new_params, name, RNN_LM_PARAMS, {key: params[key].shape for key in RNN_LM_PARAMS})
    for key in RNN_LM_PARAMS:
        mistakes = {d: v[0][key] for d, v in variants.items()}
        mistakes[
            "the parameters were not updated: theta <- theta - lr * clipped gradient after every chunk"
        ] = params[key]
        core.compare(got[key], exp_params[key], f"{name} (the new {key!r})", mistakes)
    h_last = core.check_array(h_last, f"{name} (the final state)", (N, H), "the final state h (N, H)")
    core.compare(
        h_last,
        exp_h,
        f"{name} (the final state)",
        {"the final state is h0; return the state after the last chunk": h0},
    )


TBPTT_TRAIN = parts.Part(
    grade_id="test_tbptt_train",
    function="tbptt_train",
    title="Part 4: truncated BPTT, one update per chunk, the state carried across",
    points=3,
    visible=_visible_tbptt,
    verify=_verify_tbptt,
    hidden=parts.hidden_from(tbptt_cases, {spec[0]: spec for spec in _HIDDEN_TBPTT}),
    substitutes={
        "bptt": source_of(correct.bptt),
        "clip_by_global_norm": source_of(correct.clip_by_global_norm),
        "rnn_step_backward": source_of(correct.rnn_step_backward),
    },
    parameters=("params", "x", "targets", "h0", "k", "lr", "max_norm"),
)


def tbptt_train(fn: Callable[..., Any]) -> None:
    """``tbptt_train(params, x, targets, h0, k, lr, max_norm)`` -> new params, final state, chunk losses."""
    parts.run_part_in_process(TBPTT_TRAIN, fn)


# -- Part 5: sampling text from the trained model ------------------------------------

GenerateSpec = tuple[int, int, int, float]  # V characters, H units, n characters drawn, temperature

_VISIBLE_GENERATE: list[tuple[str, GenerateSpec]] = [
    ("V=5, H=4, 12 characters, temperature 1", (5, 4, 12, 1.0)),
    ("V=6, H=3, 10 characters, temperature 0.5", (6, 3, 10, 0.5)),
]
_HIDDEN_GENERATE: dict[str, GenerateSpec] = {
    "one character": (4, 3, 1, 1.0),
    "a high temperature, 2": (5, 4, 15, 2.0),
    "a low temperature, 0.1: nearly the most likely": (6, 5, 12, 0.1),
    "a larger vocabulary, V = 30": (30, 8, 20, 0.8),
    "one hidden unit": (4, 1, 10, 1.0),
}
#: A drawn u is kept only this far from every cumulative probability on the reference's path,
#: so that summing the probabilities in another order cannot change a character.
_BOUNDARY_MARGIN = 1e-9


def generate_reference(
    params: Mapping[str, np.ndarray], h: np.ndarray, first_id: int, uniforms: np.ndarray, temperature: float
) -> tuple[list[int], float]:
    """The ids drawn, and the smallest distance of a u from a cumulative probability on the way.

    One-hot inputs: x_t W_xh^T is column x of W_xh. Each step: h = tanh(W_xh[:, x] + W_hh h + b_h),
    p = softmax((W_hy h + b_y) / temperature), x = the first i with p_0 + ... + p_i > u.
    """
    ids, x, closest = [], int(first_id), np.inf
    for u in uniforms:
        h = np.tanh(params["W_xh"][:, x] + params["W_hh"] @ h + params["b_h"])
        cumulative = np.cumsum(softmax((params["W_hy"] @ h + params["b_y"]) / temperature))
        closest = min(closest, float(np.min(np.abs(cumulative - u))))
        x = int(min(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1))
        ids.append(x)
    return ids, closest


def generate_cases(seed: int, specs: Sequence[tuple[str, GenerateSpec]]) -> list[parts.Case]:
    """``generate(params, h, first_id, uniforms, temperature)`` cases, case i drawn from seed + i.

    The readout is scaled up so that the distributions are far from uniform; the uniform
    numbers are drawn again until none lies within ``_BOUNDARY_MARGIN`` of a boundary.
    """
    cases = []
    for i, (name, (V, H, n, temperature)) in enumerate(specs):
        p = core.float64_inputs(seed + i, W_xh=(H, V), W_hh=(H, H), b_h=(H,), W_hy=(V, H), b_y=(V,), h=(H,))
        params = {name: p[name] for name in RNN_LM_PARAMS}
        params["W_xh"], params["W_hy"] = 2.0 * params["W_xh"], 3.0 * params["W_hy"]
        rng = np.random.default_rng(seed + i)
        first = int(rng.integers(V))
        while True:
            uniforms = rng.random(n)
            if generate_reference(params, p["h"], first, uniforms, temperature)[1] > _BOUNDARY_MARGIN:
                break
        cases.append(parts.Case(name, (params, p["h"], first, uniforms, temperature)))
    return cases


def _visible_generate() -> list[parts.Case]:
    return generate_cases(60, _VISIBLE_GENERATE)


def generate_variant(
    params: Mapping[str, np.ndarray],
    h: np.ndarray,
    first_id: int,
    uniforms: np.ndarray,
    temperature: float,
    mistake: str,
) -> list[int]:
    """The ids a loop with one typical mistake draws."""
    ids, x, h0 = [], int(first_id), h
    scale = {"multiplied": 1 / temperature**2, "no temperature": 1 / temperature}.get(mistake, 1.0)
    for u in uniforms:
        if mistake == "drawn before the step":
            z = params["W_hy"] @ h + params["b_y"]
        start = h0 if mistake == "not carried" else h
        h = np.tanh(params["W_xh"][:, x] + params["W_hh"] @ start + params["b_h"])
        if mistake != "drawn before the step":
            z = params["W_hy"] @ h + params["b_y"]
        p = softmax(z / (temperature * scale))
        drawn_id = (
            int(np.argmax(p))
            if mistake == "argmax"
            else int(min(np.searchsorted(np.cumsum(p), u, side="right"), len(p) - 1))
        )
        ids.append(drawn_id)
        x = int(first_id) if mistake == "not fed back" else drawn_id
    return ids


_GENERATE_MISTAKES = {
    "multiplied": "the logits are multiplied by the temperature; divide them: softmax(z / temperature)",
    "no temperature": "the temperature is left out: the distribution is softmax(z / temperature)",
    "not carried": "the state is not carried: each character's step must start from the state the step "
    "before ended in, not from the h you were given",
    "not fed back": "the drawn character is not fed back: the next step's input is the id just drawn, not "
    "first_id again",
    "argmax": "the most likely character is taken every time (argmax); draw it with the uniform number: "
    "the first i whose cumulative probability p_0 + ... + p_i exceeds u",
    "drawn before the step": "the character is drawn from the state before the step: first update h with "
    "the input, then draw from the new state's logits",
}


def _as_ids(result: object, name: str, n: int) -> list[int]:
    if isinstance(result, np.ndarray) and result.ndim == 1 and np.issubdtype(result.dtype, np.integer):
        result = result.tolist()
    if not isinstance(result, (list, tuple)) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in result
    ):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return the drawn ids as a list of Python ints (int(i))."
        )
    if len(result) == n + 1:
        raise core.GradingFailure(
            f"{name} returned {n + 1} ids for {n} uniform numbers: return only the {n} drawn ids, not "
            "first_id."
        )
    if len(result) != n:
        raise core.GradingFailure(f"{name} returned {len(result)} ids; draw one per uniform number: {n}.")
    return list(result)


@parts.verifier
def _verify_generate(case: parts.Case, result: object) -> None:
    name = "generate"
    parts.raise_if_error(name, result, case)
    params, h, first_id, uniforms, temperature = case.args
    got = _as_ids(result, name, len(uniforms))
    expected, _ = generate_reference(params, h, first_id, uniforms, temperature)
    if got == expected:
        return
    named = [
        message
        for key, message in _GENERATE_MISTAKES.items()
        if (variant := generate_variant(params, h, first_id, uniforms, temperature, key)) == got
        and variant != expected
    ]
    if named:
        raise core.GradingFailure(f"{name} draws other characters. Likely mistake: {'; or '.join(named)}.")
    first_wrong = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    raise core.GradingFailure(
        f"{name} draws other characters from position {first_wrong} on (id {got[first_wrong]} where "
        f"{expected[first_wrong]} was due). At each step: h = tanh(W_xh[:, x] + W_hh @ h + b_h) with x the "
        "last id, the logits W_hy @ h + b_y divided by the temperature, their softmax, then the first i "
        "whose cumulative probability exceeds u."
    )


GENERATE = parts.Part(
    grade_id="test_generate",
    function="generate",
    title="Part 5: sampling text from the model",
    points=2,
    visible=_visible_generate,
    verify=_verify_generate,
    hidden=parts.hidden_from(generate_cases, {name: (name, spec) for name, spec in _HIDDEN_GENERATE.items()}),
    parameters=("params", "h", "first_id", "uniforms", "temperature"),
)


def generate(fn: Callable[..., Any]) -> None:
    """``generate(params, h, first_id, uniforms, temperature)`` -> the drawn ids, a list of n ints."""
    parts.run_part_in_process(GENERATE, fn)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [RNN_STEP_BACKWARD, BPTT, CLIP, TBPTT_TRAIN, GENERATE]
