"""Run torch.nn recurrent layers on NumPy arrays, to check the NumPy ones.

torch is the independent reference: its weights are copied into NumPy,
the same inputs go through both, and the outputs and gradients must agree.
Everything here is float64 unless the caller says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


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
