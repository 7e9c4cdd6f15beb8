"""How a gradient travels back through time: Jacobian products, their bound, and what W_hh predicts.

A vanilla RNN computes, for t = 1..T (one column vector per example),

    a_t = W_xh x_t + W_hh h_{t-1} + b_h,      h_t = f(a_t).

A loss on the last state sends back g = dL/dh_T, and the chain rule carries it
one step at a time through the **step Jacobian**

    J_t = dh_t / dh_{t-1} = diag(f'(a_t)) W_hh                 (H, H)

    dL/dh_{t-1} = J_t^T dL/dh_t,        so   dL/dh_{T-k} = (J_T J_{T-1} ... J_{T-k+1})^T g.

For a batch of N row vectors the same recursion reads
``dh_prev = (dh_t * f'(a_t)) @ W_hh`` (N, H), with f'(a_t) computed from the
output h_t (tanh' = 1 - h^2, sigmoid' = h (1 - h), relu' = [h > 0]).

**The bound.** With gamma = sup f' (1 for tanh and ReLU, 1/4 for the
sigmoid) and sigma_max(W_hh) the largest singular value (the spectral norm),
||diag(f') W_hh|| <= gamma sigma_max, so over k steps

    ||dL/dh_{T-k}|| <= (gamma sigma_max(W_hh))^k ||g||.

gamma sigma_max < 1 is therefore *sufficient* for the gradient to vanish
exponentially (Pascanu, Mikolov and Bengio 2013). The converse is not true:
gamma sigma_max > 1 is only *necessary* for exploding; the f' factors are
usually < gamma (tanh saturates), so a large W_hh can still give vanishing
gradients.

**Singular values, not eigenvalues.** The eigenvalues of W_hh decide what
||W_hh^k|| does in the limit (it behaves like rho^k, rho the spectral
radius), but sigma_max >= rho, and for a non-normal matrix (W W^T != W^T W)
the gap can be huge: ``non_normal_matrix`` has rho = 0.9 and yet its powers
grow by orders of magnitude before they decay. ``diagnose`` states what a
linearised network (f' = gamma at every step) does, from both numbers, with
a fourth verdict at the boundary: gamma rho = 1 (within
``BOUNDARY_TOLERANCE``), where an orthogonal or identity W_hh (chapter 3's
remedies) keeps the product's norm at 1 for ever.

Shapes: N batch, T steps, D inputs, H hidden units, K distances.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from rnncourse.checks import check_floating, check_shape

FlowActivation = Literal["tanh", "sigmoid", "relu"]

#: gamma = sup_a f'(a): tanh'(0) = 1, sigmoid'(0) = 1/4, relu' = 1 for a > 0.
GAMMA: dict[str, float] = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}

#: The four verdicts of ``diagnose``, for the linearised recurrence (gamma W_hh)^k.
VANISHES = "vanishes"
GROWS_THEN_VANISHES = "grows then vanishes"
NEUTRAL = "neutral"
EXPLODES = "explodes"

#: How far from 1 gamma rho (and gamma sigma_max) may be and still count as 1. An eigenvalue
#: of modulus 1 comes out of LAPACK a few ulp off for a normal matrix (orthogonal, the
#: identity) and about sqrt(machine epsilon) = 1.5e-8 off for a 2 x 2 Jordan block; 1e-6
#: holds both, so the verdict of such a matrix never depends on the last bit of rounding.
BOUNDARY_TOLERANCE = 1e-6


def _activate(a: np.ndarray, activation: FlowActivation) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(a)
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + exp(-a)), without overflow
    if activation == "relu":
        return np.maximum(a, 0.0)
    raise ValueError(f"activation must be 'tanh', 'sigmoid' or 'relu', got {activation!r}")


def derivative_from_output(h: np.ndarray, activation: FlowActivation) -> np.ndarray:
    """f'(a) written with the output h = f(a), any shape: 1 - h^2, h (1 - h) or [h > 0]."""
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "relu":
        return (h > 0).astype(h.dtype)
    raise ValueError(f"activation must be 'tanh', 'sigmoid' or 'relu', got {activation!r}")


# -- forward and backward through time -------------------------------------------------


class FlowCache(NamedTuple):
    """What ``flow_backward`` needs from ``flow_forward``."""

    h: np.ndarray  # (N, T, H) the states h_1..h_T
    W_hh: np.ndarray  # (H, H)
    activation: FlowActivation


def flow_forward(
    x: np.ndarray,
    h0: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_h: np.ndarray,
    activation: FlowActivation = "tanh",
) -> tuple[np.ndarray, FlowCache]:
    """Run ``h_t = f(x_t @ W_xh.T + h_{t-1} @ W_hh.T + b_h)`` for t = 1..T.

    Args:
        x: (N, T, D) inputs; h0: (N, H); W_xh: (H, D); W_hh: (H, H); b_h: (H,).
        activation: "tanh", "sigmoid" or "relu".

    Returns:
        h: (N, T, H) the states h_1..h_T, and the cache for ``flow_backward``.
    """
    check_floating("x", x)
    N, T, D = check_shape("x", x, {"N": None, "T": None, "D": None})
    H = check_shape("W_hh", W_hh, [("H", None), ("H", None)])[0]
    check_shape("W_hh", W_hh, [("H", H), ("H", H)])
    check_shape("h0", h0, {"N": N, "H": H})
    check_shape("W_xh", W_xh, {"H": H, "D": D})
    check_shape("b_h", b_h, {"H": H})
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_hh))
    h_prev = h0
    for t in range(T):
        h_prev = _activate(x[:, t] @ W_xh.T + h_prev @ W_hh.T + b_h, activation)
        h[:, t] = h_prev
    return h, FlowCache(h, W_hh, activation)


def flow_backward(dh_last: np.ndarray, cache: FlowCache) -> np.ndarray:
    """Every dL/dh_t, t = 0..T, for a loss on the last state only.

        dL/dh_T = dh_last;   dL/dh_{t-1} = (dL/dh_t * f'(a_t)) @ W_hh

    Args:
        dh_last: (N, H) dL/dh_T.
        cache: from ``flow_forward``.

    Returns:
        (N, T + 1, H): entry t is dL/dh_t; entry 0 is dL/dh_0, entry T is ``dh_last``.
    """
    N, T, H = cache.h.shape
    check_shape("dh_last", dh_last, {"N": N, "H": H})
    grads = np.empty((N, T + 1, H), dtype=np.result_type(dh_last, cache.h))
    grads[:, T] = dh_last
    for t in range(T, 0, -1):  # h_t is cache.h[:, t - 1]
        local = derivative_from_output(cache.h[:, t - 1], cache.activation)  # f'(a_t), (N, H)
        grads[:, t - 1] = (grads[:, t] * local) @ cache.W_hh
    return grads


def gradient_norms(state_grads: np.ndarray) -> np.ndarray:
    """||dL/dh_t|| over the batch and the units (Frobenius), t = 0..T: (N, T + 1, H) -> (T + 1,)."""
    check_shape("state_grads", state_grads, {"N": None, "T+1": None, "H": None})
    return np.sqrt(np.sum(state_grads**2, axis=(0, 2)))


def step_jacobians(h: np.ndarray, W_hh: np.ndarray, activation: FlowActivation = "tanh") -> np.ndarray:
    """J_t = diag(f'(a_t)) W_hh for each example and step: h (N, T, H) -> (N, T, H, H).

    Entry [n, t - 1] is dh_t/dh_{t-1} of example n (rows index h_t, columns h_{t-1}).
    """
    local = derivative_from_output(h, activation)  # (N, T, H)
    return local[..., :, None] * W_hh  # row i of W_hh times f'(a_t)_i


# -- what W_hh alone says ----------------------------------------------------------------


class Spectrum(NamedTuple):
    """The two numbers that describe powers of W: sigma_max bounds every step, rho the limit."""

    sigma_max: float  # largest singular value, ||W||_2
    spectral_radius: float  # largest |eigenvalue|


def spectrum(W: np.ndarray) -> Spectrum:
    """sigma_max and spectral radius of a square matrix (H, H)."""
    H = check_shape("W", W, [("H", None), ("H", None)])[0]
    check_shape("W", W, [("H", H), ("H", H)])
    sigma_max = float(np.linalg.norm(W, 2))
    # Eigenvalues of a real matrix are complex in general: the modulus, not the real part.
    spectral_radius = float(np.max(np.abs(np.linalg.eigvals(W))))
    return Spectrum(sigma_max, spectral_radius)


def jacobian_bound(sigma_max: float, gamma: float, distances: np.ndarray) -> np.ndarray:
    """(gamma sigma_max)^k for each distance k: (K,) -> (K,)."""
    return np.power(gamma * sigma_max, np.asarray(distances, dtype=np.float64))


def power_norms(W: np.ndarray, max_power: int, gamma: float = 1.0) -> np.ndarray:
    """||(gamma W)^k||_2 for k = 0..max_power: the linearised Jacobian product, (max_power + 1,)."""
    H = W.shape[0]
    product = np.eye(H)
    norms = np.empty(max_power + 1)
    for k in range(max_power + 1):
        norms[k] = np.linalg.norm(product, 2)
        product = (gamma * W) @ product
    return norms


def diagnose(
    W_hh: np.ndarray, gamma: float = 1.0, tolerance: float = BOUNDARY_TOLERANCE
) -> tuple[float, float, str]:
    """What ||(gamma W_hh)^k|| does as k grows, from sigma_max and rho alone.

    With s = gamma sigma_max, r = gamma rho and e = ``tolerance``:

    * ``"explodes"``: r > 1 + e. The product grows without bound, like r^k.
      (For a real tanh network this is only necessary for exploding:
      saturation makes f' < gamma.)
    * ``"neutral"``: |r - 1| <= e. No exponential growth or decay: an
      orthogonal W_hh or the identity (with gamma = 1) keeps the norm at
      exactly 1 at every power; a non-normal W with r = 1 can still grow
      like a polynomial in k (a Jordan block).
    * ``"grows then vanishes"``: r < 1 - e and s > 1 + e. The limit is decay
      (like r^k), but a step can stretch, and for a non-normal W the product
      can grow a long way first.
    * ``"vanishes"``: r < 1 - e and s <= 1 + e. No step can stretch the
      product (beyond rounding), and it decays in the limit; s < 1 makes
      every step shrink it (the bound above).

    Args:
        W_hh: (H, H).
        gamma: sup f', see ``GAMMA``.
        tolerance: how far from 1 a number still counts as 1 (``BOUNDARY_TOLERANCE``).

    Returns:
        (gamma sigma_max, gamma rho, verdict).
    """
    sigma_max, rho = spectrum(W_hh)
    scaled_sigma, scaled_rho = gamma * sigma_max, gamma * rho
    if scaled_rho > 1 + tolerance:
        verdict = EXPLODES
    elif scaled_rho >= 1 - tolerance:
        verdict = NEUTRAL
    elif scaled_sigma > 1 + tolerance:
        verdict = GROWS_THEN_VANISHES
    else:
        verdict = VANISHES
    return scaled_sigma, scaled_rho, verdict


def non_normal_matrix(size: int, radius: float, coupling: float, block: int | None = None) -> np.ndarray:
    """radius I + coupling S, S the shift (ones just above the diagonal): (size, size).

    Upper triangular, so every eigenvalue is ``radius`` (rho = radius); but
    sigma_max >= coupling, and (radius I + coupling S)^k = sum_j C(k, j)
    radius^(k-j) coupling^j S^j grows like a polynomial of degree size - 1
    before radius^k wins.

    Args:
        size: H.
        radius: the one eigenvalue.
        coupling: the entries above the diagonal.
        block: if given, S is cut into independent blocks of this size (block-diagonal), so the
            polynomial has degree block - 1 and the growth ends sooner.
    """
    shift = np.eye(size, k=1)
    if block is not None:
        ends = np.arange(block - 1, size - 1, block)  # the last row of each block
        shift[ends, ends + 1] = 0.0
    return radius * np.eye(size) + coupling * shift


def two_by_two_power_norms(radius: float, coupling: float, powers: np.ndarray) -> np.ndarray:
    """||W^k||_2 of W = [[radius, coupling], [0, radius]] in closed form, for each k: (K,) -> (K,).

    W = radius I + coupling S with S = [[0, 1], [0, 0]] and S^2 = 0, so the
    binomial expansion stops after two terms:

        W^k = radius^k I + k radius^(k-1) coupling S = [[r^k, k c r^(k-1)], [0, r^k]].

    The largest singular value of [[a, b], [0, a]] is (|b| + sqrt(b^2 + 4 a^2)) / 2,
    so ||W^k|| = (|k c r^(k-1)| + sqrt((k c r^(k-1))^2 + 4 r^(2k))) / 2. Both
    eigenvalues are r, yet for large k the norm is about k |c| |r|^(k-1): it
    grows while the factor k wins, peaks near k = -1 / ln|r|, and only then
    decays like |r|^k. (``non_normal_matrix(2, radius, coupling)`` is this W.)
    """
    k = np.asarray(powers, dtype=np.float64)
    diagonal = np.power(radius, k)
    corner = k * coupling * np.power(radius, np.maximum(k - 1.0, 0.0))  # 0 at k = 0
    return (np.abs(corner) + np.sqrt(corner**2 + 4.0 * diagonal**2)) / 2.0


def with_spectral_radius(W: np.ndarray, radius: float) -> np.ndarray:
    """W rescaled so that its largest |eigenvalue| is ``radius``: (H, H) -> (H, H)."""
    return W * (radius / spectrum(W).spectral_radius)


def measure_gradient_flow(
    W_hh: np.ndarray,
    steps: int,
    batch: int = 32,
    input_size: int = 4,
    activation: FlowActivation = "tanh",
    input_scale: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Mean over a batch of ||dL/dh_{T-k}|| / ||dL/dh_T|| for k = 0..T, one example at a time.

    Random inputs (normal, times ``input_scale``), a random W_xh of std
    1/sqrt(D), zero bias and h0, and a random unit gradient g on the last
    state: the loss L = g . h_T.

    Returns:
        (steps + 1,): entry k is the ratio at distance k (entry 0 is 1).
    """
    rng = np.random.default_rng(seed)
    H = W_hh.shape[0]
    x = input_scale * rng.standard_normal((batch, steps, input_size))
    W_xh = rng.standard_normal((H, input_size)) / np.sqrt(input_size)
    _h, cache = flow_forward(x, np.zeros((batch, H)), W_xh, W_hh, np.zeros(H), activation)
    g = rng.standard_normal((batch, H))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    grads = flow_backward(g, cache)  # (N, T + 1, H), entry t = dL/dh_t
    per_example = np.linalg.norm(grads, axis=2)  # (N, T + 1)
    return per_example[:, ::-1].mean(axis=0)  # distance k = T - t
