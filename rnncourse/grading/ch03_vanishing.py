"""Checks for exercise 3, vanishing and exploding gradients: five parts.

1. ``gradient_norms(h, W_hh, dh_last)``: ||dL/dh_t|| for t = 0..T through a tanh RNN.
2. ``diagnose(W_hh, gamma)``: (gamma sigma_max, gamma rho, verdict) from singular values and eigenvalues.
3. ``clip_by_global_norm(grads, max_norm)``: (clipped dict, norm before clipping).
4. ``train_with_clipping(w0, target, T, lr, max_norm, steps)``: a diverging run made to converge.
5. ``recurrent_init(A, scheme, gain)``: orthogonal (gain Q), identity (gain I) or spectral radius gain.

``PARTS`` lists them as ``parts.Part`` (see chapter 1's module for how the
notebook, the lab and the autograder use it). Visible cases are built from
deterministic float64 inputs; each hidden case says how to draw its inputs
(the matrices' structure and verdict fixed here, their values drawn from the
instructor's secret at grading time); every comparison is ``core.compare`` (relative
to the array's scale) and a known mistake is named only when it, and no
correct answer, explains the result. The reference of part 1 (a backward
pass) is proven against central differences in the tests
(``tests/grading/test_ch03_vanishing_checks.py``), and ``numerical_state_gradients``
lets anyone redo that proof on a case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.grading.core import (
    TOLERANCE,
    GradingFailure,
    check_array,
    compare,
    float64_inputs,
    type_name,
)
from rnncourse.grading.parts import (
    Case,
    Draw,
    LearnerError,
    Part,
    drawn,
    error_message,
    hidden_from,
    run_part_in_process,
    seed_of,
    verifier,
)
from rnncourse.grading.substitutes import ch03_vanishing as correct
from rnncourse.grading.substitutes import optim, source_of
from rnncourse.initialisation import from_matrix
from rnncourse.scratch.gradient_flow import (
    EXPLODES,
    GROWS_THEN_VANISHES,
    VANISHES,
    FlowCache,
    flow_backward,
    flow_forward,
)
from rnncourse.scratch.gradient_flow import (
    diagnose as reference_diagnose,
)
from rnncourse.scratch.gradient_flow import gradient_norms as norms_of
from rnncourse.scratch.optim import clip_by_global_norm as reference_clip

VERDICTS = (VANISHES, GROWS_THEN_VANISHES, EXPLODES)


def _raise_if_error(name: str, result: object, case: Case, advice: str = "") -> None:
    if isinstance(result, LearnerError):
        raise GradingFailure(error_message(name, result, case, advice))


# -- Correct earlier parts and the provided helper, substituted while later parts run ---


def _loss_and_grad(w: float, target: float, T: int) -> tuple[float, float]:
    with np.errstate(all="ignore"):  # a wrong answer's run may overflow to inf
        power = np.float64(w) ** T
        error = power - target
        return float(0.5 * error**2), float(error * T * np.float64(w) ** (T - 1))


# -- Part 1: gradient norms through time ------------------------------------------------

Shape3 = tuple[int, int, int]
_VISIBLE_NORMS_SEED, _VISIBLE_NORMS_SHAPES = 10, ((2, 6, 3), (3, 10, 4))
_HIDDEN_NORMS_SHAPES: dict[str, Shape3] = {
    "one step, T = 1": (2, 1, 3),
    "one example, N = 1": (1, 7, 5),
    "one hidden unit": (4, 9, 1),
    "a long sequence, T = 40": (2, 40, 6),
    "all sizes 1": (1, 1, 1),
}
_RECURRENT_SCALE = 1.5  # W_hh entries in [-1.5, 1.5): some steps grow the gradient, others shrink it


def norms_inputs(seed: int, N: int, T: int, H: int) -> dict[str, np.ndarray]:
    """The full forward of a case: x (N, T, 2), h0, W_xh, W_hh, b_h, and dh_last (N, H)."""
    p = float64_inputs(seed, x=(N, T, 2), h0=(N, H), W_xh=(H, 2), W_hh=(H, H), b_h=(H,), dh_last=(N, H))
    p["W_hh"] = _RECURRENT_SCALE * p["W_hh"]
    return p


def norms_cases(seed: int, shapes: Sequence[Shape3]) -> list[Case]:
    """``gradient_norms(h, W_hh, dh_last)`` for each (N, T, H): h the states of a real tanh RNN."""
    cases = []
    for i, (N, T, H) in enumerate(shapes):
        p = norms_inputs(seed + i, N, T, H)
        h, _ = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], "tanh")
        cases.append(Case(f"N={N}, T={T}, H={H}", (h, p["W_hh"], p["dh_last"])))
    return cases


def _visible_norms() -> list[Case]:
    return norms_cases(_VISIBLE_NORMS_SEED, _VISIBLE_NORMS_SHAPES)


def reference_gradient_norms(h: np.ndarray, W_hh: np.ndarray, dh_last: np.ndarray) -> np.ndarray:
    """The course's answer: norms of ``flow_backward`` of a tanh RNN, (T + 1,)."""
    return norms_of(flow_backward(dh_last, FlowCache(h, W_hh, "tanh")))


def numerical_state_gradients(p: Mapping[str, np.ndarray]) -> np.ndarray:
    """dL/dh_t, t = 0..T, by central differences of L = dh_last . h_T (the proof of part 1's reference).

    Args:
        p: ``norms_inputs`` of a case.

    Returns:
        (N, T + 1, H).
    """
    h, _ = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])
    N, T, H = h.shape
    grads = np.empty((N, T + 1, H))
    for t in range(T + 1):
        start = (p["h0"] if t == 0 else h[:, t - 1]).copy()

        def last_state(start: np.ndarray = start, t: int = t) -> np.ndarray:
            if t == T:
                return start
            return flow_forward(p["x"][:, t:], start, p["W_xh"], p["W_hh"], p["b_h"])[0][:, -1]

        grads[:, t] = numerical_gradient(last_state, start, p["dh_last"])
    return grads


def _norms_variant(h: np.ndarray, W_hh: np.ndarray, g: np.ndarray, mistake: str) -> np.ndarray:
    """What a loop with one typical mistake returns, (T + 1,)."""
    T = h.shape[1]
    norms = np.empty(T + 1)
    norms[T] = np.sqrt(np.sum(g**2))
    per_example = [np.linalg.norm(g, axis=1).mean()]
    for t in range(T - 1, -1, -1):  # h[:, t] is h_{t+1}
        state = h[:, t - 1] if mistake == "off by one" else h[:, t]
        local = {"no derivative": 1.0, "1 - h": 1.0 - state}.get(mistake, 1.0 - state**2)
        weights = W_hh.T if mistake == "transposed" else W_hh
        g = (g * local) @ weights
        norms[t] = np.sqrt(np.sum(g**2))
        per_example.append(np.linalg.norm(g, axis=1).mean())
    if mistake == "per example":
        return np.array(per_example[::-1])
    return norms


@verifier
def _verify_norms(case: Case, result: object) -> None:
    name = "gradient_norms"
    _raise_if_error(name, result, case)
    h, W_hh, g = case.args
    T = h.shape[1]
    if isinstance(result, np.ndarray) and result.shape == (T,) and T > 0:
        raise GradingFailure(
            f"{name} returned {T} norms; return T + 1 = {T + 1}: entry t is ||dL/dh_t|| for t = 0..T, "
            "with dL/dh_0 (the gradient reaching the initial state) at index 0 and ||dh_last|| at index T."
        )
    if isinstance(result, np.ndarray) and result.ndim == 2:
        raise GradingFailure(
            f"{name} returned an array of shape {result.shape}; return one norm per step, shape ({T + 1},): "
            "the norm over the whole batch and every unit, np.sqrt(np.sum(g**2))."
        )
    result = check_array(result, name, (T + 1,), "the norms ||dL/dh_t||, t = 0..T")
    expected = reference_gradient_norms(h, W_hh, g)
    mistakes = {
        "the tanh derivative is missing: multiply by 1 - h_t**2 before multiplying by W_hh": _norms_variant(
            h, W_hh, g, "no derivative"
        ),
        "tanh'(a) is 1 - h**2, not 1 - h": _norms_variant(h, W_hh, g, "1 - h"),
        "W_hh is transposed: for rows, dL/dh_{t-1} = (dL/dh_t * (1 - h_t**2)) @ W_hh": _norms_variant(
            h, W_hh, g, "transposed"
        ),
        "the derivative is taken at the wrong step (off by one): the step from h_{t-1} to h_t uses "
        "1 - h_t**2, and h_t is h[:, t - 1]": _norms_variant(h, W_hh, g, "off by one"),
        "the norms are in reverse order: index t holds ||dL/dh_t||, so index T is ||dh_last||": expected[
            ::-1
        ],
        "these are squared norms: take the square root": expected**2,
        "this is the mean of the per-example norms; take one norm over the whole batch, "
        "np.sqrt(np.sum(g**2))": _norms_variant(h, W_hh, g, "per example"),
    }
    compare(result, expected, name, mistakes)


GRADIENT_NORMS = Part(
    grade_id="test_gradient_norms",
    function="gradient_norms",
    title="Part 1: gradient norms through time",
    points=3,
    visible=_visible_norms,
    verify=_verify_norms,
    hidden=hidden_from(norms_cases, _HIDDEN_NORMS_SHAPES),
    parameters=("h", "W_hh", "dh_last"),
)


def gradient_norms(
    gradient_norms_fn: Callable[..., np.ndarray],
    seed: int | None = None,
    shapes: Sequence[Shape3] | None = None,
) -> None:
    """``gradient_norms(h, W_hh, dh_last)`` -> (T + 1,) norms; ``shapes`` lists (N, T, H)."""
    cases = None
    if seed is not None or shapes is not None:
        cases = norms_cases(
            _VISIBLE_NORMS_SEED if seed is None else seed, _VISIBLE_NORMS_SHAPES if shapes is None else shapes
        )
    run_part_in_process(GRADIENT_NORMS, gradient_norms_fn, cases=cases)


# -- Part 2: what W_hh predicts ----------------------------------------------------------


def _rotation(angle: float, scale: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def _shift(size: int, radius: float, coupling: float) -> np.ndarray:
    return radius * np.eye(size) + coupling * np.eye(size, k=1)


def _symmetric(seed: int, size: int, radius: float) -> np.ndarray:
    A = np.random.default_rng(seed).uniform(-1.0, 1.0, (size, size))
    S = A + A.T
    return S * (radius / np.max(np.abs(np.linalg.eigvalsh(S))))


def _visible_diagnose() -> list[Case]:
    return [
        Case("a normal matrix, 0.5 times a rotation", (_rotation(0.7, 0.5), 1.0)),
        Case("non-normal: rho = 0.9 but sigma_max > 2", (_shift(4, 0.9, 2.0), 1.0)),
        Case("complex eigenvalues of modulus 1.2", (_rotation(1.1, 1.2), 1.0)),
    ]


#: A drawn matrix is kept only when gamma sigma_max and gamma rho are this far from 1: a
#: verdict then cannot depend on how an answer rounds.
_VERDICT_MARGIN = 0.02


def _diagnose_draw(
    make: Callable[[np.random.Generator], tuple[np.ndarray, float]], verdict: str | None
) -> Draw:
    """Draws ``make(rng)`` until its verdict is ``verdict`` (any, if None), clear of the boundary at 1."""

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, float]:
        while True:
            W, gamma = make(rng)
            sigma, rho, found = reference_diagnose(W, gamma)
            clear = min(abs(sigma - 1.0), abs(rho - 1.0)) > _VERDICT_MARGIN
            if clear and verdict in (None, found):
                return W, gamma

    return draw


def _random_square(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    return scale * rng.uniform(-1.0, 1.0, (size, size))


_HIDDEN_DIAGNOSE: dict[str, Draw] = {
    "a sigmoid network, gamma = 1/4": _diagnose_draw(
        lambda rng: (_shift(3, rng.uniform(1.6, 2.4), rng.uniform(1.0, 2.0)), 0.25), VANISHES
    ),
    "one unit, a negative weight below -1": _diagnose_draw(
        lambda rng: (np.array([[-rng.uniform(1.2, 2.0)]]), 1.0), EXPLODES
    ),
    "one unit, a weight between 0 and 1": _diagnose_draw(
        lambda rng: (np.array([[rng.uniform(0.2, 0.8)]]), 1.0), VANISHES
    ),
    "symmetric, rho just below 1": _diagnose_draw(
        lambda rng: (_symmetric(seed_of(rng), 5, rng.uniform(0.9, 0.97)), 1.0), VANISHES
    ),
    "non-normal, sigmoid: gamma rho < 1 <= gamma sigma_max": _diagnose_draw(
        lambda rng: (_shift(5, rng.uniform(2.5, 3.5), rng.uniform(2.5, 3.5)), 0.25), GROWS_THEN_VANISHES
    ),
    "a random 6 x 6 matrix": _diagnose_draw(lambda rng: (_random_square(rng, 6, 1.0), 1.0), None),
    "a random 6 x 6 matrix, gamma = 1/4": _diagnose_draw(
        lambda rng: (_random_square(rng, 6, 3.0), 0.25), None
    ),
    "complex eigenvalues, sigmoid": _diagnose_draw(
        lambda rng: (_rotation(rng.uniform(0.5, 2.5), rng.uniform(4.5, 6.0)), 0.25), EXPLODES
    ),
}


def _verdict_from(sigma: float, rho: float) -> str:
    return VANISHES if sigma < 1 else GROWS_THEN_VANISHES if rho < 1 else EXPLODES


@verifier
def _verify_diagnose(case: Case, result: object) -> None:
    name = "diagnose"
    _raise_if_error(name, result, case)
    W, gamma = case.args
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise GradingFailure(
            f"{name} returned {type_name(result)}; return three things: `return sigma, rho, verdict` "
            "(two floats and one of the strings " + ", ".join(repr(v) for v in VERDICTS) + ")."
        )
    sigma, rho, verdict = result
    if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (sigma, rho)):
        raise GradingFailure(
            f"{name}: sigma and rho must be numbers (floats), got {type_name(sigma)} and {type_name(rho)}; "
            "a complex eigenvalue counts by its modulus, np.abs."
        )
    expected_sigma, expected_rho, expected_verdict = reference_diagnose(W, gamma)
    eigenvalues = np.linalg.eigvals(W)
    singular = np.linalg.svd(W, compute_uv=False)
    numbers = {
        "gamma is left out: multiply sigma_max and rho by gamma (1/4 for a sigmoid network)": (
            singular[0],
            float(np.max(np.abs(eigenvalues))),
        ),
        "rho is the largest real part of an eigenvalue; it is the largest modulus, np.abs(eigenvalues).max() "
        "(eigenvalues of a real matrix are complex in general)": (
            expected_sigma,
            gamma * float(np.max(eigenvalues.real)),
        ),
        "sigma is the Frobenius norm; the largest singular value is np.linalg.norm(W_hh, 2)": (
            gamma * float(np.linalg.norm(W)),
            expected_rho,
        ),
        "sigma is the largest |eigenvalue|, not the largest singular value": (expected_rho, expected_rho),
    }
    got = np.array([float(sigma), float(rho)])
    wanted = np.array([expected_sigma, expected_rho])
    if rel_error(got[:1], wanted[:1]) >= TOLERANCE or rel_error(got[1:], wanted[1:]) >= TOLERANCE:
        for mistake, (s, r) in numbers.items():
            variant = np.array([s, r])
            if rel_error(variant, wanted) > 1e-6 and rel_error(got, variant) < TOLERANCE:
                raise GradingFailure(f"{name} gives wrong numbers. Likely mistake: {mistake}.")
        which = "sigma" if rel_error(got[:1], wanted[:1]) >= TOLERANCE else "rho"
        raise GradingFailure(
            f"{name}: {which} is wrong. sigma is gamma times the largest singular value of W_hh, rho gamma "
            "times the largest modulus of its eigenvalues."
        )
    if verdict not in VERDICTS:
        raise GradingFailure(
            f"{name} returned the verdict {verdict!r}; use exactly one of "
            + ", ".join(map(repr, VERDICTS))
            + "."
        )
    if verdict == expected_verdict:
        return
    if verdict == VANISHES and expected_verdict == GROWS_THEN_VANISHES:
        raise GradingFailure(
            f"{name} says {VANISHES!r} from the eigenvalues alone (gamma rho < 1), but gamma sigma_max >= 1: "
            "the first steps can grow the product, so it only vanishes in the end: "
            f"{GROWS_THEN_VANISHES!r}. The singular value decides whether every step shrinks it."
        )
    if verdict == EXPLODES and expected_verdict == GROWS_THEN_VANISHES:
        raise GradingFailure(
            f"{name} says {EXPLODES!r} from the singular value alone (gamma sigma_max >= 1), but gamma rho < 1: "
            f"in the limit the product decays like (gamma rho)^k, so the answer is {GROWS_THEN_VANISHES!r}. "
            "sigma_max > 1/gamma is necessary for exploding, not sufficient."
        )
    raise GradingFailure(
        f"{name} returned the verdict {verdict!r}; with gamma sigma_max = {expected_sigma:.3g} and gamma rho = "
        f"{expected_rho:.3g} it is {_verdict_from(expected_sigma, expected_rho)!r}"
        if not case.hidden
        else f"{name} returned the wrong verdict: compare gamma sigma_max with 1 first, then gamma rho."
    )


DIAGNOSE = Part(
    grade_id="test_diagnose",
    function="diagnose",
    title="Part 2: vanishing or exploding, from W_hh",
    points=3,
    visible=_visible_diagnose,
    verify=_verify_diagnose,
    hidden=_HIDDEN_DIAGNOSE,
    parameters=("W_hh", "gamma"),
)


def diagnose(diagnose_fn: Callable[..., Any], matrices: Sequence[tuple[Any, float]] | None = None) -> None:
    """``diagnose(W_hh, gamma)`` -> (gamma sigma_max, gamma rho, verdict); ``matrices`` lists (W_hh, gamma)."""
    cases = None
    if matrices is not None:
        cases = [
            Case(f"matrix {i + 1}", (np.array(W, dtype=np.float64), float(g)))
            for i, (W, g) in enumerate(matrices)
        ]
    run_part_in_process(DIAGNOSE, diagnose_fn, cases=cases)


# -- Part 3: clipping by global norm -----------------------------------------------------


def clip_cases(
    seed: int, scale: float, max_norm: float, shapes: Mapping[str, tuple[int, ...]], name: str
) -> Case:
    """One case: gradients of ``shapes`` with entries in [-scale, scale), clipped to ``max_norm``."""
    grads = {key: scale * value for key, value in float64_inputs(seed, **shapes).items()}
    return Case(name, (grads, max_norm))


_RNN_SHAPES = {"W_xh": (4, 3), "W_hh": (4, 4), "b_h": (4,)}


def _visible_clip() -> list[Case]:
    return [
        clip_cases(1, 10.0, 1.0, _RNN_SHAPES, "an exploding gradient, norm far above max_norm"),
        clip_cases(2, 0.05, 1.0, _RNN_SHAPES, "a small gradient, left alone"),
    ]


def _clip_args(
    seed: int, scale: float, max_norm: float, shapes: Mapping[str, tuple[int, ...]]
) -> tuple[Any, ...]:
    return clip_cases(seed, scale, max_norm, shapes, "").args


_HIDDEN_CLIP: dict[str, Draw] = {
    "a 3-d array and a single number": drawn(_clip_args, 100.0, 5.0, {"W": (3, 2, 2), "b": (1,)}),
    "one parameter of one entry": drawn(_clip_args, 3.0, 0.5, {"W_hh": (1, 1)}),
    "all gradients zero": drawn(_clip_args, 0.0, 1.0, {"W": (2, 2), "b": (2,)}),
    "four arrays": drawn(_clip_args, 1.0, 2.0, {"W_xh": (6, 5), "W_hh": (6, 6), "b_h": (6,), "W_hy": (2, 6)}),
    "far above, tiny max_norm": drawn(_clip_args, 1e3, 1e-3, {"W": (8, 8), "v": (8,)}),
}


@verifier
def _verify_clip(case: Case, result: object) -> None:
    name = "clip_by_global_norm"
    _raise_if_error(name, result, case)
    grads, max_norm = case.args
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[0], dict):
        raise GradingFailure(
            f"{name} returned {type_name(result)}; return two things: `return clipped, norm`, a dict with the "
            "same keys as grads and the norm before clipping (a float)."
        )
    clipped, norm = result
    expected, expected_norm = reference_clip(grads, max_norm)
    if set(clipped) != set(grads):
        raise GradingFailure(f"{name}: the clipped dict must have the keys of grads, {sorted(grads)}.")
    if not isinstance(norm, (int, float)) or isinstance(norm, bool):
        raise GradingFailure(f"{name}: the norm must be a number (a float), got {type_name(norm)}.")
    squared = float(sum(np.sum(g**2) for g in grads.values()))
    if rel_error(float(norm), expected_norm) >= TOLERANCE:
        if (
            squared > 0
            and abs(squared - expected_norm) > 1e-6 * expected_norm
            and rel_error(float(norm), squared) < TOLERANCE
        ):
            raise GradingFailure(f"{name}: the norm is the sum of squares; take its square root.")
        raise GradingFailure(
            f"{name}: the norm before clipping is wrong; it is sqrt of the sum of the squares of every entry "
            "of every array, all arrays together."
        )
    if squared == 0 and any(
        isinstance(g, np.ndarray) and g.dtype.kind == "f" and not np.all(np.isfinite(g))
        for g in clipped.values()
    ):
        raise GradingFailure(
            f"{name} returned NaN for all-zero gradients: their norm is 0, and max_norm / 0 is inf. "
            "Rescale only when the norm is above max_norm, and leave the gradients alone otherwise."
        )
    for key in grads:
        check_array(clipped[key], name, grads[key].shape, f"the clipped gradient of {key!r}")
    got = np.concatenate([np.ravel(clipped[key]) for key in sorted(grads)])
    want = np.concatenate([np.ravel(expected[key]) for key in sorted(grads)])
    raw = np.concatenate([np.ravel(grads[key]) for key in sorted(grads)])
    per_array = np.concatenate(
        [
            np.ravel(g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-300)))
            for _, g in sorted(grads.items())
        ]
    )
    mistakes = {
        "each entry is clipped to [-max_norm, max_norm] (np.clip): that changes the direction of the "
        "gradient; scale every array by the same factor max_norm / norm": np.clip(raw, -max_norm, max_norm),
        "each array is clipped by its own norm; use one norm over all arrays together": per_array,
        "the gradient is always rescaled to norm max_norm; scale it only when its norm is above max_norm": raw
        * (max_norm / np.sqrt(squared) if squared > 0 else 1.0),
    }
    compare(got, want, name, mistakes)


CLIP = Part(
    grade_id="test_clip_by_global_norm",
    function="clip_by_global_norm",
    title="Part 3: clipping by global norm",
    points=2,
    visible=_visible_clip,
    verify=_verify_clip,
    hidden=_HIDDEN_CLIP,
    parameters=("grads", "max_norm"),
)


def clip_by_global_norm(clip_fn: Callable[..., Any]) -> None:
    """``clip_by_global_norm(grads, max_norm)`` -> (clipped dict, norm before clipping)."""
    run_part_in_process(CLIP, clip_fn)


# -- Part 4: a diverging run, made to converge ------------------------------------------


def reference_train(w0: float, target: float, T: int, lr: float, max_norm: float, steps: int) -> np.ndarray:
    """w_0..w_steps of gradient descent with the gradient clipped to ``max_norm``: (steps + 1,)."""
    trajectory = [w0]
    w = w0
    for _ in range(steps):
        _, grad = _loss_and_grad(w, target, T)
        grad = grad * min(1.0, max_norm / abs(grad)) if grad != 0 else grad
        w = w - lr * grad
        trajectory.append(w)
    return np.array(trajectory)


def _train_variant(
    w0: float, target: float, T: int, lr: float, max_norm: float, steps: int, mistake: str
) -> np.ndarray:
    trajectory = [w0]
    w = w0
    with np.errstate(all="ignore"):
        for _ in range(steps):
            _, grad = _loss_and_grad(w, target, T)
            if mistake == "clip the update":
                update = lr * grad
                update = update * min(1.0, max_norm / abs(update)) if update != 0 else update
            elif mistake == "normalised":
                update = lr * max_norm * np.sign(grad)
            else:  # no clipping
                update = lr * grad
            w = w - update
            trajectory.append(w)
    return np.array(trajectory)


_TRAIN_VISIBLE = (("starts at 1.2: the first step would overshoot", (1.2, 1.0, 20, 0.002, 1.0, 300)),)

TrainArgs = tuple[float, float, int, float, float, int]  # w0, target, T, lr, max_norm, steps


def _visible_train() -> list[Case]:
    return [Case(name, args) for name, args in _TRAIN_VISIBLE]


def _steady(args: TrainArgs) -> bool:
    """Whether the run forgets a rounding error in w0 instead of amplifying it (a fair case to check)."""
    w0, *rest = args
    nudged = (w0 * (1.0 + 1e-13), *rest)
    return rel_error(reference_train(*args), reference_train(*nudged)) < 1e-11  # type: ignore[arg-type]


def _train_draw(make: Callable[[np.random.Generator], TrainArgs], keep: Callable[[TrainArgs], bool]) -> Draw:
    """Draws ``make(rng)`` until the run is steady and ``keep`` holds."""

    def draw(rng: np.random.Generator) -> TrainArgs:
        while True:
            args = make(rng)
            if _steady(args) and keep(args):
                return args

    return draw


def _never_clipped(args: TrainArgs) -> bool:
    _, target, T, _, max_norm, _ = args
    grads = [abs(_loss_and_grad(w, target, T)[1]) for w in reference_train(*args)]
    return max(grads) < 0.9 * max_norm


_HIDDEN_TRAIN: dict[str, Draw] = {
    "no steps": _train_draw(lambda rng: (rng.uniform(1.1, 1.3), 1.0, 20, 0.002, 1.0, 0), lambda a: True),
    "one step": _train_draw(lambda rng: (rng.uniform(1.2, 1.4), 1.0, 20, 0.002, 1.0, 1), lambda a: True),
    "clipping never needed": _train_draw(
        lambda rng: (rng.uniform(1.0005, 1.002), 1.0, 10, 0.005, 1.0, 50), _never_clipped
    ),
    "target 0.5, T = 30": _train_draw(
        lambda rng: (rng.uniform(1.12, 1.18), 0.5, 30, 0.001, 2.0, 400), lambda a: True
    ),
    "T = 1: an ordinary quadratic": _train_draw(
        lambda rng: (rng.uniform(4.0, 6.0), rng.uniform(1.5, 2.5), 1, 0.3, 0.5, 40), lambda a: True
    ),
    "from below: w0 just under 1, T = 50": _train_draw(
        lambda rng: (rng.uniform(0.94, 0.96), 1.0, 50, 0.0004, 1.0, 200), lambda a: True
    ),
}


@verifier
def _verify_train(case: Case, result: object) -> None:
    name = "train_with_clipping"
    _raise_if_error(name, result, case)
    w0, target, T, lr, max_norm, steps = case.args
    if isinstance(result, (list, tuple)):
        result = (
            np.asarray(result, dtype=np.float64)
            if all(isinstance(v, (int, float)) for v in result)
            else result
        )
    if isinstance(result, np.ndarray) and result.shape == (steps,) and steps > 0:
        raise GradingFailure(
            f"{name} returned {steps} weights; return steps + 1 = {steps + 1}: w0 first, then the weight after "
            "each update."
        )
    if (
        isinstance(result, np.ndarray)
        and result.shape == (steps + 1,)
        and np.issubdtype(result.dtype, np.floating)
    ) and not np.all(np.isfinite(result)):
        raise GradingFailure(
            f"{name}: the run diverged (inf or NaN): the gradient at w0 is huge, and one unclipped step "
            "throws w far away. Clip the gradient to norm max_norm before every update."
        )
    result = check_array(result, name, (steps + 1,), "the weights w_0..w_steps")
    expected = reference_train(w0, target, T, lr, max_norm, steps)
    mistakes = {
        f"{label}": _train_variant(w0, target, T, lr, max_norm, steps, key)
        for key, label in (
            ("no clipping", "the gradient is not clipped"),
            ("clip the update", "the update lr * g is clipped; clip the gradient g, then multiply by lr"),
            (
                "normalised",
                "every gradient is rescaled to norm max_norm; leave a gradient whose norm is at most max_norm alone",
            ),
        )
    }
    mistakes["the weights are shifted by one step: return w0 first, then the weight after each update"] = (
        np.concatenate([expected[1:], expected[-1:]])
    )
    compare(result, expected, name, {k: v for k, v in mistakes.items() if np.all(np.isfinite(v))})


TRAIN = Part(
    grade_id="test_train_with_clipping",
    function="train_with_clipping",
    title="Part 4: clipping makes a diverging run converge",
    points=3,
    visible=_visible_train,
    verify=_verify_train,
    hidden=_HIDDEN_TRAIN,
    substitutes={
        "clip_by_global_norm": source_of(optim.clip_by_global_norm),
        "loss_and_grad": source_of(correct.loss_and_grad),
    },
    parameters=("w0", "target", "T", "lr", "max_norm", "steps"),
)


def train_with_clipping(train_fn: Callable[..., Any]) -> None:
    """``train_with_clipping(w0, target, T, lr, max_norm, steps)`` -> w_0..w_steps, (steps + 1,)."""
    run_part_in_process(TRAIN, train_fn)


# -- Part 5: initialisations of W_hh ----------------------------------------------------


def _visible_init() -> list[Case]:
    inputs = float64_inputs(50, A4=(4, 4), A3=(3, 3), A5=(5, 5))
    return [
        Case("orthogonal, a random 4 x 4 matrix", (inputs["A4"], "orthogonal", 1.0)),
        Case("identity, 3 x 3, gain 1", (inputs["A3"], "identity", 1.0)),
        Case("spectral radius 0.9, a random 5 x 5 matrix", (inputs["A5"], "spectral", 0.9)),
    ]


def _uniform(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, shape)


_HIDDEN_INIT: dict[str, Draw] = {
    "orthogonal, one entry, negative": lambda rng: (
        np.array([[-rng.uniform(0.5, 3.0)]]),
        "orthogonal",
        rng.uniform(0.5, 1.5),
    ),
    "orthogonal, already a rotation": lambda rng: (_rotation(rng.uniform(0.1, 3.0), 1.0), "orthogonal", 1.0),
    "orthogonal, upper triangular with negative diagonal": lambda rng: (
        np.triu(_uniform(rng, 3, 3)) - 2 * np.eye(3),
        "orthogonal",
        1.0,
    ),
    "orthogonal, 12 x 12, a gain below 1": lambda rng: (
        _uniform(rng, 12, 12),
        "orthogonal",
        rng.uniform(0.8, 0.95),
    ),
    "identity, one unit, a gain below 1": lambda rng: (
        np.array([[rng.uniform(1.0, 4.0)]]),
        "identity",
        rng.uniform(0.3, 0.7),
    ),
    "identity, 6 x 6, a gain above 1": lambda rng: (_uniform(rng, 6, 6), "identity", rng.uniform(1.1, 1.3)),
    "spectral radius above 1, complex eigenvalues": lambda rng: (
        _rotation(rng.uniform(0.3, 2.8), rng.uniform(1.5, 2.5)),
        "spectral",
        rng.uniform(1.05, 1.2),
    ),
    "spectral radius below 1, non-normal": lambda rng: (
        _shift(4, -rng.uniform(0.3, 0.7), rng.uniform(2.0, 4.0)),
        "spectral",
        rng.uniform(0.9, 0.98),
    ),
    "spectral radius 1.0, one entry, negative": lambda rng: (
        np.array([[-rng.uniform(1.5, 4.0)]]),
        "spectral",
        1.0,
    ),
    "spectral radius 0.5, a random 8 x 8 matrix": lambda rng: (_uniform(rng, 8, 8), "spectral", 0.5),
}


def _init_mistakes(A: np.ndarray, scheme: str, gain: float, expected: np.ndarray) -> dict[str, np.ndarray]:
    if scheme == "identity":
        return {"the gain is missing: return gain * np.eye(H)": np.eye(A.shape[0])}
    if scheme == "spectral":
        eigenvalues = np.linalg.eigvals(A)
        return {
            "A is divided by its largest singular value (np.linalg.norm(A, 2)); the spectral radius is "
            "the largest modulus of the eigenvalues, np.abs(np.linalg.eigvals(A)).max()": A
            * (gain / np.linalg.norm(A, 2)),
            "A is divided by its largest real eigenvalue; eigenvalues are complex in general: take "
            "their modulus, np.abs": A * (gain / np.max(eigenvalues.real)),
            "the gain is missing: rescale to spectral radius gain, A * gain / rho(A)": A
            / np.max(np.abs(eigenvalues)),
        }
    Q, R = np.linalg.qr(A)
    return {
        "the signs are not fixed: multiply column j of Q by the sign of R[j, j], so that A = QR with a "
        "positive diagonal of R (np.linalg.qr does not promise one)": gain * Q,
        "the gain is missing: return gain * Q": expected / gain,
        "the signs are fixed on the rows of Q; it is the columns: Q * signs, not signs[:, None] * Q": gain
        * np.where(np.diag(R) < 0, -1.0, 1.0)[:, None]
        * Q,
        "this is Q transposed": expected.T,
    }


@verifier
def _verify_init(case: Case, result: object) -> None:
    name = "recurrent_init"
    _raise_if_error(name, result, case)
    A, scheme, gain = case.args
    H = A.shape[0]
    if isinstance(result, (tuple, list)):
        raise GradingFailure(f"{name} returned {type_name(result)}; return only the (H, H) matrix.")
    result = check_array(result, name, (H, H), f"the {scheme} recurrent matrix")
    expected = from_matrix(A, scheme, gain)
    if scheme == "orthogonal":
        scaled = result / gain
        if rel_error(scaled.T @ scaled, np.eye(H)) > 1e-6:
            raise GradingFailure(
                f"{name}: for 'orthogonal' the result / gain is not orthogonal (Q^T Q is not the identity). "
                "Take the Q of np.linalg.qr(A), not A rescaled, nor R."
            )
    compare(result, expected, name, _init_mistakes(A, scheme, gain, expected))


RECURRENT_INIT = Part(
    grade_id="test_recurrent_init",
    function="recurrent_init",
    title="Part 5: three initialisations of W_hh",
    points=3,
    visible=_visible_init,
    verify=_verify_init,
    hidden=_HIDDEN_INIT,
    parameters=("A", "scheme", "gain"),
)


def recurrent_init(init_fn: Callable[..., np.ndarray]) -> None:
    """``recurrent_init(A, scheme, gain)`` -> (H, H) for scheme "orthogonal", "identity" or "spectral"."""
    run_part_in_process(RECURRENT_INIT, init_fn)


#: The graded parts, in notebook order.
PARTS: list[Part] = [GRADIENT_NORMS, DIAGNOSE, CLIP, TRAIN, RECURRENT_INIT]
