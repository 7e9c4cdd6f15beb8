"""Checks for exercise 3, vanishing and exploding gradients: five parts.

1. ``gradient_norms(h, W_hh, dh_last)``: ||dL/dh_t|| for t = 0..T through a tanh RNN.
2. ``diagnose(W_hh, gamma)``: (gamma sigma_max, gamma rho, verdict) from singular values and
   eigenvalues, with "neutral" at gamma rho = 1 (within ``BOUNDARY_TOLERANCE``).
3. ``jacobian_product_norms(h, W_hh)``: ||J_T ... J_{T-k+1}||_2 for k = 0..T, the largest growth
   any gradient can get over k steps back, which the bound (gamma sigma_max)^k caps.
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
lets anyone redo that proof on a case; part 3's reference is proven there against
the explicit product of ``rnncourse.scratch.gradient_flow.step_jacobians``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch03_vanishing as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.initialisation import from_matrix
from rnncourse.scratch.gradient_flow import (
    BOUNDARY_TOLERANCE,
    EXPLODES,
    GROWS_THEN_VANISHES,
    NEUTRAL,
    VANISHES,
    FlowCache,
    flow_backward,
    flow_forward,
    step_jacobians,
)
from rnncourse.scratch.gradient_flow import (
    diagnose as reference_diagnose,
)
from rnncourse.scratch.gradient_flow import gradient_norms as norms_of

VERDICTS = (VANISHES, GROWS_THEN_VANISHES, NEUTRAL, EXPLODES)


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
    p = core.float64_inputs(seed, x=(N, T, 2), h0=(N, H), W_xh=(H, 2), W_hh=(H, H), b_h=(H,), dh_last=(N, H))
    p["W_hh"] = _RECURRENT_SCALE * p["W_hh"]
    return p


def norms_cases(seed: int, shapes: Sequence[Shape3]) -> list[parts.Case]:
    """``gradient_norms(h, W_hh, dh_last)`` for each (N, T, H): h the states of a real tanh RNN."""
    cases = []
    for i, (N, T, H) in enumerate(shapes):
        p = norms_inputs(seed + i, N, T, H)
        h, _ = flow_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], "tanh")
        cases.append(parts.Case(f"N={N}, T={T}, H={H}", (h, p["W_hh"], p["dh_last"])))
    return cases


def _visible_norms() -> list[parts.Case]:
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


@parts.verifier
def _verify_norms(case: parts.Case, result: object) -> None:
    name = "gradient_norms"
    parts.raise_if_error(name, result, case)
    h, W_hh, g = case.args
    T = h.shape[1]
    if isinstance(result, np.ndarray) and result.shape == (T,) and T > 0:
        raise core.GradingFailure(
            f"{name} returned {T} norms; return T + 1 = {T + 1}: entry t is ||dL/dh_t|| for t = 0..T, "
            "with dL/dh_0 (the gradient reaching the initial state) at index 0 and ||dh_last|| at index T."
        )
    if isinstance(result, np.ndarray) and result.ndim == 2:
        raise core.GradingFailure(
            f"{name} returned an array of shape {result.shape}; return one norm per step, shape ({T + 1},): "
            "the norm over the whole batch and every unit, np.sqrt(np.sum(g**2))."
        )
    result = core.check_array(result, name, (T + 1,), "the norms ||dL/dh_t||, t = 0..T")
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
    core.compare(result, expected, name, mistakes)


GRADIENT_NORMS = parts.Part(
    grade_id="test_gradient_norms",
    function="gradient_norms",
    title="Part 1: gradient norms through time",
    points=3,
    visible=_visible_norms,
    verify=_verify_norms,
    hidden=parts.hidden_from(norms_cases, _HIDDEN_NORMS_SHAPES),
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
    parts.run_part_in_process(GRADIENT_NORMS, gradient_norms_fn, cases=cases)


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


def _orthogonal(rng: np.random.Generator, size: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.uniform(-1.0, 1.0, (size, size)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def _visible_diagnose() -> list[parts.Case]:
    return [
        parts.Case("a normal matrix, 0.5 times a rotation", (_rotation(0.7, 0.5), 1.0)),
        parts.Case("non-normal: rho = 0.9 but sigma_max > 2", (_shift(4, 0.9, 2.0), 1.0)),
        parts.Case("the identity, as the IRNN starts: rho = sigma_max = 1", (np.eye(3), 1.0)),
        parts.Case("complex eigenvalues of modulus 1.2", (_rotation(1.1, 1.2), 1.0)),
    ]


#: A drawn matrix is kept only when gamma sigma_max and gamma rho are this far from 1: a
#: verdict then cannot depend on how an answer rounds.
_VERDICT_MARGIN = 0.02


def _diagnose_draw(
    make: Callable[[np.random.Generator], tuple[np.ndarray, float]], verdict: str | None
) -> parts.Draw:
    """Draws ``make(rng)`` until its verdict is ``verdict`` (any, if None), clear of the boundary at 1.

    A "neutral" draw must sit on the boundary instead: gamma rho within 1e-12 of 1, deep
    inside the band of ``BOUNDARY_TOLERANCE``.
    """

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, float]:
        while True:
            W, gamma = make(rng)
            sigma, rho, found = reference_diagnose(W, gamma)
            if verdict == NEUTRAL:
                clear = abs(rho - 1.0) < 1e-12
            else:
                clear = min(abs(sigma - 1.0), abs(rho - 1.0)) > _VERDICT_MARGIN
            if clear and verdict in (None, found):
                return W, gamma

    return draw


def _random_square(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    return scale * rng.uniform(-1.0, 1.0, (size, size))


_HIDDEN_DIAGNOSE: dict[str, parts.Draw] = {
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
        lambda rng: (_symmetric(parts.seed_of(rng), 5, rng.uniform(0.9, 0.97)), 1.0), VANISHES
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
    "the boundary: an orthogonal matrix, rho = 1 up to rounding": _diagnose_draw(
        lambda rng: (_orthogonal(rng, int(rng.integers(4, 9))), 1.0), NEUTRAL
    ),
    "the boundary, sigmoid: 4 times an orthogonal matrix": _diagnose_draw(
        lambda rng: (4.0 * _orthogonal(rng, 5), 0.25), NEUTRAL
    ),
    "the boundary: a rotation of modulus 1": _diagnose_draw(
        lambda rng: (_rotation(rng.uniform(0.3, 2.8), 1.0), 1.0), NEUTRAL
    ),
}


def _verdict_from(sigma: float, rho: float) -> str:
    tolerance = BOUNDARY_TOLERANCE
    if rho > 1 + tolerance:
        return EXPLODES
    if rho >= 1 - tolerance:
        return NEUTRAL
    return GROWS_THEN_VANISHES if sigma > 1 + tolerance else VANISHES


def _verdict_mistake(verdict: str, expected: str) -> str | None:
    """What a wrong verdict most likely comes from, or None."""
    band = f"abs(rho - 1) <= {BOUNDARY_TOLERANCE:g}"
    if expected == NEUTRAL and verdict == EXPLODES:
        return (
            f"at gamma rho = 1 the verdict is {NEUTRAL!r}, not {EXPLODES!r}: (gamma W_hh)^k neither grows "
            f"nor decays exponentially (an orthogonal W_hh keeps the norm at 1). `rho >= 1` decides "
            f"{EXPLODES!r} on the boundary: test the band first, {band}, and explode only when "
            f"rho > 1 + {BOUNDARY_TOLERANCE:g}"
        )
    if expected == NEUTRAL:
        return (
            f"gamma rho is 1 up to rounding here (eigvals returns it a few ulp above or below 1), so "
            f"an exact comparison such as `rho < 1` decides by the last bit. Within the tolerance, "
            f"{band}, the verdict is {NEUTRAL!r}"
        )
    if verdict == NEUTRAL:
        return (
            f"{NEUTRAL!r} is only for gamma rho within {BOUNDARY_TOLERANCE:g} of 1 ({band}); "
            "here it is clearly away from 1: is the tolerance far wider than the table says?"
        )
    if verdict == VANISHES and expected == GROWS_THEN_VANISHES:
        return (
            f"{VANISHES!r} from the eigenvalues alone (gamma rho < 1), but gamma sigma_max > 1: the first "
            f"steps can grow the product, so it only vanishes in the end: {GROWS_THEN_VANISHES!r}. The "
            "singular value decides whether every step shrinks it"
        )
    if verdict == EXPLODES and expected == GROWS_THEN_VANISHES:
        return (
            f"{EXPLODES!r} from the singular value alone (gamma sigma_max > 1), but gamma rho < 1: in the "
            f"limit the product decays like (gamma rho)^k, so the answer is {GROWS_THEN_VANISHES!r}. "
            "sigma_max > 1/gamma is necessary for exploding, not sufficient"
        )
    return None


@parts.verifier
def _verify_diagnose(case: parts.Case, result: object) -> None:
    name = "diagnose"
    parts.raise_if_error(name, result, case)
    W, gamma = case.args
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return three things: `return sigma, rho, verdict` "
            "(two floats and one of the strings " + ", ".join(repr(v) for v in VERDICTS) + ")."
        )
    sigma, rho, verdict = result
    if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (sigma, rho)):
        raise core.GradingFailure(
            f"{name}: sigma and rho must be numbers (floats), got {core.type_name(sigma)} and {core.type_name(rho)}; "
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
    if rel_error(got[:1], wanted[:1]) >= core.TOLERANCE or rel_error(got[1:], wanted[1:]) >= core.TOLERANCE:
        for mistake, (s, r) in numbers.items():
            variant = np.array([s, r])
            if rel_error(variant, wanted) > 1e-6 and rel_error(got, variant) < core.TOLERANCE:
                raise core.GradingFailure(f"{name} gives wrong numbers. Likely mistake: {mistake}.")
        which = "sigma" if rel_error(got[:1], wanted[:1]) >= core.TOLERANCE else "rho"
        raise core.GradingFailure(
            f"{name}: {which} is wrong. sigma is gamma times the largest singular value of W_hh, rho gamma "
            "times the largest modulus of its eigenvalues."
        )
    if verdict not in VERDICTS:
        raise core.GradingFailure(
            f"{name} returned the verdict {verdict!r}; use exactly one of "
            + ", ".join(map(repr, VERDICTS))
            + "."
        )
    if verdict == expected_verdict:
        return
    likely = _verdict_mistake(str(verdict), expected_verdict)
    if likely is not None:
        raise core.GradingFailure(f"{name} says {verdict!r}. Likely mistake: {likely}.")
    raise core.GradingFailure(
        f"{name} returned the verdict {verdict!r}; with gamma sigma_max = {expected_sigma:.3g} and gamma rho = "
        f"{expected_rho:.3g} it is {_verdict_from(expected_sigma, expected_rho)!r}"
        if not case.hidden
        else f"{name} returned the wrong verdict: compare gamma rho with 1 first (within "
        f"{BOUNDARY_TOLERANCE:g}), then gamma sigma_max."
    )


DIAGNOSE = parts.Part(
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
            parts.Case(f"matrix {i + 1}", (np.array(W, dtype=np.float64), float(g)))
            for i, (W, g) in enumerate(matrices)
        ]
    parts.run_part_in_process(DIAGNOSE, diagnose_fn, cases=cases)


# -- Part 3: the norm of the Jacobian product, against the bound -------------------------

ProductSpec = tuple[int, int, str, float]  # T, H, kind of W_hh, input scale


def _product_matrix(rng: np.random.Generator, H: int, kind: str) -> np.ndarray:
    if kind == "orthogonal":
        return _orthogonal(rng, H)
    if kind == "non-normal":
        return _shift(H, rng.uniform(0.85, 0.95), rng.uniform(1.5, 2.5))
    scale = {"random": 1.5, "large": 3.0, "small": 0.5}[kind]
    return scale * rng.uniform(-1.0, 1.0, (H, H))


def product_cases(seed: int, specs: Sequence[ProductSpec]) -> list[parts.Case]:
    """``jacobian_product_norms(h, W_hh)`` for each (T, H, kind of W_hh, input scale).

    ``h`` (T, H) is the run of a real tanh RNN over one sequence of two inputs per step
    from a random h_0: W_hh is "random" (entries up to 1.5), "large" (up to 3: saturated
    units), "small", "orthogonal" or "non-normal" (a shift with rho about 0.9).
    """
    cases = []
    for i, (T, H, kind, input_scale) in enumerate(specs):
        rng = np.random.default_rng(seed + i)
        W_hh = _product_matrix(rng, H, kind)
        p = core.float64_inputs(seed + i, x=(1, T, 2), h0=(1, H), W_xh=(H, 2), b_h=(H,))
        h, _ = flow_forward(
            input_scale * p["x"], input_scale * p["h0"], p["W_xh"], W_hh, input_scale * p["b_h"]
        )
        cases.append(parts.Case(f"T={T}, H={H}, {kind} W_hh", (h[0], W_hh)))
    return cases


_VISIBLE_PRODUCT: tuple[ProductSpec, ...] = ((6, 3, "random", 1.0), (10, 4, "non-normal", 0.01))
_HIDDEN_PRODUCT: dict[str, ProductSpec] = {
    "one step, T = 1": (1, 3, "random", 1.0),
    "one unit, H = 1": (8, 1, "random", 1.0),
    "saturated units: a large W_hh": (10, 5, "large", 1.0),
    "an orthogonal W_hh, small inputs": (12, 6, "orthogonal", 0.01),
    "non-normal, the linear regime, T = 20": (20, 5, "non-normal", 0.01),
    "a long sequence, T = 40": (40, 4, "random", 1.0),
}


def _visible_product() -> list[parts.Case]:
    return product_cases(30, _VISIBLE_PRODUCT)


def reference_product_norms(h: np.ndarray, W_hh: np.ndarray) -> np.ndarray:
    """||J_T J_{T-1} ... J_{T-k+1}||_2 for k = 0..T, from the course's step Jacobians: (T + 1,)."""
    jacobians = step_jacobians(h[None], W_hh)[0]  # (T, H, H): entry t - 1 is J_t
    T, H = h.shape
    norms, product = np.empty(T + 1), np.eye(H)
    norms[0] = 1.0
    for k in range(1, T + 1):
        product = product @ jacobians[T - k]  # one more Jacobian, J_{T-k+1}, on the right
        norms[k] = np.linalg.norm(product, 2)
    return norms


def _product_variant(h: np.ndarray, W_hh: np.ndarray, mistake: str) -> np.ndarray:
    """What a loop with one typical mistake returns, (T + 1,)."""
    T, H = h.shape
    slopes = {"no derivative": np.ones_like(h), "1 - h": 1.0 - h}.get(mistake, 1.0 - h**2)
    norms, product, bound = np.empty(T + 1), np.eye(H), 1.0
    norms[0] = 1.0
    for k in range(1, T + 1):
        t = k if mistake == "from the start" else T - k + 1  # the step whose Jacobian joins
        d = slopes[t - 2] if mistake == "off by one" else slopes[t - 1]  # h_t is h[t - 1]
        J = W_hh * d[None, :] if mistake == "columns" else d[:, None] * W_hh
        if mistake in ("reversed", "from the start"):
            product = J @ product
        else:
            product = product @ J
        bound *= float(np.linalg.norm(J, 2))
        norms[k] = {"frobenius": np.linalg.norm(product), "norms multiplied": bound}.get(
            mistake, np.linalg.norm(product, 2)
        )
    return norms


_PRODUCT_MISTAKES = {
    "no derivative": "the tanh derivative is missing: J_t = diag(1 - h_t**2) W_hh, not W_hh alone",
    "1 - h": "tanh'(a) is 1 - h**2, not 1 - h",
    "columns": "the slopes scale the columns of W_hh; diag(d) W_hh scales its rows: d[:, None] * W_hh "
    "(row i of J_t is how unit i at step t depends on every unit at step t - 1)",
    "reversed": "the Jacobians are multiplied in the wrong order: going back from T the product grows on "
    "the right, P = P @ J_t, so that P = J_T J_{T-1} ... J_{T-k+1}",
    "from the start": "the product starts at the first step; distance k counts back from the last state: "
    "J_T J_{T-1} ... J_{T-k+1}, not J_k ... J_1",
    "off by one": "the slope is taken at the wrong step (off by one): J_t uses h_t, which is h[t - 1]",
    "frobenius": "this is the Frobenius norm of the product; the largest singular value is "
    "np.linalg.norm(P, 2)",
    "norms multiplied": "this is the product of the steps' norms ||J_T|| ... ||J_{T-k+1}||, an upper bound; "
    "take the norm of the product, which can be far smaller",
}


@parts.verifier
def _verify_product(case: parts.Case, result: object) -> None:
    name = "jacobian_product_norms"
    parts.raise_if_error(name, result, case)
    h, W_hh = case.args
    T = h.shape[0]
    if isinstance(result, np.ndarray) and result.shape == (T,):
        raise core.GradingFailure(
            f"{name} returned {T} norms; return T + 1 = {T + 1}: entry k is the norm of the product of the "
            "last k Jacobians, and entry 0 (no Jacobian: the identity) is 1."
        )
    result = core.check_array(result, name, (T + 1,), "the norms ||J_T ... J_{T-k+1}||, k = 0..T")
    expected = reference_product_norms(h, W_hh)
    mistakes = {message: _product_variant(h, W_hh, key) for key, message in _PRODUCT_MISTAKES.items()}
    mistakes[
        "the norms are in reverse order: index k is the product of the last k Jacobians, so index 0 is 1"
    ] = expected[::-1]
    core.compare(result, expected, name, mistakes)


PRODUCT_NORMS = parts.Part(
    grade_id="test_jacobian_product_norms",
    function="jacobian_product_norms",
    title="Part 3: the norm of the Jacobian product, against the bound",
    points=3,
    visible=_visible_product,
    verify=_verify_product,
    hidden=parts.hidden_from(product_cases, _HIDDEN_PRODUCT),
    parameters=("h", "W_hh"),
)


def jacobian_product_norms(product_fn: Callable[..., np.ndarray]) -> None:
    """``jacobian_product_norms(h, W_hh)`` -> (T + 1,): ||J_T ... J_{T-k+1}||_2 for k = 0..T."""
    parts.run_part_in_process(PRODUCT_NORMS, product_fn)


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


def _visible_train() -> list[parts.Case]:
    return [parts.Case(name, args) for name, args in _TRAIN_VISIBLE]


def _steady(args: TrainArgs) -> bool:
    """Whether the run forgets a rounding error in w0 instead of amplifying it (a fair case to check)."""
    w0, *rest = args
    nudged = (w0 * (1.0 + 1e-13), *rest)
    return rel_error(reference_train(*args), reference_train(*nudged)) < 1e-11  # type: ignore[arg-type]


def _train_draw(
    make: Callable[[np.random.Generator], TrainArgs], keep: Callable[[TrainArgs], bool]
) -> parts.Draw:
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


_HIDDEN_TRAIN: dict[str, parts.Draw] = {
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


@parts.verifier
def _verify_train(case: parts.Case, result: object) -> None:
    name = "train_with_clipping"
    parts.raise_if_error(name, result, case)
    w0, target, T, lr, max_norm, steps = case.args
    if isinstance(result, (list, tuple)):
        result = (
            np.asarray(result, dtype=np.float64)
            if all(isinstance(v, (int, float)) for v in result)
            else result
        )
    if isinstance(result, np.ndarray) and result.shape == (steps,) and steps > 0:
        raise core.GradingFailure(
            f"{name} returned {steps} weights; return steps + 1 = {steps + 1}: w0 first, then the weight after "
            "each update."
        )
    if (
        isinstance(result, np.ndarray)
        and result.shape == (steps + 1,)
        and np.issubdtype(result.dtype, np.floating)
    ) and not np.all(np.isfinite(result)):
        raise core.GradingFailure(
            f"{name}: the run diverged (inf or NaN): the gradient at w0 is huge, and one unclipped step "
            "throws w far away. Clip the gradient to norm max_norm before every update."
        )
    result = core.check_array(result, name, (steps + 1,), "the weights w_0..w_steps")
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
    core.compare(result, expected, name, {k: v for k, v in mistakes.items() if np.all(np.isfinite(v))})


TRAIN = parts.Part(
    grade_id="test_train_with_clipping",
    function="train_with_clipping",
    title="Part 4: clipping makes a diverging run converge",
    points=3,
    visible=_visible_train,
    verify=_verify_train,
    hidden=_HIDDEN_TRAIN,
    substitutes={"loss_and_grad": source_of(correct.loss_and_grad)},
    parameters=("w0", "target", "T", "lr", "max_norm", "steps"),
)


def train_with_clipping(train_fn: Callable[..., Any]) -> None:
    """``train_with_clipping(w0, target, T, lr, max_norm, steps)`` -> w_0..w_steps, (steps + 1,)."""
    parts.run_part_in_process(TRAIN, train_fn)


# -- Part 5: initialisations of W_hh ----------------------------------------------------


def _visible_init() -> list[parts.Case]:
    inputs = core.float64_inputs(50, A4=(4, 4), A3=(3, 3), A5=(5, 5))
    return [
        parts.Case("orthogonal, a random 4 x 4 matrix", (inputs["A4"], "orthogonal", 1.0)),
        parts.Case("orthogonal, 3 x 3, gain 1.2", (inputs["A3"], "orthogonal", 1.2)),
        parts.Case("identity, 3 x 3, gain 1", (inputs["A3"], "identity", 1.0)),
        parts.Case("spectral radius 0.9, a random 5 x 5 matrix", (inputs["A5"], "spectral", 0.9)),
    ]


def _uniform(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, shape)


_HIDDEN_INIT: dict[str, parts.Draw] = {
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


@parts.verifier
def _verify_init(case: parts.Case, result: object) -> None:
    name = "recurrent_init"
    parts.raise_if_error(name, result, case)
    A, scheme, gain = case.args
    H = A.shape[0]
    if isinstance(result, (tuple, list)):
        raise core.GradingFailure(f"{name} returned {core.type_name(result)}; return only the (H, H) matrix.")
    result = core.check_array(result, name, (H, H), f"the {scheme} recurrent matrix")
    expected = from_matrix(A, scheme, gain)
    if scheme == "orthogonal":
        # Orthogonal up to a scale (its RMS singular value), so that a result without the
        # gain, or with the wrong one, reaches the comparison and its named mistakes.
        scale = float(np.sqrt(np.sum(result**2) / H))
        scaled = result / scale if scale > 0 else result
        if rel_error(scaled.T @ scaled, np.eye(H)) > 1e-6:
            raise core.GradingFailure(
                f"{name}: for 'orthogonal' the result is not a multiple of an orthogonal matrix (its columns "
                "are not orthogonal, or not of one length). Take the Q of np.linalg.qr(A), not A rescaled, "
                "nor R."
            )
    core.compare(result, expected, name, _init_mistakes(A, scheme, gain, expected))


RECURRENT_INIT = parts.Part(
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
    parts.run_part_in_process(RECURRENT_INIT, init_fn)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [GRADIENT_NORMS, DIAGNOSE, PRODUCT_NORMS, TRAIN, RECURRENT_INIT]
