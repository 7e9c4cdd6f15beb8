"""Argument checks with one kind of message, for the NumPy code and the torch modules.

NumPy broadcasts what it can and fails deep inside a product on what it
cannot: an initial state of shape (1, H) where (N, H) belongs is silently
repeated over the batch (and its gradient comes back as (N, H)), a
transposed weight gives "matmul: Input operand 1 has a mismatch". Every
forward function checks its arguments first and names what is wrong:

    h0 has shape (1, 8); expected (N, H) = (3, 8)

The checks look only at ``.shape`` and ``.dtype`` (a tuple of ints and a
dtype name), so they work on NumPy arrays and torch tensors alike and cost
O(1) per call; ``check_lengths`` looks at the N lengths once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Expected = Mapping[str, int | None] | Sequence[tuple[str, int | None]]


def _axes(expected: Expected) -> list[tuple[str, int | None]]:
    return list(expected.items()) if isinstance(expected, Mapping) else list(expected)


def _tuple(items: Sequence[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def check_shape(name: str, array: Any, expected: Expected) -> tuple[int, ...]:
    """Raise ValueError unless ``array.shape`` matches ``expected``; return the shape.

    Args:
        name: the argument's name, as the caller wrote it.
        array: anything with a ``.shape`` (NumPy array, torch tensor).
        expected: symbol -> size for every axis in order, e.g. ``{"N": 3, "H": 8}``,
            or a list of (symbol, size) pairs when a symbol repeats (``[("H", 8), ("H", 8)]``);
            a size of None accepts any size on that axis.

    Returns:
        The shape as a tuple of ints.
    """
    axes = _axes(expected)
    shape = tuple(int(size) for size in array.shape)
    fits = len(shape) == len(axes) and all(size is None or got == size for got, (_, size) in zip(shape, axes))
    if not fits:
        symbols = _tuple([symbol for symbol, _ in axes])
        sizes = _tuple([symbol if size is None else str(size) for symbol, size in axes])
        raise ValueError(f"{name} has shape {shape}; expected {symbols} = {sizes}")
    return shape


def dtype_name(array: Any) -> str:
    """``float32``, ``int64``, ...: the same for a NumPy array and a torch tensor."""
    return str(array.dtype).removeprefix("torch.")


def check_floating(name: str, array: Any) -> None:
    """Raise TypeError unless ``array`` (a NumPy array or a torch tensor) holds floating-point numbers."""
    if hasattr(array, "is_floating_point"):  # a torch tensor
        floating = array.is_floating_point()
    else:
        floating = np.issubdtype(array.dtype, np.floating)
    if not floating:
        raise TypeError(f"{name} has dtype {dtype_name(array)}; expected float32 or float64")


def check_same_dtype(reference: tuple[str, Any], others: Mapping[str, Any]) -> None:
    """Raise TypeError unless every array of ``others`` has the dtype of ``reference``.

    The NumPy code keeps the dtype it is given (float32 in, float32 out); a
    float64 weight among float32 inputs would silently turn the whole
    computation into float64, so a mixture is refused rather than guessed at.

    Args:
        reference: (name, array) whose dtype the others must have.
        others: name -> array.
    """
    ref_name, ref = reference
    for name, array in others.items():
        if array is not None and array.dtype != ref.dtype:
            raise TypeError(
                f"{name} has dtype {dtype_name(array)}; expected {dtype_name(ref)}, the dtype of {ref_name}"
            )


def check_recurrent_args(
    x: np.ndarray,
    x_symbols: Sequence[str],
    states: Mapping[str, np.ndarray | None],
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    biases: Mapping[str, np.ndarray],
    gates: int,
    x_name: str = "x",
) -> tuple[int, ...]:
    """Check the arguments of a recurrent step or sequence forward; return the sizes.

    H is read from ``W_hh``'s second axis; every other size must agree with it
    and with ``x``.

    Args:
        x: (N, D) for a step, (N, T, D) for a sequence; ``x_symbols`` names its axes.
        states: name -> (N, H) array (e.g. ``{"h0": h0, "c0": c0}``).
        W_xh: (G H, D); W_hh: (G H, H); biases: name -> (G H,).
        gates: G, 1 for a vanilla RNN, 4 for an LSTM, 3 for a GRU.
        x_name: what the caller calls ``x`` (``"x_t"`` for a step).

    Returns:
        The sizes of ``x``'s axes, then H: (N, D, H) or (N, T, D, H).
    """
    check_floating(x_name, x)
    sizes = check_shape(x_name, x, dict.fromkeys(x_symbols))
    N, D = sizes[0], sizes[-1]
    rows = "H" if gates == 1 else f"{gates}H"
    H = check_shape("W_hh", W_hh, [(rows, None), ("H", None)])[1]
    check_shape("W_hh", W_hh, [(rows, gates * H), ("H", H)])
    check_shape("W_xh", W_xh, [(rows, gates * H), ("D", D)])
    for name, b in biases.items():
        check_shape(name, b, [(rows, gates * H)])
    for name, state in states.items():
        check_shape(name, state, {"N": N, "H": H})
    check_same_dtype((x_name, x), {**states, "W_xh": W_xh, "W_hh": W_hh, **biases})
    return (*sizes, H)


def check_lengths(lengths: Any, N: int, T: int) -> np.ndarray | None:
    """``lengths`` as an (N,) int64 array with every entry in [0, T], or None for no padding.

    Accepts a list, a NumPy array or a torch tensor of integers.
    Fractional, boolean or float lengths are refused, even whole-valued
    floats: a length counts steps, and a float usually means a mean or a
    ratio was passed by mistake.
    """
    if lengths is None:
        return None
    if hasattr(lengths, "detach"):  # a torch tensor
        lengths = lengths.detach().cpu().numpy()
    lengths = np.asarray(lengths)
    check_shape("lengths", lengths, {"N": N})
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths has dtype {dtype_name(lengths)}; expected integers")
    if lengths.size and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(
            f"lengths has values in [{lengths.min()}, {lengths.max()}]; expected every length in [0, T] = [0, {T}]"
        )
    return lengths.astype(np.int64)
