"""Answers to exercise 2 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: einsum and loops, other names,
# the loss computed with log-sum-exp, the chunks counted differently, one-hot
# rows and a running sum for sampling.
ALTERNATIVE = {
    "rnn_step_backward": """
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    g = dh_t - dh_t * h_t * h_t
    n_rows = g.shape[0]
    dW_x = np.zeros_like(W_xh)
    dW_h = np.zeros_like(W_hh)
    for n in range(n_rows):
        dW_x += np.outer(g[n], x_t[n])
        dW_h += np.outer(g[n], h_prev[n])
    return np.einsum("nh,hd->nd", g, W_xh), np.einsum("nh,hk->nk", g, W_hh), dW_x, dW_h, np.einsum("nh->h", g)
""",
    "bptt": """
def bptt(params, x, targets, mask, h0):
    N, T, _ = x.shape
    hs = np.zeros((T + 1,) + h0.shape)
    hs[0] = h0
    for t in range(T):
        hs[t + 1] = np.tanh(np.einsum("nd,hd->nh", x[:, t], params["W_xh"]) + hs[t] @ params["W_hh"].T + params["b_h"])
    z = np.einsum("tnh,ch->tnc", hs[1:], params["W_hy"]) + params["b_y"]  # (T, N, C)
    top = z.max(axis=2, keepdims=True)
    log_p = z - top - np.log(np.exp(z - top).sum(axis=2, keepdims=True))
    y = targets.T  # (T, N)
    m = mask.T
    picked = np.take_along_axis(log_p, y[..., None], axis=2)[..., 0]
    total = -(m * picked).sum() / N
    dz = np.exp(log_p)
    np.put_along_axis(dz, y[..., None], np.take_along_axis(dz, y[..., None], 2) - 1, axis=2)
    dz = dz * m[..., None] / N
    g = {"W_hy": np.einsum("tnc,tnh->ch", dz, hs[1:]), "b_y": dz.sum(axis=(0, 1))}
    g["W_xh"], g["W_hh"], g["b_h"] = 0 * params["W_xh"], 0 * params["W_hh"], 0 * params["b_h"]
    carry = 0 * h0
    for t in range(T - 1, -1, -1):
        pieces = rnn_step_backward(dz[t] @ params["W_hy"] + carry, x[:, t], hs[t], hs[t + 1], params["W_xh"], params["W_hh"])
        carry = pieces[1]
        g["W_xh"] = g["W_xh"] + pieces[2]
        g["W_hh"] = g["W_hh"] + pieces[3]
        g["b_h"] = g["b_h"] + pieces[4]
    g["h0"] = carry
    return float(total), g, hs[T]
""",
    "clip_by_global_norm": """
def clip_by_global_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(v) for v in grads.values()])
    size = float(np.linalg.norm(flat))
    out = {}
    for key in grads:
        out[key] = grads[key] * (max_norm / size) if size > max_norm else np.array(grads[key], copy=True)
    return out, size
""",
    "tbptt_train": """
def tbptt_train(params, x, targets, h0, k, lr, max_norm):
    current = dict(params)
    state = h0.copy()
    record = []
    T = x.shape[1]
    chunks = (T + k - 1) // k
    for i in range(chunks):
        window = slice(i * k, min(T, (i + 1) * k))
        value, g, state = bptt(current, x[:, window], targets[:, window], np.ones((x.shape[0], window.stop - window.start)), state)
        g = {name: g[name] for name in current}  # leave "h0" out: detached
        g, _ = clip_by_global_norm(g, max_norm)
        current = {name: current[name] - lr * g[name] for name in current}
        record.append(value)
    return current, state, record
""",
    "generate": """
def generate(params, h, first_id, uniforms, temperature):
    out = []
    state = h[None, :]  # a batch of one row, as in the other parts
    last = first_id
    for draw in uniforms:
        onehot = np.zeros((1, params["W_xh"].shape[1]))
        onehot[0, last] = 1.0
        state = np.tanh(onehot @ params["W_xh"].T + state @ params["W_hh"].T + params["b_h"])
        logits = (state @ params["W_hy"].T + params["b_y"])[0] / temperature
        log_p = logits - logits.max() - np.log(np.sum(np.exp(logits - logits.max())))
        total = 0.0
        for i, lp in enumerate(np.exp(log_p)):
            total += lp
            if total > draw:
                break
        out.append(i)
        last = i
    return out
""",
}

# One common mistake per part.
WRONG = {
    "rnn_step_backward": """
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da = dh_t  # forgot the tanh derivative
    return da @ W_xh, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
""",
    "bptt": """
def bptt(params, x, targets, mask, h0):
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    N, T, _ = x.shape
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    loss, rows = 0.0, np.arange(N)
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        z = hs[t + 1] @ W_hy.T + b_y
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss -= np.sum(mask[:, t] * np.log(p[rows, targets[:, t]])) / N
        dz = p.copy()
        dz[rows, targets[:, t]] -= 1
        dz *= mask[:, t][:, None] / N
        grads["W_hy"] += dz.T @ hs[t + 1]
        grads["b_y"] += dz.sum(axis=0)
        # the recurrent term is dropped: only this step's own loss reaches h_t
        _, dh_prev, dW_xh, dW_hh, db_h = rnn_step_backward(dz @ W_hy, x[:, t], hs[t], hs[t + 1], W_xh, W_hh)
        grads["W_xh"] += dW_xh
        grads["W_hh"] += dW_hh
        grads["b_h"] += db_h
    grads["h0"] = dh_prev
    return float(loss), grads, hs[-1]
""",
    "clip_by_global_norm": """
def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, norm
""",
    "tbptt_train": """
def tbptt_train(params, x, targets, h0, k, lr, max_norm):
    losses = []
    for start in range(0, x.shape[1], k):
        # every chunk starts again from h0: the state is not carried
        loss, grads, _ = bptt(params, x[:, start:start + k], targets[:, start:start + k], np.ones(targets[:, start:start + k].shape), h0)
        del grads["h0"]
        grads, _ = clip_by_global_norm(grads, max_norm)
        params = {name: params[name] - lr * grads[name] for name in params}
        losses.append(loss)
    h = bptt(params, x[:, -1:], targets[:, -1:], np.ones((x.shape[0], 1)), h0)[2]
    return params, h, losses
""",
    "generate": """
def generate(params, h, first_id, uniforms, temperature):
    ids, x = [], first_id
    for u in uniforms:
        h = np.tanh(params["W_xh"][:, x] + params["W_hh"] @ h + params["b_h"])
        z = (params["W_hy"] @ h + params["b_y"]) * temperature  # multiplies instead of dividing
        p = np.exp(z - z.max())
        p /= p.sum()
        x = int(np.searchsorted(np.cumsum(p), u, side="right"))
        ids.append(x)
    return ids
""",
}

# A call of the course's own implementation in each part.
CHEAT = {
    "rnn_step_backward": """
from rnncourse.scratch.rnn import StepCache, rnn_step_backward as course_step
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    return course_step(dh_t, StepCache(x_t, h_prev, W_xh, W_hh, h_t, "tanh"))
""",
    "bptt": """
from rnncourse.scratch.tbptt import rnn_lm_loss_and_grads
def bptt(params, x, targets, mask, h0):
    return rnn_lm_loss_and_grads(params, x, targets, mask, h0)
""",
    "clip_by_global_norm": """
import rnncourse.scratch.optim
def clip_by_global_norm(grads, max_norm):
    return rnncourse.scratch.optim.clip_by_global_norm(grads, max_norm)
""",
    "tbptt_train": """
from rnncourse.scratch.tbptt import rnn_lm_tbptt_sgd
def tbptt_train(params, x, targets, h0, k, lr, max_norm):
    return rnn_lm_tbptt_sgd(params, x, targets, h0, k, lr, max_norm)
""",
    "generate": """
from rnncourse.scratch.activations import softmax
def generate(params, h, first_id, uniforms, temperature):
    ids, x = [], first_id
    for u in uniforms:
        h = np.tanh(params["W_xh"][:, x] + params["W_hh"] @ h + params["b_h"])
        p = softmax((params["W_hy"] @ h + params["b_y"]) / temperature)
        x = int(np.searchsorted(np.cumsum(p), u, side="right"))
        ids.append(x)
    return ids
""",
}
