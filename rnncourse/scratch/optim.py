"""Gradient clipping (by global norm, and entry by entry) and two optimizers.

Parameters and gradients are dictionaries ``name -> array`` with the same
names, e.g. ``{"W_xh": ..., "W_hh": ..., "b_h": ...}``. The optimizers
update the parameter arrays in place, so every layer that holds a reference
to them sees the new values, and their dtype is kept.

Symbols: theta a parameter, g its gradient, eta the learning rate, t the
step number (1 for the first step).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def clip_by_global_norm(
    grads: Mapping[str, np.ndarray], max_norm: float, eps: float = 0.0
) -> tuple[dict[str, np.ndarray], float]:
    """Rescale all gradients together so that their joint norm is at most ``max_norm``.

        ||g|| = sqrt(sum over every gradient array of sum g_i^2)
        g <- g * max_norm / (||g|| + eps)    when that factor is < 1

    Backpropagation through time multiplies by ``W_hh`` once per step, so a
    gradient can occasionally explode by orders of magnitude. Clipping keeps
    the direction of the step and bounds its length. Scaling every array by
    the same factor (rather than clipping each on its own) keeps the
    direction of the whole update, not just of each piece.

    Args:
        grads: name -> gradient array.
        max_norm: largest norm allowed, > 0.
        eps: added to the norm in the factor; ``torch.nn.utils.clip_grad_norm_``
            uses 1e-6. With the default 0 the clipped norm is exactly ``max_norm``.

    Returns:
        clipped: a new dict of new arrays (``grads`` is not modified), and the
        norm before clipping, as a float.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    # Sum in float64 so that float32 gradients of many parameters do not lose
    # precision (or overflow) in the squares.
    norm = float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads.values())))
    scale = max_norm / (norm + eps) if norm + eps > 0 else 1.0
    if scale < 1:
        clipped = {name: (g * scale).astype(g.dtype, copy=False) for name, g in grads.items()}
    else:
        clipped = {name: g.copy() for name, g in grads.items()}
    return clipped, norm


def clip_elementwise(grads: Mapping[str, np.ndarray], max_value: float) -> dict[str, np.ndarray]:
    """Clip every entry of every gradient to ``[-max_value, max_value]`` on its own.

        g_i <- min(max(g_i, -max_value), max_value)

    This is what Karpathy's min-char-rnn does (``np.clip(dparam, -5, 5)``) and
    what ``torch.nn.utils.clip_grad_value_`` does. Unlike
    :func:`clip_by_global_norm` it changes the *direction* of the update: the
    large entries are cut down while the small ones are kept, so a gradient
    ``(10, 1)`` clipped at 1 becomes ``(1, 1)``, which points 39 degrees away.
    It bounds each entry, not the length of the step.

    Args:
        grads: name -> gradient array.
        max_value: the bound, > 0.

    Returns:
        a new dict of new arrays of the same dtypes (``grads`` is not modified).
    """
    if not max_value > 0:
        raise ValueError(f"max_value must be positive, got {max_value}")
    return {name: np.clip(g, -max_value, max_value) for name, g in grads.items()}


def _check_names(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
    unknown = set(grads) - set(params)
    if unknown:
        raise KeyError(f"gradients for unknown parameters: {sorted(unknown)}")
    for name, g in grads.items():
        if g.shape != params[name].shape:
            raise ValueError(f"gradient of {name!r} has shape {g.shape}, parameter has {params[name].shape}")


class SGD:
    """Stochastic gradient descent, optionally with (heavy-ball) momentum.

    Without momentum (mu = 0):   theta <- theta - eta g
    With momentum mu:            v <- mu v + g          (v starts at 0)
                                 theta <- theta - eta v

    The velocity ``v`` is a running, exponentially decaying sum of past
    gradients: directions that agree from step to step build up speed, and
    directions that flip sign cancel out. This is the form ``torch.optim.SGD``
    uses (the gradient is not multiplied by 1 - mu).
    """

    def __init__(self, lr: float, momentum: float = 0.0) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.lr = lr
        self.momentum = momentum
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every parameter that has a gradient, in place.

        Args:
            params: name -> parameter array (modified in place).
            grads: name -> gradient of the same shape; parameters without an
                entry are left alone.
        """
        _check_names(params, grads)
        for name, g in grads.items():
            if self.momentum:
                v = self.velocity.setdefault(name, np.zeros_like(params[name]))
                v *= self.momentum
                v += g
                g = v
            params[name] -= self.lr * g


class Adam:
    """Adam: momentum on the gradient, scaled per entry by a running RMS of it.

        m <- beta1 m + (1 - beta1) g            (first moment, m starts at 0)
        s <- beta2 s + (1 - beta2) g^2          (second moment, s starts at 0)
        m_hat = m / (1 - beta1^t),  s_hat = s / (1 - beta2^t)
        theta <- theta - eta m_hat / (sqrt(s_hat) + eps)

    Because m and s start at 0 they are biased towards 0 for the first
    steps; dividing by 1 - beta^t removes that bias exactly for a constant
    gradient. Dividing by sqrt(s_hat) makes the step size about eta for
    every entry, whatever the scale of its gradient. The step number t is
    counted per parameter, as in ``torch.optim.Adam``.
    """

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.m: dict[str, np.ndarray] = {}
        self.s: dict[str, np.ndarray] = {}
        self.t: dict[str, int] = {}

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every parameter that has a gradient, in place.

        Args:
            params: name -> parameter array (modified in place).
            grads: name -> gradient of the same shape; parameters without an
                entry are left alone (and their step count does not advance).
        """
        _check_names(params, grads)
        beta1, beta2 = self.betas
        for name, g in grads.items():
            p = params[name]
            m = self.m.setdefault(name, np.zeros_like(p))
            s = self.s.setdefault(name, np.zeros_like(p))
            t = self.t[name] = self.t.get(name, 0) + 1
            m *= beta1
            m += (1 - beta1) * g
            s *= beta2
            s += (1 - beta2) * g * g
            m_hat = m / (1 - beta1**t)
            s_hat = s / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)
