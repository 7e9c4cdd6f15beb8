"""Numerical gradients by central differences, to prove analytic backwards.

For a function ``f`` whose output ``y`` receives an upstream gradient ``dy``
(so the scalar being differentiated is ``L = sum(y * dy)``), the derivative
with respect to one entry of an input ``x`` is approximated by

    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),

whose truncation error is O(eps^2) and whose rounding error is about
``1e-16 |L| / eps``. Inputs are perturbed in place and restored, so ``f``
must read its inputs when it is called (not copies taken earlier).

How far a correct backward can be from it, and how far a wrong one is,
measured with ``rel_error`` (relative to the gradient's largest entry) in
float64 with ``eps = 1e-5``, over every gradient check of ``tests/scratch``
and ``tests/test_gradcheck.py`` with 20 different seeds, under each
``OPENBLAS_CORETYPE`` (OpenBLAS kernels of another CPU, so another order of
summation in every matrix product), on an AMD EPYC:

==========================  ======================  =========================
OpenBLAS kernels            worst correct backward  mildest wrong backward
==========================  ======================  =========================
native (SkylakeX)           3.1e-9                  3e-2
Haswell, Sandybridge        3.1e-9                  3e-2
Prescott (SSE3 only)        3.1e-9                  3e-2
==========================  ======================  =========================

The worst correct case is truncated BPTT through a two-layer GRU; the
mildest wrong one a GRU reset-gate gradient that forgets ``b_hn``. Typical
BPTT mistakes (tanh' dropped, W_hh transposed, dh_next missing, a sign
flipped, the last step forgotten, two gates swapped) were at least 0.12 for
every seed, kind and CPU. The floor is set by the central differences, not
by the CPU: the kernels change the result by ~1e-16, which the division by
``2 eps`` turns into ~1e-11. The default tolerance, 1e-5, is 3000 times the
worst correct error and 3000 times below the mildest mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(a: np.ndarray | float, b: np.ndarray | float) -> float:
    """Largest difference, relative to the scale of the arrays: ``max|a - b| / max(|a|, |b|)``.

    The denominator is the largest magnitude found anywhere in either array,
    not entry by entry. An entry-by-entry ratio ``|a_i - b_i| / (|a_i| + |b_i|)``
    is dominated by entries that happen to be near zero: there, rounding
    noise of the size of the *array's* largest entries (which differs between
    CPUs, since BLAS libraries pick their kernels and summation order by CPU)
    becomes a relative error of order 1, and a correct answer is judged wrong.
    Measured against the array's scale, rounding in float64 stays near 1e-15
    and central differences near 1e-10, while a real mistake (a missing term,
    a transposed matrix) is off by 1e-3 or much more. Two exact zeros give 0.

    Args:
        a, b: arrays of one shape (or scalars).

    Returns:
        The error, a float >= 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    difference = float(np.max(np.abs(a - b)))
    if difference == 0.0:
        return 0.0
    if not np.isfinite(difference):
        return float("inf")
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-300)
    return difference / scale


def numerical_gradient(
    f: Callable[[], np.ndarray],
    x: np.ndarray,
    upstream: np.ndarray,
    eps: float = 1e-5,
) -> np.ndarray:
    """Central-difference gradient of ``sum(f() * upstream)`` with respect to ``x``.

    Args:
        f: takes no arguments and returns an array; it must read ``x``.
        x: array of any shape, perturbed in place one entry at a time.
        upstream: array of the shape of ``f()``, the gradient flowing into it.
        eps: the finite-difference step.

    Returns:
        Array of the shape of ``x``.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a floating-point array, got {x.dtype}")
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x = x.reshape(-1)  # a view: writing to it perturbs x itself
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        plus = np.sum(f() * upstream)
        flat_x[i] = original - eps
        minus = np.sum(f() * upstream)
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_gradients(
    f: Callable[[], np.ndarray],
    inputs: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    upstream: np.ndarray,
    tolerance: float = 1e-5,
    eps: float = 1e-5,
) -> dict[str, float]:
    """Compare analytic gradients with numerical ones, input by input.

    Args:
        f: takes no arguments, reads the arrays in ``inputs``, returns an array.
        inputs: name -> array that ``f`` reads (float64 for tight checks).
        analytic: name -> the gradient a backward pass computed for that input.
        upstream: gradient flowing into ``f()``; same shape as ``f()``.
        tolerance: largest relative error accepted; the default, 1e-5, sits
            three orders of magnitude from both the rounding floor and the
            mildest mistake measured (see the module docstring).

    Returns:
        name -> relative error, for every input.

    Raises:
        AssertionError: naming every input whose gradient is off.
    """
    errors = {}
    for name, x in inputs.items():
        numeric = numerical_gradient(f, x, upstream, eps)
        errors[name] = rel_error(numeric, analytic[name])
    bad = {name: err for name, err in errors.items() if not err < tolerance}
    if bad:
        details = ", ".join(f"d{name}: {err:.2e}" for name, err in bad.items())
        raise AssertionError(
            f"analytic gradients disagree with numerical ones ({details}; tolerance {tolerance:.0e})"
        )
    return errors
