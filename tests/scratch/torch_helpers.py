"""Run torch.nn recurrent layers on NumPy arrays, to check the NumPy ones.

torch is the independent reference: its weights are copied into NumPy,
the same inputs go through both, and the outputs and gradients must agree.
Everything here is float64 unless the caller says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import rel_error

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# Batch, time, input and hidden sizes for the property tests of the RNN, LSTM
# and GRU: one definition, so the three cells are tried over the same shapes.
SEQUENCE_SHAPES = {
    "N": st.integers(1, 8),
    "T": st.integers(1, 50),
    "D": st.integers(1, 16),
    "H": st.integers(1, 16),
    "seed": st.integers(0, 2**32 - 1),
}


def for_any_sequence_shape(**more_strategies: st.SearchStrategy) -> Callable:
    """Decorate a test taking ``N, T, D, H, seed`` (and ``more_strategies``) to run on 25 shapes.

    derandomize keeps the examples the same from run to run, so a failure
    seen once can be seen again.
    """

    def decorate(test: Callable) -> Callable:
        with_examples = given(**SEQUENCE_SHAPES, **more_strategies)(test)
        return settings(max_examples=25, deadline=None, derandomize=True)(with_examples)

    return decorate


def make_module(
    kind: str, D: int, H: int, seed: int, *, cell: bool = False, nonlinearity: str = "tanh"
) -> torch.nn.Module:
    """A float64 single-layer torch recurrent module with seeded random weights.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        D, H: input and hidden sizes.
        seed: seeds torch's generator, so the weights are reproducible.
        cell: the one-step ``*Cell`` module instead of the batch-first sequence one.
        nonlinearity: for ``"rnn"`` only, ``"tanh"`` or ``"relu"``.
    """
    torch.manual_seed(seed)
    kwargs = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    if cell:
        classes = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
        module = classes[kind](D, H, **kwargs)
    else:
        classes = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
        module = classes[kind](D, H, batch_first=True, **kwargs)
    return module.double()


def numpy_params(module: torch.nn.Module) -> dict[str, np.ndarray]:
    """The module's weights as float64 NumPy copies, named without torch's ``_l0`` suffix."""
    suffix = "" if isinstance(module, torch.nn.RNNCellBase) else "_l0"
    return {
        name: getattr(module, name + suffix).detach().numpy().astype(np.float64, copy=True)
        for name in PARAM_NAMES
    }


def run_torch(
    module: torch.nn.Module,
    x: np.ndarray,
    states: Sequence[np.ndarray],
    upstream: Sequence[np.ndarray | None],
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Forward and backward through a torch module, with NumPy in and out.

    The scalar differentiated is ``sum_k sum(outputs[k] * upstream[k])``,
    the same convention as ``rnncourse.gradcheck``.

    Args:
        module: from ``make_module``.
        x: (N, T, D) for a sequence module, (N, D) for a cell.
        states: initial states as (N, H) arrays: ``[h0]``, or ``[h0, c0]`` for an LSTM.
        upstream: one gradient per output, or None for an output that gets none.
            Sequence modules output ``[h (N, T, H), h_T]`` (``[h, h_T, c_T]``
            for an LSTM); cells output ``[h_t]`` (``[h_t, c_t]`` for an LSTM).

    Returns:
        The outputs as NumPy arrays, and the gradients by name: ``x``,
        ``h0`` (and ``c0``) for the states, and the four parameter names.
    """
    sequence = not isinstance(module, torch.nn.RNNCellBase)
    x_t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    state_ts = [torch.tensor(s, dtype=torch.float64, requires_grad=True) for s in states]
    # Sequence modules take states with a leading layer axis.
    fed = [s[None] for s in state_ts] if sequence else state_ts
    fed_state = tuple(fed) if len(fed) == 2 else fed[0]
    result = module(x_t, fed_state)
    if sequence:
        out, final = result
        finals = list(final) if isinstance(final, tuple) else [final]
        outputs = [out] + [f[0] for f in finals]
    else:
        outputs = list(result) if isinstance(result, tuple) else [result]
    loss = sum(
        (o * torch.tensor(u, dtype=torch.float64)).sum()
        for o, u in zip(outputs, upstream, strict=True)
        if u is not None
    )
    module.zero_grad()
    loss.backward()
    suffix = "_l0" if sequence else ""
    grads = {"x": x_t.grad.numpy().copy()}
    for name, s in zip(("h0", "c0"), state_ts):
        grads[name] = s.grad.numpy().copy()
    for name in PARAM_NAMES:
        grads[name] = getattr(module, name + suffix).grad.numpy().copy()
    return [o.detach().numpy().copy() for o in outputs], grads


def assert_gradients_match_torch(
    ours: Sequence[np.ndarray],
    torch_names: Sequence[str | tuple[str, ...]],
    torch_grads: Mapping[str, np.ndarray],
) -> None:
    """Each of ``ours`` equals, to 1e-10, torch's gradient of the same place in ``torch_names``.

    A tuple of names stands for a NumPy parameter that torch keeps as two:
    a single bias b = b_ih + b_hh has the gradient of each of torch's biases.
    ``torch_grads`` is ``run_torch``'s dictionary of gradients.
    """
    assert len(ours) == len(torch_names)
    for grad, names in zip(ours, torch_names, strict=True):
        for name in (names,) if isinstance(names, str) else names:
            assert rel_error(grad, torch_grads[name]) < 1e-10, name


def scaled_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference relative to the largest entry: ``max|a - b| / max|b|``.

    For float32 against float64. Rounding errors in float32 are relative to
    the magnitudes that were added up, not to the result: an entry of a
    weight gradient that sums to 2e-4 out of terms of order 1 carries an
    error of about 1e-7, so ``rel_error`` (entry by entry) would flag it
    although nothing is wrong. Measured against the array's scale, a
    correct float32 computation stays within about 1e-6.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    scale = np.max(np.abs(b), initial=0.0)
    return float(np.max(np.abs(a - b), initial=0.0) / max(scale, 1e-300))


def assert_float32_close_to_float64(
    ours: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]
) -> None:
    """Each array of ``ours`` is float32 and within 1e-4 of ``reference``'s (see scaled_error)."""
    for name, a in ours.items():
        assert a.dtype == np.float32, name
        assert scaled_error(a, reference[name]) < 1e-4, name


def check_step_in_float32(
    step_forward: Callable[..., tuple[Any, ...]],
    step_backward: Callable[..., tuple[np.ndarray, ...]],
    inputs32: Sequence[np.ndarray],
    upstream32: Sequence[np.ndarray],
) -> None:
    """A step function pair keeps float32 and agrees with the same step run in float64.

    Args:
        step_forward: ``step_forward(*inputs) -> (*outputs, cache)``.
        step_backward: ``step_backward(*upstream, cache) -> gradients``.
        inputs32, upstream32: float32 arrays; the float64 run uses copies of them.
    """

    def as_float64(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [a.astype(np.float64) for a in arrays]

    *outputs, cache = step_forward(*inputs32)
    *outputs64, cache64 = step_forward(*as_float64(inputs32))
    assert_float32_close_to_float64(dict(enumerate(outputs)), dict(enumerate(outputs64)))
    grads = step_backward(*upstream32, cache)
    grads64 = step_backward(*as_float64(upstream32), cache64)
    assert len(grads) == len(grads64)
    assert_float32_close_to_float64(dict(enumerate(grads)), dict(enumerate(grads64)))
