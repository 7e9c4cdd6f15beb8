"""Losses for sequence outputs, with a mask for padded positions.

Both losses are means over the *real* positions of a padded batch. A mask
``m`` of shape (N, T) is 1 at real steps and 0 at padding, and with
``M = sum_{n,t} m_{n,t}`` real positions

    L = (1 / M) sum_{n,t} m_{n,t} l_{n,t}

so padding neither adds to the loss nor receives a gradient, and the loss of
a sequence does not depend on how much padding its batch happened to need.
Without a mask every position is real.
"""

from __future__ import annotations

import numpy as np

from rnncourse.checks import check_floating, check_same_dtype, check_shape, dtype_name
from rnncourse.scratch.activations import softmax


def _weights(mask: np.ndarray | None, expected: dict[str, int | None], dtype: np.dtype) -> np.ndarray:
    """0/1 weights of the shape ``expected`` (symbol -> size) from ``mask``; all ones without a mask."""
    shape = tuple(int(size) for size in expected.values() if size is not None)
    if mask is None:
        return np.ones(shape, dtype=dtype)
    mask = np.asarray(mask)
    check_shape("mask", mask, expected)
    return (mask != 0).astype(dtype)


def softmax_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of the target classes, and its gradient.

    With scores ``z`` and target class ``y`` at one position,

        l = -log softmax(z)_y = log sum_j exp(z_j) - z_y
        dl/dz = softmax(z) - onehot(y)

    ``log sum_j exp(z_j)`` is computed as ``c + log sum_j exp(z_j - c)`` with
    ``c = max_j z_j`` (the log-sum-exp trick): every exponent is <= 0, so
    nothing overflows, and the sum is >= 1, so its log is never -inf. Taking
    ``log(softmax(z)_y)`` instead would give -inf as soon as a probability
    underflows to 0.

    Args:
        logits: (N, T, C) or (N, C) unnormalised scores for C classes.
        targets: (N, T) or (N,) integer classes in ``[0, C)``; at masked
            positions any value is accepted (e.g. -100) and ignored.
        mask: optional, shape of ``targets``; nonzero/True at real positions.

    Returns:
        loss: the mean over real positions (0.0 if there are none), and
        dlogits: array of the shape and dtype of ``logits``, zero at masked positions.
    """
    check_floating("logits", logits)
    if logits.ndim not in (2, 3):
        raise ValueError(f"logits has shape {logits.shape}; expected (N, T, C) or (N, C)")
    expected = dict(zip(("N", "T"), logits.shape[:-1]))  # {"N": N} for (N, C) logits
    targets = np.asarray(targets)
    check_shape("targets", targets, expected)
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"targets has dtype {dtype_name(targets)}; expected integers")
    weights = _weights(mask, expected, logits.dtype)
    # Masked positions may hold an out-of-range "ignore" value; any valid
    # class will do there since their weight is 0.
    safe_targets = np.where(weights > 0, targets, 0)
    C = logits.shape[-1]
    if safe_targets.size and (safe_targets.min() < 0 or safe_targets.max() >= C):
        raise IndexError(
            f"targets has values in [{safe_targets.min()}, {safe_targets.max()}] at real positions; "
            f"expected classes in [0, C) = [0, {C})"
        )
    count = weights.sum()
    if count == 0:
        # Possible for a chunk of padding only (truncated BPTT): nothing to learn from.
        return 0.0, np.zeros_like(logits)

    c = logits.max(axis=-1, keepdims=True)
    log_sum_exp = (c + np.log(np.exp(logits - c).sum(axis=-1, keepdims=True)))[..., 0]
    target_logit = np.take_along_axis(logits, safe_targets[..., None], axis=-1)[..., 0]
    loss = float(np.sum(weights * (log_sum_exp - target_logit)) / count)

    dlogits = softmax(logits, axis=-1)
    np.put_along_axis(
        dlogits,
        safe_targets[..., None],
        np.take_along_axis(dlogits, safe_targets[..., None], axis=-1) - 1,
        axis=-1,
    )
    dlogits *= (weights / count)[..., None]
    return loss, dlogits


def mse(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Mean squared error over every element of the real positions, and its gradient.

    With K elements per position (K = D for (N, T, D) predictions) the loss
    is ``L = sum_{n,t,k} m_{n,t} (p_{n,t,k} - y_{n,t,k})^2 / (M K)`` and
    ``dL/dp = 2 m (p - y) / (M K)``; without a mask it equals
    ``torch.nn.functional.mse_loss``.

    Args:
        pred: (N, T, D), (N, T) or any shape.
        target: shape of ``pred``.
        mask: optional, a leading part of ``pred.shape`` such as (N, T);
            nonzero/True at real positions, broadcast over the remaining axes.

    Returns:
        loss: the mean (0.0 if no position is real), and
        dpred: array of the shape and dtype of ``pred``.
    """
    check_floating("pred", pred)
    check_shape("target", target, {f"d{k}": size for k, size in enumerate(pred.shape)})
    check_same_dtype(("pred", pred), {"target": target})
    lead = pred.shape if mask is None else np.shape(mask)
    if pred.shape[: len(lead)] != lead:
        raise ValueError(f"mask has shape {lead}; expected a leading part of pred's shape {pred.shape}")
    weights = _weights(mask, {f"d{k}": size for k, size in enumerate(lead)}, pred.dtype)
    weights = weights.reshape(lead + (1,) * (pred.ndim - len(lead)))
    per_position = int(np.prod(pred.shape[len(lead) :]))  # K
    count = weights.sum() * per_position
    if count == 0:
        return 0.0, np.zeros_like(pred)
    diff = pred - target
    loss = float(np.sum(weights * diff * diff) / count)
    dpred = (2 / count) * weights * diff
    return loss, dpred.astype(pred.dtype, copy=False)


def padded_mean_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    """The *wrong* normalisation, for comparison: masked token losses averaged over every position.

    ``L = sum_{n,t} m_{n,t} l_{n,t} / (N T)``, padding included in the count.
    It is what Dive into Deep Learning's older ``MaskedSoftmaxCELoss`` gives
    (masked per-token losses, then ``.mean(dim=1)`` over all T steps of the
    padded batch; its report #2076): it equals :func:`softmax_cross_entropy`
    times ``M / (N T)``, the fraction of real positions, so a batch with more
    padding reports (and learns from) a smaller loss, and a short sequence
    padded to T weighs ``length / T`` of a full one.

    Args:
        logits: (N, T, C); targets: (N, T) integer classes; mask: (N, T), nonzero at real positions.

    Returns:
        loss and dlogits (N, T, C), the token-mean's times ``M / (N T)``.
    """
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    fraction = float(np.count_nonzero(mask)) / mask.size
    return loss * fraction, dlogits * fraction
