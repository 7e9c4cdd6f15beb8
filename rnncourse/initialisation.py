"""Initialisations of the recurrent matrix W_hh that keep gradients alive at the start of training.

Backpropagation through time multiplies by diag(f') W_hh once per step
(``rnncourse.scratch.gradient_flow``), so the singular values of W_hh decide
whether a gradient fades, keeps its size or explodes over many steps:

* **orthogonal** (Saxe, McClelland and Ganguli 2014): W = gain Q, Q^T Q = I.
  Every singular value equals ``gain``: with gain 1, W neither shrinks nor
  stretches any direction, ||W^k v|| = ||v|| for every k.
* **identity** (IRNN, Le, Jaitly and Hinton 2015): W = gain I with ReLU units
  and zero biases. At the start, a ReLU RNN with positive states just copies
  its state forward: h_t = h_{t-1} + W_xh x_t, an integrator, and gradients
  pass back unchanged.
* **spectral radius** (echo-state networks, Jaeger 2001): a random matrix
  rescaled so that its largest |eigenvalue| is ``radius``. It fixes the limit
  of W^k, not sigma_max: a non-normal matrix can still amplify for a while.

And one bias: an LSTM's **forget-gate bias** (``set_forget_bias_``). torch draws
it around 0, so that every forget gate starts near sigma(0) = 1/2 and the cell
path halves a gradient at every step; Keras sets it to 1 (``unit_forget_bias``,
Gers et al. 2000, Jozefowicz et al. 2015), gates near 0.73.

NumPy functions take the random matrix they start from (so they are
deterministic and testable); the torch functions initialise a module's
``weight_hh_l{k}`` in place, each gate's (H, H) block on its own.

An orthogonal Q is the Q of a QR factorisation A = QR of a Gaussian matrix A.
QR is unique only up to the signs of R's diagonal, and LAPACK does not make
them positive; multiplying column j of Q by sign(R_jj) makes the
factorisation unique, and, for a Gaussian A, Q uniformly distributed over the
orthogonal matrices (Mezzadri 2007). torch.nn.init.orthogonal_ does the same.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn

from rnncourse.checks import check_shape
from rnncourse.kinds import gate_rows
from rnncourse.scratch.gradient_flow import spectrum

Scheme = Literal["orthogonal", "identity", "spectral", "default"]
SCHEMES: tuple[Scheme, ...] = ("orthogonal", "identity", "spectral", "default")


def _square(name: str, A: np.ndarray) -> int:
    H = check_shape(name, A, [("H", None), ("H", None)])[0]
    check_shape(name, A, [("H", H), ("H", H)])
    return H


def orthogonal(A: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """gain Q, Q the orthogonal factor of A = QR with diag(R) > 0: (H, H) -> (H, H).

    Args:
        A: (H, H) a full-rank matrix, e.g. standard normal entries.
        gain: every singular value of the result.
    """
    _square("A", A)
    Q, R = np.linalg.qr(A)
    signs = np.where(np.diag(R) < 0, -1.0, 1.0)  # a zero diagonal (rank-deficient A) keeps +1
    return gain * Q * signs  # column j times sign(R_jj)


def orthogonal_matrix(size: int, seed: int, gain: float = 1.0) -> np.ndarray:
    """A random orthogonal (size, size) matrix times ``gain``, drawn from ``seed``."""
    return orthogonal(np.random.default_rng(seed).standard_normal((size, size)), gain)


def identity(size: int, gain: float = 1.0) -> np.ndarray:
    """gain I, (size, size): the IRNN's recurrent matrix."""
    return gain * np.eye(size)


def scaled_to_radius(A: np.ndarray, radius: float) -> np.ndarray:
    """A times radius / rho(A), rho the largest |eigenvalue| (not the largest singular value)."""
    _square("A", A)
    return A * (radius / spectrum(A).spectral_radius)


def from_matrix(A: np.ndarray, scheme: Scheme, gain: float = 1.0) -> np.ndarray:
    """A recurrent matrix made from the random matrix A (H, H) by ``scheme``: (H, H).

    * ``"orthogonal"``: gain Q, Q of A = QR with diag(R) > 0 (``orthogonal``);
    * ``"identity"``: gain I (A gives only the size);
    * ``"spectral"``: A rescaled to spectral radius ``gain`` (``scaled_to_radius``).
    """
    size = _square("A", A)
    if scheme == "orthogonal":
        return orthogonal(A, gain)
    if scheme == "identity":
        return identity(size, gain)
    if scheme == "spectral":
        return scaled_to_radius(A, gain)
    raise ValueError(f"scheme must be 'orthogonal', 'identity' or 'spectral', got {scheme!r}")


def recurrent_block(scheme: Scheme, size: int, seed: int, gain: float = 1.0) -> np.ndarray:
    """One (size, size) block of W_hh for ``scheme``, from a Gaussian matrix drawn from ``seed``.

    ``gain`` is the gain, or the spectral radius for ``"spectral"``. The
    Gaussian matrix has std 1/sqrt(size), whose spectral radius is near 1 for
    large sizes (Girko's circular law), so ``"spectral"`` only nudges it.
    """
    A = np.random.default_rng(seed).standard_normal((size, size)) / np.sqrt(size)
    return from_matrix(A, scheme, gain)


@torch.no_grad()
def init_recurrent_(
    module: nn.RNNBase, scheme: Scheme, seed: int, gain: float = 1.0, zero_bias: bool = False
) -> nn.RNNBase:
    """Initialise every ``weight_hh_l{k}`` (and ``_reverse``) of an RNN/LSTM/GRU in place.

    Each gate owns an (H, H) block of rows of weight_hh (G blocks, G = 1, 4
    or 3); every block gets its own matrix (seeds ``seed``, ``seed + 1``, ...).
    ``"default"`` leaves torch's uniform initialisation alone.

    Args:
        module: ``torch.nn.RNN``, ``LSTM`` or ``GRU`` (or ``rnncourse.nn.recurrent``'s).
        scheme: "orthogonal", "identity", "spectral" or "default".
        seed: seed of the first block.
        gain: gain (orthogonal, identity) or spectral radius (spectral).
        zero_bias: also set every bias to 0 (the IRNN's recipe).

    Returns:
        The module, for chaining.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    H = module.hidden_size
    block_seed = seed
    for name, parameter in module.named_parameters():
        if name.startswith("bias") and zero_bias:
            parameter.zero_()
        if not name.startswith("weight_hh") or scheme == "default":
            continue
        for start in range(0, parameter.shape[0], H):
            block = recurrent_block(scheme, H, block_seed, gain)
            parameter[start : start + H] = torch.as_tensor(block, dtype=parameter.dtype)
            block_seed += 1
    return module


@torch.no_grad()
def set_forget_bias_(lstm: nn.RNNBase, value: float) -> nn.RNNBase:
    """Set the forget gate's bias of every layer and direction of a ``torch.nn.LSTM`` to ``value``, in place.

    torch adds ``bias_ih`` and ``bias_hh``: the whole value goes into the first,
    the second's forget rows are zeroed, so their sum is ``value``.

    Returns:
        The module, for chaining.
    """
    if lstm.mode != "LSTM":
        raise ValueError(f"a forget gate belongs to an LSTM; this layer is a {lstm.mode}")
    rows = gate_rows("lstm", "f", lstm.hidden_size)
    for name, parameter in lstm.named_parameters():
        if name.startswith("bias_ih"):
            parameter[rows] = value
        elif name.startswith("bias_hh"):
            parameter[rows] = 0.0
    return lstm
