"""Exercise 4's correct earlier parts, substituted while a later part runs."""

import numpy as np


def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    """(N, D), (N, H), (N, H), (4H, D), (4H, H), (4H,) -> h_t (N, H), c_t (N, H); gates i, f, g, o."""
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # each (N, H), in the gate order i, f, g, o
    i, f, o = (1 / (1 + np.exp(-z)) for z in (a_i, a_f, a_o))  # the sigmoid gates
    g = np.tanh(a_g)
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t


def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    """x (N, T, D), lengths (N,) -> h (N, T, H) zero at padding, h_last (N, H), c_last (N, H)."""
    H = h0.shape[1]
    h, c = h0, c0
    out = np.zeros((x.shape[0], x.shape[1], H))
    for t in range(x.shape[1]):
        a = x[:, t] @ W_xh.T + h @ W_hh.T + b
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # each (N, H), in the gate order i, f, g, o
        i, f, o = (1 / (1 + np.exp(-z)) for z in (a_i, a_f, a_o))  # the sigmoid gates
        g = np.tanh(a_g)
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        real = (t < lengths)[:, None]
        h, c = np.where(real, h_new, h), np.where(real, c_new, c)
        out[:, t] = np.where(real, h_new, 0.0)
    return out, h, c


def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b):
    """dL/dh_t, dL/dc_t and the step's inputs -> dx_t, dh_prev, dc_prev, dW_xh, dW_hh, db."""
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # each (N, H), in the gate order i, f, g, o
    i, f, o = (1 / (1 + np.exp(-z)) for z in (a_i, a_f, a_o))  # the sigmoid gates
    g = np.tanh(a_g)
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dc_t + dh_t * o * (1 - tanh_c * tanh_c)  # along the cell path, and through h_t
    da = np.concatenate(
        [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh_t * tanh_c * o * (1 - o)],
        axis=1,
    )
    return da @ W_xh, da @ W_hh, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
