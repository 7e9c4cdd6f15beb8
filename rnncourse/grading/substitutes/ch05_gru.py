"""Exercise 5's correct earlier parts, and the vanilla RNN step the exercise gives."""

import numpy as np


def gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """(N, D), (N, H), (3H, D), (3H, H), (3H,), (3H,) -> h_t (N, H); gates r, z, n (torch's convention)."""
    H = h_prev.shape[1]
    ax = x_t @ W_xh.T + b_xh
    ah = h_prev @ W_hh.T + b_hh
    r = 1 / (1 + np.exp(-(ax[:, :H] + ah[:, :H])))
    z = 1 / (1 + np.exp(-(ax[:, H : 2 * H] + ah[:, H : 2 * H])))
    n = np.tanh(ax[:, 2 * H :] + r * ah[:, 2 * H :])
    return (1 - z) * n + z * h_prev


def gru_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """The six gradients dx_t, dh_prev, dW_xh, dW_hh, db_xh, db_hh of one step."""
    H = h_prev.shape[1]
    ax = x_t @ W_xh.T + b_xh
    ah = h_prev @ W_hh.T + b_hh
    r = 1 / (1 + np.exp(-(ax[:, :H] + ah[:, :H])))
    z = 1 / (1 + np.exp(-(ax[:, H : 2 * H] + ah[:, H : 2 * H])))
    hn = ah[:, 2 * H :]
    n = np.tanh(ax[:, 2 * H :] + r * hn)
    da_n = dh_t * (1 - z) * (1 - n * n)
    da_r = da_n * hn * r * (1 - r)
    da_z = dh_t * (h_prev - n) * z * (1 - z)
    dax = np.concatenate([da_r, da_z, da_n], axis=1)
    dah = np.concatenate([da_r, da_z, da_n * r], axis=1)
    return dax @ W_xh, dh_t * z + dah @ W_hh, dax.T @ x_t, dah.T @ h_prev, dax.sum(0), dah.sum(0)


def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """The given tanh step, with the GRU step's signature: (N, D), (N, H), (H, D), (H, H), (H,), (H,)."""
    return np.tanh(x_t @ W_xh.T + b_xh + h_prev @ W_hh.T + b_hh)


def rnn_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    """The given tanh step's six gradients dx_t, dh_prev, dW_xh, dW_hh, db_xh, db_hh."""
    h_t = np.tanh(x_t @ W_xh.T + b_xh + h_prev @ W_hh.T + b_hh)
    da = dh_t * (1 - h_t * h_t)
    return da @ W_xh, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(0), da.sum(0)
