"""Helpers shared by the tests of the recurrent layers: nested states, gradient checks.

States are nested ``State`` / ``BiState`` / lists of them; these walk them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncourse.gradcheck import check_gradients
from rnncourse.scratch.stacked import StackedRecurrent


def map_state(fn, s: Any) -> Any:
    if s is None:
        return None
    if isinstance(s, np.ndarray):
        return fn(s)
    if isinstance(s, tuple) and hasattr(s, "_fields"):
        return type(s)(*(map_state(fn, v) for v in s))
    return [map_state(fn, v) for v in s]


def leaves(s: Any) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    map_state(out.append, s)
    return out


def random_like(s: Any, rng: np.random.Generator) -> Any:
    return map_state(lambda a: rng.normal(size=a.shape), s)


def random_state(model, N: int, rng: np.random.Generator) -> Any:
    """A random initial state of the right structure for ``model``."""
    _, final, _ = model.forward(np.zeros((N, 1, _input_size(model))))
    return random_like(final, rng)


def _input_size(model) -> int:
    first = model.layers[0] if isinstance(model, StackedRecurrent) else model
    return first.input_size


def _flat(h: np.ndarray, final: Any) -> np.ndarray:
    return np.concatenate([h.ravel()] + [a.ravel() for a in leaves(final)])


def gradcheck_model(model, x, state, lengths, rng) -> dict[str, float]:
    """Numerical check of dx, dstate0 and every parameter, through h_seq and the final state."""
    h, final, cache = model.forward(x, state, lengths)
    dh = rng.normal(size=h.shape)
    dfinal = random_like(final, rng)
    dx, dstate0, grads = model.backward(dh, cache, dfinal)
    state_inputs = {f"state{i}": a for i, a in enumerate(leaves(state))}
    dstate_leaves = leaves(dstate0)
    assert len(dstate_leaves) == len(state_inputs)
    return check_gradients(
        lambda: _flat(*model.forward(x, state, lengths)[:2]),
        {"x": x, **model.params, **state_inputs},
        {"x": dx, **grads, **{f"state{i}": a for i, a in enumerate(dstate_leaves)}},
        _flat(dh, dfinal),
    )


def mixed_lengths(N: int, T: int) -> np.ndarray:
    """Full, short, length-1 and in-between sequences, in no particular order."""
    return np.array([2, T, 1, T - 1, 3][:N])
