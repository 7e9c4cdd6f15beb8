"""Three historical and simplified LSTM variants, one step each, in NumPy: chapter 4.

The LSTM of ``lstm.py`` (torch's) is the "vanilla" LSTM of Greff et al. (2017)
without peepholes. The variants change one equation each (σ the sigmoid, ⊙
the elementwise product; a_k = W_xk x_t + W_hk h_{t-1} + b_k):

``no_forget``, the LSTM of Hochreiter and Schmidhuber (1997), gates i, g, o::

    c_t = c_{t-1} + i_t ⊙ g_t          the cell only accumulates: dc_t/dc_{t-1} = I

``coupled``, input and forget gates coupled (CIFG), gates i, g, o::

    f_t = 1 - i_t,   c_t = (1 - i_t) ⊙ c_{t-1} + i_t ⊙ g_t    (a GRU-like interpolation)

``peephole`` (Gers and Schmidhuber 2000), gates i, f, g, o and diagonal
peephole weights p = [p_i; p_f; p_o] of shape (3, H)::

    i_t = σ(a_i + p_i ⊙ c_{t-1}),  f_t = σ(a_f + p_f ⊙ c_{t-1}),  o_t = σ(a_o + p_o ⊙ c_t)

Weights are stacked on the rows in the order of ``VARIANT_GATES``:
``W_xh`` (G H, D), ``W_hh`` (G H, H), ``b`` (G H,). Shapes: N batch, D inputs, H units.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from rnncourse.checks import check_recurrent_args, check_shape
from rnncourse.scratch.activations import sigmoid

Variant = Literal["no_forget", "coupled", "peephole"]

#: The gate blocks each variant stacks on the rows of its weights, in order.
VARIANT_GATES: dict[str, str] = {"no_forget": "igo", "coupled": "igo", "peephole": "ifgo"}


class VariantCache(NamedTuple):
    """What ``variant_step_backward`` needs from ``variant_step_forward``."""

    variant: str
    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    params: dict[str, np.ndarray]
    gates: dict[str, np.ndarray]  # gate letter -> (N, H) activation
    c_t: np.ndarray  # (N, H)
    tanh_c: np.ndarray  # (N, H)


def init_variant_params(
    variant: Variant, input_size: int, hidden_size: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Float64 parameters uniform in (-1/sqrt(H), 1/sqrt(H)), as torch initialises an LSTM."""
    G, bound = len(VARIANT_GATES[variant]), 1.0 / np.sqrt(hidden_size)
    shapes = {
        "W_xh": (G * hidden_size, input_size),
        "W_hh": (G * hidden_size, hidden_size),
        "b": (G * hidden_size,),
    }
    if variant == "peephole":
        shapes["p"] = (3, hidden_size)
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()}


def variant_step_forward(
    variant: Variant, x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, VariantCache]:
    """One step of ``variant`` (equations in the module docstring).

    Args:
        variant: ``"no_forget"``, ``"coupled"`` or ``"peephole"``.
        x_t: (N, D); h_prev, c_prev: (N, H).
        params: ``W_xh`` (G H, D), ``W_hh`` (G H, H), ``b`` (G H,), and ``p`` (3, H) for peepholes.

    Returns:
        h_t (N, H), c_t (N, H), cache.
    """
    if variant not in VARIANT_GATES:
        raise ValueError(f"variant must be one of {sorted(VARIANT_GATES)}, got {variant!r}")
    order = VARIANT_GATES[variant]
    states = {"h_prev": h_prev, "c_prev": c_prev}
    *_, H = check_recurrent_args(
        x_t, ("N", "D"), states, params["W_xh"], params["W_hh"], {"b": params["b"]}, len(order), "x_t"
    )
    a = x_t @ params["W_xh"].T + h_prev @ params["W_hh"].T + params["b"]  # (N, G H)
    block = {gate: a[:, k * H : (k + 1) * H] for k, gate in enumerate(order)}
    gates = {"g": np.tanh(block["g"])}
    if variant == "peephole":
        p = params["p"]
        check_shape("p", p, [("3", 3), ("H", H)])
        gates["i"] = sigmoid(block["i"] + p[0] * c_prev)
        gates["f"] = sigmoid(block["f"] + p[1] * c_prev)
    else:
        gates["i"] = sigmoid(block["i"])
        # no_forget: f = 1 (the 1997 cell); coupled: f = 1 - i.
        gates["f"] = np.ones_like(c_prev) if variant == "no_forget" else 1.0 - gates["i"]
    c_t = gates["f"] * c_prev + gates["i"] * gates["g"]
    # The output gate of a peephole LSTM looks at the *new* cell state.
    peek = params["p"][2] * c_t if variant == "peephole" else 0.0
    gates["o"] = sigmoid(block["o"] + peek)
    tanh_c = np.tanh(c_t)
    h_t = gates["o"] * tanh_c
    return h_t, c_t, VariantCache(variant, x_t, h_prev, c_prev, params, gates, c_t, tanh_c)


def variant_step_backward(
    dh_t: np.ndarray, dc_t: np.ndarray, cache: VariantCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Gradients of one variant step.

    Args:
        dh_t, dc_t: (N, H) upstream gradients of h_t and of c_t (from the next step).
        cache: from ``variant_step_forward``.

    Returns:
        dx_t (N, D), dh_prev (N, H), dc_prev (N, H), and the parameter gradients by name.
    """
    variant, x_t, h_prev, c_prev, params, gates, c_t, tanh_c = cache
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    da_o = dh_t * tanh_c * o * (1 - o)
    dc = dc_t + dh_t * o * (1 - tanh_c**2)
    grads: dict[str, np.ndarray] = {}
    if variant == "peephole":
        dc = dc + da_o * params["p"][2]  # o_t reads c_t through p_o
    di, dg = dc * g, dc * i
    dc_prev = dc * f
    da_g = dg * (1 - g * g)
    if variant == "coupled":
        di = di - dc * c_prev  # f = 1 - i, so i also reaches c_t through -c_{t-1}
    da_i = di * i * (1 - i)
    blocks = {"i": da_i, "g": da_g, "o": da_o}
    if variant == "peephole":
        da_f = dc * c_prev * f * (1 - f)
        blocks["f"] = da_f
        p = params["p"]
        dc_prev = dc_prev + da_i * p[0] + da_f * p[1]
        grads["p"] = np.stack([(da_i * c_prev).sum(0), (da_f * c_prev).sum(0), (da_o * c_t).sum(0)])
    da = np.concatenate([blocks[gate] for gate in VARIANT_GATES[variant]], axis=1)  # (N, G H)
    grads.update({"W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b": da.sum(axis=0)})
    return da @ params["W_xh"], da @ params["W_hh"], dc_prev, grads


def count_params(variant: Variant | Literal["vanilla"], input_size: int, hidden_size: int) -> int:
    """Parameters of one layer: G H (D + H + 1), plus 3H peepholes; "vanilla" is torch's LSTM with one bias."""
    G = 4 if variant == "vanilla" else len(VARIANT_GATES[variant])
    extra = 3 * hidden_size if variant == "peephole" else 0
    return G * hidden_size * (input_size + hidden_size + 1) + extra
