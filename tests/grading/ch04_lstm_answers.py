"""Answers to exercise 4 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: einsum, loops, a gate table, another masking.
ALTERNATIVE = {
    "lstm_step_forward": """
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    units = W_hh.shape[1]
    z = np.einsum("gd,nd->ng", W_xh, x_t) + np.einsum("gk,nk->ng", W_hh, h_prev) + b[None, :]
    blocks = dict(zip("ifgo", np.split(z, 4, axis=1)))
    gate = {k: 0.5 * (1 + np.tanh(v / 2)) for k, v in blocks.items() if k != "g"}  # sigmoid via tanh
    cell = gate["f"] * c_prev + gate["i"] * np.tanh(blocks["g"])
    return gate["o"] * np.tanh(cell), cell
""",
    "lstm_step_backward": """
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b):
    h_t, c_t = lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b)
    n_units = h_prev.shape[1]
    z = x_t @ W_xh.T + h_prev @ W_hh.T + b
    s = 1 / (1 + np.exp(-z))
    i, f, o = s[:, :n_units], s[:, n_units:2 * n_units], s[:, 3 * n_units:]
    g = np.tanh(z[:, 2 * n_units:3 * n_units])
    th = np.tanh(c_t)
    total = dh_t * o * (1 - th * th) + dc_t
    dz = np.zeros_like(z)
    dz[:, :n_units] = total * g * i * (1 - i)
    dz[:, n_units:2 * n_units] = total * c_prev * f * (1 - f)
    dz[:, 2 * n_units:3 * n_units] = total * i * (1 - g * g)
    dz[:, 3 * n_units:] = dh_t * th * o * (1 - o)
    dW_xh = np.zeros_like(W_xh)
    dW_hh = np.zeros_like(W_hh)
    for row in range(x_t.shape[0]):  # one outer product per example
        dW_xh += np.outer(dz[row], x_t[row])
        dW_hh += np.outer(dz[row], h_prev[row])
    return dz @ W_xh, dz @ W_hh, total * f, dW_xh, dW_hh, np.sum(dz, axis=0)
""",
    "lstm_forward": """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    batch, steps, _ = x.shape
    out = np.zeros((batch, steps, h0.shape[1]))
    h_last, c_last = h0.copy(), c0.copy()
    for n in range(batch):  # one sequence at a time, only over its real steps
        h, c = h0[n:n + 1], c0[n:n + 1]
        for t in range(int(lengths[n])):
            h, c = lstm_step_forward(x[n:n + 1, t], h, c, W_xh, W_hh, b)
            out[n, t] = h[0]
        h_last[n], c_last[n] = h[0], c[0]
    return out, h_last, c_last
""",
    "run_torch_lstm": """
def run_torch_lstm(state_dict, x, lengths):
    names = sorted(k for k in state_dict if k.startswith("weight_hh_l"))
    finals_h, finals_c = [], []
    seq = x
    for layer in range(len(names)):
        w_ih = state_dict["weight_ih_l%d" % layer]
        w_hh = state_dict["weight_hh_l%d" % layer]
        bias = state_dict["bias_hh_l%d" % layer] + state_dict["bias_ih_l%d" % layer]
        start = np.zeros((x.shape[0], w_hh.shape[1]))
        seq, hl, cl = lstm_forward(seq, lengths, start, start.copy(), w_ih, w_hh, bias)
        finals_h.append(hl[None])
        finals_c.append(cl[None])
    return seq, np.concatenate(finals_h), np.concatenate(finals_c)
""",
    "lstm_backward": """
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    steps = x.shape[1]
    states = [(h0, c0)]
    for t in range(steps):  # the forward again, keeping (h_t, c_t) pairs
        states.append(lstm_step_forward(x[:, t], *states[-1], W_xh, W_hh, b))
    grads = {"x": np.zeros(x.shape), "W_xh": 0.0 * W_xh, "W_hh": 0.0 * W_hh, "b": 0.0 * b}
    from_later_h = np.zeros(h0.shape)
    from_later_c = np.zeros(c0.shape)
    t = steps - 1
    while t >= 0:
        h_before, c_before = states[t]
        out = lstm_step_backward(from_later_h + dh[:, t], from_later_c, x[:, t], h_before, c_before, W_xh, W_hh, b)
        grads["x"][:, t] = out[0]
        from_later_h, from_later_c = out[1], out[2]
        for key, g in zip(("W_xh", "W_hh", "b"), out[3:]):
            grads[key] = g + grads[key]  # summed in another order
        t -= 1
    return grads["x"], from_later_h, from_later_c, grads["W_xh"], grads["W_hh"], grads["b"]
""",
}

# One typical mistake per part.
WRONG = {
    "lstm_step_forward": """
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])  # i, f, o, g
    g = np.tanh(a[:, 3 * H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
""",
    "lstm_step_backward": """
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dh_t * o * (1 - tanh_c**2)  # forgets the dc_t from the next step
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh_t * tanh_c * o * (1 - o)], axis=1)
    return da @ W_xh, da @ W_hh, dc * f, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
""",
    "lstm_forward": """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    h, c, states = h0, c0, []
    for t in range(x.shape[1]):  # runs on through the padding
        h, c = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)
        states.append(h)
    out = np.stack(states, axis=1) * (np.arange(x.shape[1])[None, :, None] < lengths[:, None, None])
    return out, h, c
""",
    "run_torch_lstm": """
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    zeros = np.zeros((x.shape[0], state_dict["weight_hh_l0"].shape[1]))
    inputs, hs, cs = x, [], []
    for l in range(layers):
        inputs, h, c = lstm_forward(inputs, lengths, zeros, zeros, state_dict[f"weight_ih_l{l}"],
                                    state_dict[f"weight_hh_l{l}"], state_dict[f"bias_ih_l{l}"])  # one bias only
        hs.append(h)
        cs.append(c)
    return inputs, np.stack(hs), np.stack(cs)
""",
    "lstm_backward": """
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    hs, cs = [h0], [c0]
    for t in range(x.shape[1]):
        h, c = lstm_step_forward(x[:, t], hs[-1], cs[-1], W_xh, W_hh, b)
        hs.append(h)
        cs.append(c)
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        g = lstm_step_backward(dh[:, t] + dh_next, np.zeros_like(c0), x[:, t], hs[t], cs[t], W_xh, W_hh, b)
        dx[:, t], dh_next = g[0], g[1]  # the cell state's gradient is dropped
        dW_xh, dW_hh, db = dW_xh + g[3], dW_hh + g[4], db + g[5]
    return dx, dh_next, np.zeros_like(c0), dW_xh, dW_hh, db
""",
}

# Each part handed to the course's own implementation (or to torch).
CHEAT = {
    "lstm_step_forward": """
from rnncourse.scratch.lstm import lstm_step_forward as course_step
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    return course_step(x_t, h_prev, c_prev, W_xh, W_hh, b)[:2]
""",
    "lstm_step_backward": """
from rnncourse.scratch import lstm as course
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b):
    cache = course.lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b)[2]
    return course.lstm_step_backward(dh_t, dc_t, cache)
""",
    "lstm_forward": """
from rnncourse.scratch.recurrent import RecurrentLayer, State
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    layer = RecurrentLayer("lstm", x.shape[2], h0.shape[1], params={"W_xh": W_xh, "W_hh": W_hh, "b": b})
    h, final, _ = layer.forward(x, State(h0, c0), lengths)
    return h, final.h, final.c
""",
    "run_torch_lstm": """
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    H = state_dict["weight_hh_l0"].shape[1]
    lstm = torch.nn.LSTM(x.shape[2], H, num_layers=layers, batch_first=True).double()
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict.items()})
    packed = pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
    out, (h_n, c_n) = lstm(packed)
    out = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]
    return out.detach().numpy(), h_n.detach().numpy(), c_n.detach().numpy()
""",
    "lstm_backward": """
from rnncourse.scratch.lstm import lstm_backward as course_backward, lstm_forward as course_forward
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    _, _, cache = course_forward(x, h0, c0, W_xh, W_hh, b)
    return course_backward(dh, cache)
""",
}

# More answers per part, each with words its message must contain.
MISTAKES: dict[str, list[tuple[str, str]]] = {
    "lstm_step_forward": [
        (
            """
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f, o = np.tanh(a[:, :H]), np.tanh(a[:, H:2 * H]), np.tanh(a[:, 3 * H:])
    g = sigmoid(a[:, 2 * H:3 * H])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
""",
            "tanh and sigmoid are swapped",
        ),
        (
            """
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_t = f * c_prev + i * g
    return c_t, o * np.tanh(c_t)
""",
            "returns c_t first and h_t second",
        ),
        (
            """
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_t = f * h_prev + i * g
    return o * np.tanh(c_t), c_t
""",
            "c_t is computed from h_prev",
        ),
        (
            """
def lstm_step_forward(x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T
    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
""",
            "the bias b is missing",
        ),
    ],
    "lstm_step_backward": [
        (
            """
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dc_t + dh_t * o * (1 - tanh_c**2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh_t * tanh_c * o * (1 - o)], axis=1)
    return da @ W_xh, da @ W_hh, dc, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
""",
            "the forget gate scales it",
        ),
        (
            """
def lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_xh, W_hh, b):
    H = h_prev.shape[1]
    a = x_t @ W_xh.T + h_prev @ W_hh.T + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dc_t + dh_t * o * (1 - tanh_c**2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh_t * tanh_c * o * (1 - o)], axis=1)
    return da @ W_xh, da @ W_hh, dc * f, da.T @ x_t, da.T @ h_prev, da
""",
            "sum over axis 0",
        ),
    ],
    "lstm_forward": [
        (
            """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    h, c = h0, c0
    out = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    for t in range(x.shape[1]):
        h_new, c_new = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)
        keep = (t < lengths)[:, None]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        out[:, t] = h  # the held state, not 0, at the pads
    return out, h, c
""",
            "not zero",
        ),
        (
            """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    h, c = h0, c0
    out = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    for t in range(x.shape[1]):
        h_new, c_new = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)
        real = (t <= lengths)[:, None]  # one step too many
        h, c = np.where(real, h_new, h), np.where(real, c_new, c)
        out[:, t] = np.where(real, h_new, 0.0)
    return out, h, c
""",
            "one step too many counts as real",
        ),
        (
            """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    h, c = h0, c0
    out = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    for t in range(x.shape[1]):
        h_new, c = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)  # c is never held
        real = (t < lengths)[:, None]
        h = np.where(real, h_new, h)
        out[:, t] = np.where(real, h_new, 0.0)
    return out, h, c
""",
            "the cell state c keeps changing through the padding",
        ),
        (
            """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    h, c = h0, c0
    out = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    for t in range(x.shape[1]):
        h_new, c_new = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)
        real = (t < lengths)[:, None]
        h, c = np.where(real, h_new, 0.0), np.where(real, c_new, 0.0)  # zeroed, not held
        out[:, t] = h
    return out, h, c
""",
            "the states are reset to zero at the padding",
        ),
        (
            """
def lstm_forward(x, lengths, h0, c0, W_xh, W_hh, b):
    T = x.shape[1]
    h, c = h0, c0
    out = np.zeros((x.shape[0], T, h0.shape[1]))
    for t in range(T):
        h_new, c_new = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b)
        real = (t >= T - lengths)[:, None]  # as if the padding came first
        h, c = np.where(real, h_new, h), np.where(real, c_new, c)
        out[:, t] = np.where(real, h_new, 0.0)
    return out, h, c
""",
            "padding at the start",
        ),
    ],
    "run_torch_lstm": [
        (
            """
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    zeros = np.zeros((x.shape[0], state_dict["weight_hh_l0"].shape[1]))
    inputs, hs, cs = x, [], []
    for l in range(layers):
        b = state_dict[f"bias_ih_l{l}"] + state_dict[f"bias_hh_l{l}"]
        inputs, h, c = lstm_forward(inputs, lengths, zeros, zeros, state_dict[f"weight_ih_l{l}"], state_dict[f"weight_hh_l{l}"], b)
        hs.append(h)
        cs.append(c)
    return inputs, np.stack(cs), np.stack(hs)
""",
            "h_n and c_n are swapped",
        ),
        (
            """
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    zeros = np.zeros((x.shape[0], state_dict["weight_hh_l0"].shape[1]))
    inputs, hs, cs = x, [], []
    def ifog(w):
        i, f, g, o = np.split(w, 4)
        return np.concatenate([i, f, o, g])
    for l in range(layers):
        b = ifog(state_dict[f"bias_ih_l{l}"] + state_dict[f"bias_hh_l{l}"])
        inputs, h, c = lstm_forward(inputs, lengths, zeros, zeros, ifog(state_dict[f"weight_ih_l{l}"]), ifog(state_dict[f"weight_hh_l{l}"]), b)
        hs.append(h)
        cs.append(c)
    return inputs, np.stack(hs), np.stack(cs)
""",
            "gate blocks were reordered",
        ),
        (
            """
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    h = c = np.zeros((x.shape[0], state_dict["weight_hh_l0"].shape[1]))
    inputs, hs, cs = x, [], []
    for l in range(layers):
        b = state_dict[f"bias_ih_l{l}"] + state_dict[f"bias_hh_l{l}"]
        inputs, h, c = lstm_forward(inputs, lengths, h, c, state_dict[f"weight_ih_l{l}"], state_dict[f"weight_hh_l{l}"], b)
        hs.append(h)  # and the next layer starts from these states
        cs.append(c)
    return inputs, np.stack(hs), np.stack(cs)
""",
            "starts from the final states of the layer below",
        ),
        (
            """
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    zeros = np.zeros((x.shape[0], state_dict["weight_hh_l0"].shape[1]))
    hs, cs = [], []
    for l in range(layers):
        b = state_dict[f"bias_ih_l{l}"] + state_dict[f"bias_hh_l{l}"]
        out, h, c = lstm_forward(x, lengths, zeros, zeros, state_dict[f"weight_ih_l{l}"], state_dict[f"weight_hh_l{l}"], b)
        hs.append(h)
        cs.append(c)
    return out, np.stack(hs), np.stack(cs)
""",
            "reads the outputs of",
        ),
        (
            """
def run_torch_lstm(state_dict, x, lengths):
    layers = sum(1 for key in state_dict if key.startswith("weight_ih_l"))
    zeros = np.zeros((x.shape[0], state_dict["weight_hh_l0"].shape[1]))
    inputs, hs, cs = x, [], []
    for l in range(layers):
        b = state_dict[f"bias_ih_l{l}"] + state_dict[f"bias_hh_l{l}"]
        inputs, h, c = lstm_forward(inputs, lengths, zeros, zeros, state_dict[f"weight_ih_l{l}"], state_dict[f"weight_hh_l{l}"], b)
        hs.insert(0, h)  # the top layer ends up first
        cs.insert(0, c)
    return inputs, np.stack(hs), np.stack(cs)
""",
            "list the layers top first",
        ),
    ],
    "lstm_backward": [
        (
            """
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    hs, cs = [h0], [c0]
    for t in range(x.shape[1]):
        h, c = lstm_step_forward(x[:, t], hs[-1], cs[-1], W_xh, W_hh, b)
        hs.append(h)
        cs.append(c)
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        g = lstm_step_backward(dh[:, t], dc_next, x[:, t], hs[t], cs[t], W_xh, W_hh, b)  # dh_next left out
        dx[:, t], dh_next, dc_next = g[0], g[1], g[2]
        dW_xh, dW_hh, db = dW_xh + g[3], dW_hh + g[4], db + g[5]
    return dx, dh_next, dc_next, dW_xh, dW_hh, db
""",
            "its dh_prev\\) is not added",
        ),
        (
            """
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    hs, cs = [h0], [c0]
    for t in range(x.shape[1]):
        h, c = lstm_step_forward(x[:, t], hs[-1], cs[-1], W_xh, W_hh, b)
        hs.append(h)
        cs.append(c)
    dx = np.zeros_like(x)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        g = lstm_step_backward(dh[:, t] + dh_next, dc_next, x[:, t], hs[t], cs[t], W_xh, W_hh, b)
        dx[:, t], dh_next, dc_next = g[0], g[1], g[2]
        dW_xh, dW_hh, db = g[3], g[4], g[5]  # overwritten at every step
    return dx, dh_next, dc_next, dW_xh, dW_hh, db
""",
            "their gradients are sums over the steps",
        ),
        (
            """
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    hs, cs = [h0], [c0]
    for t in range(x.shape[1]):
        h, c = lstm_step_forward(x[:, t], hs[-1], cs[-1], W_xh, W_hh, b)
        hs.append(h)
        cs.append(c)
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        g = lstm_step_backward(dh[:, t] + dh_next, dc_next, x[:, t], hs[t + 1], cs[t + 1], W_xh, W_hh, b)
        dx[:, t], dh_next, dc_next = g[0], g[1], g[2]
        dW_xh, dW_hh, db = dW_xh + g[3], dW_hh + g[4], db + g[5]
    return dx, dh_next, dc_next, dW_xh, dW_hh, db
""",
            "it needs the states it started from",
        ),
        (
            """
def lstm_backward(dh, x, h0, c0, W_xh, W_hh, b):
    hs, cs = [h0], [c0]
    for t in range(x.shape[1]):
        h, c = lstm_step_forward(x[:, t], hs[-1], cs[-1], W_xh, W_hh, b)
        hs.append(h)
        cs.append(c)
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(x.shape[1]):  # forwards in time
        g = lstm_step_backward(dh[:, t] + dh_next, dc_next, x[:, t], hs[t], cs[t], W_xh, W_hh, b)
        dx[:, t], dh_next, dc_next = g[0], g[1], g[2]
        dW_xh, dW_hh, db = dW_xh + g[3], dW_hh + g[4], db + g[5]
    return dx, dh_next, dc_next, dW_xh, dW_hh, db
""",
            "from t = T - 1 down to t = 0",
        ),
    ],
}
