"""Answers to exercise 8 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: loops, other names, inverse-CDF
# sampling instead of rng.choice, a ridge-free normal-equations solve, a GRU
# instead of the plain recurrent network.
ALTERNATIVE = {
    "prepare_data": """
def prepare_data(values, window, n_train):
    head = values[:n_train]
    mu = sum(head) / len(head)
    sigma = (sum((v - mu) ** 2 for v in head) / len(head)) ** 0.5
    scaled = [(v - mu) / sigma for v in values]
    def cut(targets):
        X = np.array([scaled[t - window:t] for t in targets], dtype=float).reshape(len(targets), window)
        y = np.array([scaled[t] for t in targets], dtype=float)
        return X, y
    X_tr, y_tr = cut(list(range(window, n_train)))
    X_te, y_te = cut(list(range(n_train, len(values))))
    return X_tr, y_tr, X_te, y_te, float(mu), float(sigma)
""",
    "sample_tokens": """
def sample_tokens(logits, temperature, top_k, num_samples, seed):
    order = np.argsort(-logits, kind="stable")
    kept = order[:top_k]
    z = logits[kept] / temperature
    weights = np.exp(z - np.max(z))
    cdf = np.cumsum(weights / weights.sum())
    u = np.random.default_rng(seed).random(num_samples)
    picks = np.minimum(np.searchsorted(cdf, u, side="right"), top_k - 1)
    return kept[picks].astype(np.int64)
""",
    "fit_early_stopping": """
def fit_early_stopping(w0, X_train, y_train, X_val, y_val, lr, epochs, patience):
    weights = np.array(w0, dtype=float)
    tr, va = [], []
    best = None
    since_best = 0
    epoch = 0
    while epoch < epochs:
        l, g = mse_and_grad(weights, X_train, y_train)
        tr.append(l)
        weights = weights - lr * g
        va.append(mse_and_grad(weights, X_val, y_val)[0])
        if best is None or va[-1] < best[0]:
            best = (va[-1], epoch, np.copy(weights))
            since_best = 0
        else:
            since_best += 1
        epoch += 1
        if since_best == patience:
            break
    return dict(weights=best[2], best_epoch=int(best[1]), train_loss=tr, val_loss=va,
                stopped_early=bool(len(va) != epochs))
""",
    "fit_and_forecast": """
def fit_and_forecast(train_values, test_windows):
    p = 12  # only the last 12 values of each window
    mu, sd = np.mean(train_values), np.std(train_values)
    z = (train_values - mu) / sd
    rows = np.array([z[t - p:t] for t in range(p, len(z))])
    A = np.column_stack([rows, np.ones(len(rows))])
    coef = np.linalg.solve(A.T @ A + 1e-6 * np.eye(p + 1), A.T @ z[p:])
    zt = (test_windows[:, -p:] - mu) / sd
    return np.column_stack([zt, np.ones(len(zt))]) @ coef * sd + mu
""",
    "fit_and_classify": """
def fit_and_classify(train_ids, train_labels, test_ids):
    # A GRU in NumPy: gates z (update) and r (reset), one-hot inputs as rows of X*, plain loops.
    vocab = int(max(train_ids.max(), test_ids.max())) + 1
    hidden = 24
    gen = np.random.default_rng(7)
    names = ["Xz", "Xr", "Xn", "Uz", "Ur", "Un", "bz", "br", "bn", "out", "bias"]
    shapes = [(vocab, hidden)] * 3 + [(hidden, hidden)] * 3 + [(hidden,)] * 3 + [(hidden,), (1,)]
    theta = {n: gen.normal(0, 0.2, s) if len(s) == 2 else np.zeros(s) for n, s in zip(names, shapes)}
    theta["out"] = gen.normal(0, 0.1, hidden)
    first = {n: np.zeros_like(p) for n, p in theta.items()}
    second = {n: np.zeros_like(p) for n, p in theta.items()}
    sig = lambda a: 1 / (1 + np.exp(-a))

    def run(ids):
        h = np.zeros((ids.shape[0], hidden))
        tape = []
        for t in range(ids.shape[1]):
            x = ids[:, t]
            z = sig(theta["Xz"][x] + h @ theta["Uz"] + theta["bz"])
            r = sig(theta["Xr"][x] + h @ theta["Ur"] + theta["br"])
            n = np.tanh(theta["Xn"][x] + (r * h) @ theta["Un"] + theta["bn"])
            h_new = (1 - z) * n + z * h
            tape.append((x, h, z, r, n))
            h = h_new
        return h, tape

    y = train_labels.astype(float)
    updates = 0
    for sweep in range(10):
        perm = gen.permutation(len(y))
        for i in range(0, len(y), 50):
            idx = perm[i:i + 50]
            h, tape = run(train_ids[idx])
            p = sig(h @ theta["out"] + theta["bias"][0])
            g = {n: np.zeros_like(v) for n, v in theta.items()}
            dlogit = (p - y[idx]) / len(idx)
            g["out"] = h.T @ dlogit
            g["bias"][0] = np.sum(dlogit)
            dh = dlogit[:, None] * theta["out"][None, :]
            for x, h_prev, z, r, n in reversed(tape):
                dn = dh * (1 - z) * (1 - n ** 2)
                dz = dh * (h_prev - n) * z * (1 - z)
                drh = dn @ theta["Un"].T
                dr = drh * h_prev * r * (1 - r)
                for name, d in (("z", dz), ("r", dr), ("n", dn)):
                    np.add.at(g["X" + name], x, d)
                    g["b" + name] += d.sum(0)
                g["Uz"] += h_prev.T @ dz
                g["Ur"] += h_prev.T @ dr
                g["Un"] += (r * h_prev).T @ dn
                dh = dh * z + drh * r + dz @ theta["Uz"].T + dr @ theta["Ur"].T
            updates += 1
            for name in theta:
                first[name] = 0.9 * first[name] + 0.1 * g[name]
                second[name] = 0.999 * second[name] + 0.001 * g[name] * g[name]
                step = 0.01 * first[name] / (1 - 0.9 ** updates)
                theta[name] -= step / (np.sqrt(second[name] / (1 - 0.999 ** updates)) + 1e-8)
    h, _ = run(test_ids)
    return np.where(h @ theta["out"] + theta["bias"][0] > 0, 1, 0)
""",
}

# One typical mistake per part.
WRONG = {
    "prepare_data": """
def prepare_data(values, window, n_train):
    mean, std = float(values.mean()), float(values.std())  # fitted on everything
    z = (values - mean) / std
    def windows(first, stop):
        t = np.arange(first, stop)
        return z[t[:, None] + np.arange(-window, 0)], z[t]
    X_train, y_train = windows(window, n_train)
    X_test, y_test = windows(n_train, len(values))
    return X_train, y_train, X_test, y_test, mean, std
""",
    "sample_tokens": """
def sample_tokens(logits, temperature, top_k, num_samples, seed):
    scaled = logits * temperature
    p = np.exp(scaled - scaled.max())
    p = p / p.sum()
    p[np.argsort(p)[::-1][top_k:]] = 0.0
    p = p / p.sum()
    return np.random.default_rng(seed).choice(len(p), size=num_samples, p=p)
""",
    "fit_early_stopping": """
def fit_early_stopping(w0, X_train, y_train, X_val, y_val, lr, epochs, patience):
    w = w0.copy()
    history = {"train_loss": [], "val_loss": []}
    best_loss, best_epoch, waited = np.inf, 0, 0
    for epoch in range(epochs):
        loss, grad = mse_and_grad(w, X_train, y_train)
        history["train_loss"].append(loss)
        w = w - lr * grad
        val_loss, _ = mse_and_grad(w, X_val, y_val)
        history["val_loss"].append(val_loss)
        if val_loss < best_loss:
            best_loss, best_epoch, waited = val_loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                break
    history["best_epoch"] = best_epoch
    history["stopped_early"] = len(history["val_loss"]) < epochs
    history["weights"] = w  # the last weights, as Keras keeps them by default
    return history
""",
    "fit_and_forecast": """
def fit_and_forecast(train_values, test_windows):
    window = test_windows.shape[1]
    mean, std = train_values.mean(), train_values.std()
    z = (train_values - mean) / std
    targets = np.arange(window, len(z))
    X, y = z[targets[:, None] + np.arange(-window, 0)], z[targets]
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.linalg.lstsq(A, y, rcond=None)[0]
    return ((test_windows - mean) / std) @ w[:-1] + w[-1]  # still scaled
""",
    "fit_and_classify": """
def fit_and_classify(train_ids, train_labels, test_ids):
    # A bag of words: logistic regression on token counts, order thrown away.
    V = int(max(train_ids.max(), test_ids.max())) + 1
    def counts(ids):
        bag = np.stack([np.bincount(row, minlength=V) for row in ids]).astype(float)
        bag[:, 0] = 1.0  # the padding column becomes the bias
        return bag
    X, w = counts(train_ids), np.zeros(V)
    for _ in range(500):
        p = 1 / (1 + np.exp(-X @ w))
        w -= 0.5 * X.T @ (p - train_labels) / len(X)
    return (counts(test_ids) @ w > 0).astype(np.int64)
""",
}

# Calls of the course's own implementations: they earn nothing.
CHEAT = {
    "prepare_data": """
from rnncourse.evaluation.forecasting import prepare_windows

def prepare_data(values, window, n_train):
    w = prepare_windows(values, window, n_train)
    return w.X_train, w.y_train, w.X_test, w.y_test, w.scaler.mean, w.scaler.std
""",
    "sample_tokens": """
from rnncourse.nn.sampling import sample_next

def sample_tokens(logits, temperature, top_k, num_samples, seed):
    rng = np.random.default_rng(seed)
    return sample_next(np.tile(logits, (num_samples, 1)), rng, temperature, top_k)
""",
    "fit_early_stopping": """
from rnncourse.evaluation.forecasting import gradient_descent_early_stopping

def fit_early_stopping(w0, X_train, y_train, X_val, y_val, lr, epochs, patience):
    run = gradient_descent_early_stopping(mse_and_grad, w0, (X_train, y_train), (X_val, y_val), lr, epochs, patience)
    return {"train_loss": run.train_loss, "val_loss": run.val_loss, "best_epoch": run.best_epoch,
            "stopped_early": run.stopped_early, "weights": run.weights}
""",
    "fit_and_forecast": """
from rnncourse.evaluation.forecasting import fit_linear_ar, predict_linear_ar, make_windows

def fit_and_forecast(train_values, test_windows):
    mean, std = train_values.mean(), train_values.std()
    z = (train_values - mean) / std
    w = test_windows.shape[1]
    X, y = make_windows(z, w, w, len(z))
    weights = fit_linear_ar(X, y)
    return predict_linear_ar(weights, (test_windows - mean) / std) * std + mean
""",
    "fit_and_classify": """
from rnncourse.scratch.rnn import rnn_backward, rnn_forward

def fit_and_classify(train_ids, train_labels, test_ids):
    V, H = int(max(train_ids.max(), test_ids.max())) + 1, 32
    rng = np.random.default_rng(0)
    W_xh, W_hh, b = rng.normal(0, 0.3, (H, V)), 0.5 * np.eye(H), np.zeros(H)
    w, c = rng.normal(0, 0.1, H), 0.0
    onehot = np.eye(V)
    for epoch in range(15):
        for rows in np.array_split(rng.permutation(len(train_ids)), len(train_ids) // 50):
            x = onehot[train_ids[rows]]
            h, cache = rnn_forward(x, np.zeros((len(rows), H)), W_xh, W_hh, b)
            d = (1 / (1 + np.exp(-(h[:, -1] @ w + c))) - train_labels[rows]) / len(rows)
            dh = np.zeros_like(h)
            dh[:, -1] = np.outer(d, w)
            _, _, dW_xh, dW_hh, db = rnn_backward(dh, cache)
            w, c = w - 0.5 * h[:, -1].T @ d, c - 0.5 * d.sum()
            W_xh, W_hh, b = W_xh - 0.5 * dW_xh, W_hh - 0.5 * dW_hh, b - 0.5 * db
    h, _ = rnn_forward(onehot[test_ids], np.zeros((len(test_ids), H)), W_xh, W_hh, b)
    return (h[:, -1] @ w + c > 0).astype(np.int64)
""",
}
