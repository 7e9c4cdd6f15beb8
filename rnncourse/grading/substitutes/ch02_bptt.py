"""Exercise 2's correct earlier parts, substituted while a later part runs."""

import numpy as np


def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    """dL/dh_t (N, H) -> dx_t (N, D), dh_prev (N, H), dW_xh (H, D), dW_hh (H, H), db_h (H,)."""
    da = dh_t * (1.0 - h_t**2)
    return da @ W_xh, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)


def bptt(params, x, targets, mask, h0):
    """Loss summed over time and averaged over the batch, its gradients, and h_T.

    params: W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (V, H), b_y (V,); x (N, T, D);
    targets (N, T) int; mask (N, T) of 0/1; h0 (N, H).
    """
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    N, T, _ = x.shape
    hs, h = [h0], h0
    for t in range(T):
        h = np.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b_h)
        hs.append(h)
    grads = {k: np.zeros_like(v) for k, v in params.items() if k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}
    loss, dh_next = 0.0, np.zeros_like(h0)
    for t in reversed(range(T)):
        z = hs[t + 1] @ W_hy.T + b_y
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        rows = np.arange(N)
        loss -= np.sum(mask[:, t] * np.log(p[rows, targets[:, t]])) / N
        dz = p.copy()
        dz[rows, targets[:, t]] -= 1.0
        dz *= mask[:, t : t + 1] / N
        grads["W_hy"] += dz.T @ hs[t + 1]
        grads["b_y"] += dz.sum(axis=0)
        da = (dz @ W_hy + dh_next) * (1.0 - hs[t + 1] ** 2)
        grads["W_xh"] += da.T @ x[:, t]
        grads["W_hh"] += da.T @ hs[t]
        grads["b_h"] += da.sum(axis=0)
        dh_next = da @ W_hh
    grads["h0"] = dh_next
    return loss, grads, hs[-1]


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by min(1, max_norm / ||g||), ||g|| the norm of all arrays together."""
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: g * scale for name, g in grads.items()}, norm
