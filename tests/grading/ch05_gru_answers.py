"""Answers to exercise 5 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: loops, einsum, other names, another
# order of random draws and another initialisation in part 4.
ALTERNATIVE = {
    "gru_step_forward": """
def gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = W_hh.shape[1]
    Wr, Wz, Wn = np.split(W_xh, 3)
    Ur, Uz, Un = np.split(W_hh, 3)
    br, bz, bn = np.split(b_xh, 3)
    cr, cz, cn = np.split(b_hh, 3)
    out = np.empty_like(h_prev)
    for i in range(x_t.shape[0]):
        reset = 1 / (1 + np.exp(-(np.einsum("hd,d->h", Wr, x_t[i]) + br + Ur @ h_prev[i] + cr)))
        update = 1 / (1 + np.exp(-(Wz @ x_t[i] + bz + Uz @ h_prev[i] + cz)))
        cand = np.tanh(Wn @ x_t[i] + bn + reset * (Un @ h_prev[i] + cn))
        out[i] = cand + update * (h_prev[i] - cand)
    return out
""",
    "gru_step_backward": """
def gru_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = h_prev.shape[1]
    s = lambda v: 0.5 * (1 + np.tanh(v / 2))  # the sigmoid, written another way
    pre_x = np.einsum("nd,gd->ng", x_t, W_xh) + b_xh
    pre_h = np.einsum("nk,gk->ng", h_prev, W_hh) + b_hh
    r = s(pre_x[:, :H] + pre_h[:, :H])
    z = s(pre_x[:, H:2*H] + pre_h[:, H:2*H])
    n = np.tanh(pre_x[:, 2*H:] + r * pre_h[:, 2*H:])
    g_n = dh_t * (1 - z) * (1 - n * n)
    g_z = dh_t * (h_prev - n) * z * (1 - z)
    g_r = g_n * pre_h[:, 2*H:] * r * (1 - r)
    gx = np.hstack([g_r, g_z, g_n])
    gh = np.hstack([g_r, g_z, g_n * r])
    d_h = dh_t * z
    for k in range(3 * H):
        d_h = d_h + np.outer(gh[:, k], W_hh[k])
    return (np.einsum("ng,gd->nd", gx, W_xh), d_h, np.einsum("ng,nd->gd", gx, x_t),
            np.einsum("ng,nk->gk", gh, h_prev), gx.sum(0), gh.sum(0))
""",
    "gru_reset_before_step_forward": """
def gru_reset_before_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = h_prev.shape[1]
    gate = lambda k, h: x_t @ W_xh[k*H:(k+1)*H].T + b_xh[k*H:(k+1)*H] + h @ W_hh[k*H:(k+1)*H].T + b_hh[k*H:(k+1)*H]
    r = sigmoid(gate(0, h_prev))
    z = sigmoid(gate(1, h_prev))
    n = np.tanh(gate(2, r * h_prev))
    return z * h_prev + (1.0 - z) * n
""",
    "train_loss_curves": """
def train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds):
    fwd = gru_step_forward if cell == "gru" else rnn_step_forward
    bwd = gru_step_backward if cell == "gru" else rnn_step_backward
    G = {"gru": 3, "rnn": 1}[cell]
    N, T, D = x.shape
    H = hidden_size
    result, start = [], []
    for seed in seeds:
        gen = np.random.default_rng(seed)
        w_out = 0.1 * gen.standard_normal((1, H))  # drawn first, and from a normal
        params = {"W_xh": 0.3 * gen.standard_normal((G * H, D)), "W_hh": 0.3 * gen.standard_normal((G * H, H)),
                  "b_xh": np.zeros(G * H), "b_hh": np.zeros(G * H)}
        b_out = np.zeros(1)
        # params is replaced by a new dict at every step, so this one keeps the initial arrays;
        # the read-out as a flat vector and a float (the check accepts the same numbers so).
        start.append(dict(params, W_out=w_out.ravel().copy(), b_out=0.0))
        losses = []
        for _ in range(steps):
            hs = [np.zeros((N, H))]
            for t in range(T):
                hs.append(fwd(x[:, t], hs[-1], *params.values()))
            pred = hs[-1] @ w_out.T + b_out
            losses.append(((pred - y) ** 2).mean())
            g_pred = 2.0 * (pred - y) / N
            grads = {k: 0.0 for k in params}
            g_h = g_pred @ w_out
            for t in range(T - 1, -1, -1):
                out = bwd(g_h, x[:, t], hs[t], *params.values())
                g_h = out[1]
                for k, g in zip(params, out[2:]):
                    grads[k] = grads[k] + g
            w_out = w_out - learning_rate * (g_pred.T @ hs[-1])
            b_out = b_out - learning_rate * g_pred.sum(0)
            params = {k: params[k] - learning_rate * grads[k] for k in params}
        result.append(losses)
    return [np.array(result), start]
""",
}

# One common mistake per part.
WRONG = {
    "gru_step_forward": """
def gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + b_xh
    c = h_prev @ W_hh.T + b_hh
    r = sigmoid(a[:, :H] + c[:, :H])
    z = sigmoid(a[:, H:2*H] + c[:, H:2*H])
    n = np.tanh(a[:, 2*H:] + r * c[:, 2*H:])
    return z * n + (1 - z) * h_prev  # z and 1 - z swapped
""",
    "gru_step_backward": """
def gru_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + b_xh
    c = h_prev @ W_hh.T + b_hh
    r = sigmoid(a[:, :H] + c[:, :H])
    z = sigmoid(a[:, H:2*H] + c[:, H:2*H])
    n = np.tanh(a[:, 2*H:] + r * c[:, 2*H:])
    da_n = dh_t * (1 - z) * (1 - n ** 2)
    da_r = da_n * c[:, 2*H:] * r * (1 - r)
    da_z = dh_t * (h_prev - n) * z * (1 - z)
    dax = np.concatenate([da_r, da_z, da_n], axis=1)
    dah = np.concatenate([da_r, da_z, da_n * r], axis=1)
    return dax @ W_xh, dah @ W_hh, dax.T @ x_t, dah.T @ h_prev, dax.sum(0), dah.sum(0)  # no dh_t * z
""",
    "gru_reset_before_step_forward": """
def gru_reset_before_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + b_xh
    c = h_prev @ W_hh.T + b_hh
    r = sigmoid(a[:, :H] + c[:, :H])
    z = sigmoid(a[:, H:2*H] + c[:, H:2*H])
    n = np.tanh(a[:, 2*H:] + r * c[:, 2*H:])  # torch's variant again
    return (1 - z) * n + z * h_prev
""",
    "train_loss_curves": """
def train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds):
    fwd, bwd, G = (gru_step_forward, gru_step_backward, 3) if cell == "gru" else (rnn_step_forward, rnn_step_backward, 1)
    N, T, D = x.shape
    H = hidden_size
    curves, initial = np.zeros((len(seeds), steps)), []
    for s, seed in enumerate(seeds):
        np.random.seed(seed)
        P = [np.random.uniform(-0.5, 0.5, shape) for shape in ((G*H, D), (G*H, H), (G*H,), (G*H,))]
        w, b = np.random.uniform(-0.5, 0.5, (1, H)), np.zeros(1)
        initial.append(dict(zip(["W_xh", "W_hh", "b_xh", "b_hh", "W_out", "b_out"], [*P, w, b])))
        for step in range(steps):
            hs = [np.zeros((N, H))]
            for t in range(T):
                hs.append(fwd(x[:, t], hs[-1], *P))
            err = hs[-1] @ w.T + b - y
            curves[s, step] = np.mean(err ** 2)
            dp = 2 * err / N
            dh, grads = dp @ w, [0, 0, 0, 0]
            for t in reversed(range(T)):
                _, dh, *g = bwd(dh, x[:, t], hs[t], *P)
                grads = [a + c for a, c in zip(grads, g)]
            P = [p + learning_rate * g for p, g in zip(P, grads)]  # ascent: the sign is wrong
            w, b = w + learning_rate * (dp.T @ hs[-1]), b + learning_rate * dp.sum(0)
    return curves, initial
""",
}

# Each part handed to the course's own implementation.
CHEAT = {
    "gru_step_forward": """
from rnncourse.scratch.gru import gru_step_forward as course_step
def gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    return course_step(x_t, h_prev, W_xh, W_hh, b_xh, b_hh)[0]
""",
    "gru_step_backward": """
from rnncourse.scratch import gru as course
def gru_step_backward(dh_t, x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    _, cache = course.gru_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh)
    return course.gru_step_backward(dh_t, cache)
""",
    "gru_reset_before_step_forward": """
import rnncourse.scratch.gru
def gru_reset_before_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh):
    return rnncourse.scratch.gru.gru_reset_before_step_forward(x_t, h_prev, W_xh, W_hh, b_xh, b_hh)[0]
""",
    "train_loss_curves": """
from rnncourse.scratch import gru as course


def train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds):
    # The course's own GRU steps (with their cache) do the forward and backward.
    N, T, D = x.shape
    H = hidden_size
    curves, initial = np.zeros((len(seeds), steps)), []
    for s, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        P = [rng.uniform(-0.5, 0.5, shape) for shape in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]
        w, b = rng.uniform(-0.5, 0.5, (1, H)), np.zeros(1)
        initial.append(dict(zip(["W_xh", "W_hh", "b_xh", "b_hh", "W_out", "b_out"], [*P, w, b])))
        for step in range(steps):
            hs, caches = [np.zeros((N, H))], []
            for t in range(T):
                h, cache = course.gru_step_forward(x[:, t], hs[-1], *P)
                hs.append(h)
                caches.append(cache)
            err = hs[-1] @ w.T + b - y
            curves[s, step] = np.mean(err ** 2)
            dp = 2 * err / N
            dh, grads = dp @ w, [0, 0, 0, 0]
            for t in reversed(range(T)):
                _, dh, *g = course.gru_step_backward(dh, caches[t])
                grads = [a + c for a, c in zip(grads, g)]
            P = [p - learning_rate * g for p, g in zip(P, grads)]
            w, b = w - learning_rate * (dp.T @ hs[-1]), b - learning_rate * dp.sum(0)
    return curves, initial
""",
}

# More mistakes in part 4, each graded as a submission of its own (the other parts correct):
# the cell's source, and words its feedback must contain.
TRAINING_MISTAKES = {
    # A curve that no training produced: the initial weights are drawn from the seed, as asked,
    # but the "losses" decay geometrically from a first value that depends on the seed.
    "fabricated": (
        """
def train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds):
    G = 3 if cell == "gru" else 1
    D, H = x.shape[2], hidden_size
    curves, initial = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        shapes = {"W_xh": (G * H, D), "W_hh": (G * H, H), "b_xh": (G * H,), "b_hh": (G * H,), "W_out": (1, H)}
        weights = {k: rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), shape) for k, shape in shapes.items()}
        weights["b_out"] = np.zeros(1)
        first = np.mean(y ** 2) * (1 + np.abs(weights["W_out"]).mean())
        curves.append(first * 0.9 ** np.arange(steps))
        initial.append(weights)
    return np.array(curves), initial
""",
        "not those of training from the initial weights you returned",
    ),
    # Right training, but each loss is computed after the step's update.
    "loss-after-update": (
        """
def train_loss_curves(cell, x, y, hidden_size, steps, learning_rate, seeds):
    fwd, bwd, G = (gru_step_forward, gru_step_backward, 3) if cell == "gru" else (rnn_step_forward, rnn_step_backward, 1)
    N, T, D = x.shape
    H = hidden_size

    def run(P, w, b):
        hs = [np.zeros((N, H))]
        for t in range(T):
            hs.append(fwd(x[:, t], hs[-1], *P))
        return hs, hs[-1] @ w.T + b - y

    curves, initial = np.zeros((len(seeds), steps)), []
    for s, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        bound = 1 / np.sqrt(H)
        P = [rng.uniform(-bound, bound, shape) for shape in ((G*H, D), (G*H, H), (G*H,), (G*H,))]
        w, b = rng.uniform(-bound, bound, (1, H)), np.zeros(1)
        initial.append(dict(zip(["W_xh", "W_hh", "b_xh", "b_hh", "W_out", "b_out"], [*P, w, b])))
        for step in range(steps):
            hs, err = run(P, w, b)
            dp = 2 * err / N
            dh, grads = dp @ w, [0, 0, 0, 0]
            for t in reversed(range(T)):
                _, dh, *g = bwd(dh, x[:, t], hs[t], *P)
                grads = [a + c for a, c in zip(grads, g)]
            P = [p - learning_rate * g for p, g in zip(P, grads)]
            w, b = w - learning_rate * (dp.T @ hs[-1]), b - learning_rate * dp.sum(0)
            curves[s, step] = np.mean(run(P, w, b)[1] ** 2)  # after the update: one step late
    return curves, initial
""",
        "recorded after each update",
    ),
}
