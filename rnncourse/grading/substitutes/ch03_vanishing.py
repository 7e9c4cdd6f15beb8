"""Exercise 3's given code: the scalar recurrent network that part 4 trains."""

import numpy as np


def loss_and_grad(w, target, T):
    """h_t = w h_{t-1}, h_0 = 1, so h_T = w**T; L(w) = (w**T - target)**2 / 2, dL/dw = (w**T - target) T w**(T - 1).

    NumPy floats: a diverging run overflows to inf (with a warning) instead of raising OverflowError.
    """
    w = np.float64(w)
    error = w**T - target
    return float(0.5 * error**2), float(error * T * w ** (T - 1))
