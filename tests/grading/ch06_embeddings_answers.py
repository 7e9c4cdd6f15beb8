"""Answers to exercise 6 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: one-hot products, loops, other names.
ALTERNATIVE = {
    "embedding_forward": """
def embedding_forward(ids, W):
    one_hot = np.eye(W.shape[0])[ids]  # (N, T, V)
    return np.einsum("ntv,ve->nte", one_hot, W)
""",
    "embedding_backward": """
def embedding_backward(dout, ids, V, padding_idx):
    grad = np.zeros((V, dout.shape[2]))
    for n in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            if ids[n, t] != padding_idx:
                grad[ids[n, t]] = grad[ids[n, t]] + dout[n, t]
    return grad
""",
    "noise_distribution": """
def noise_distribution(counts):
    logs = np.where(counts > 0, 0.75 * np.log(np.where(counts > 0, counts, 1.0)), -np.inf)
    p = np.exp(logs - logs.max())
    return p / p.sum()
""",
    "sgns_loss_and_grads": """
def sgns_loss_and_grads(v, u_pos, u_neg):
    N, K, E = u_neg.shape
    total = 0.0
    dv, du_pos, du_neg = np.zeros((N, E)), np.zeros((N, E)), np.zeros((N, K, E))
    for n in range(N):
        s = u_pos[n] @ v[n]
        total += -np.log(sigmoid(s))
        dv[n] += (sigmoid(s) - 1) * u_pos[n] / N
        du_pos[n] = (sigmoid(s) - 1) * v[n] / N
        for k in range(K):
            r = u_neg[n, k] @ v[n]
            total += -np.log(sigmoid(-r))
            dv[n] += sigmoid(r) * u_neg[n, k] / N
            du_neg[n, k] = sigmoid(r) * v[n] / N
    return total / N, dv, du_pos, du_neg
""",
    "hs_log_prob": """
def hs_log_prob(h, U, nodes, signs):
    log_p, dh, dU = 0.0, np.zeros_like(h), np.zeros_like(U)
    for node, sign in zip(nodes, signs):
        x = sign * np.dot(U[node], h)
        log_p += np.log(sigmoid(x))
        dh = dh + sign * (1 - sigmoid(x)) * U[node]
        dU[node] = dU[node] + sign * (1 - sigmoid(x)) * h
    return log_p, dh, dU
""",
    "analogy": """
def analogy(vectors, a, b, c):
    best, best_score = -1, -np.inf
    length = np.sqrt((vectors**2).sum(axis=1))
    target = vectors[b] / length[b] - vectors[a] / length[a] + vectors[c] / length[c]
    for w in range(len(vectors)):
        if w in (a, b, c):
            continue
        score = vectors[w] @ target / length[w]
        if score > best_score:
            best, best_score = w, score
    return best
""",
}

# One common mistake per part.
WRONG = {
    "embedding_forward": """
def embedding_forward(ids, W):
    return W[(ids + 1) % W.shape[0]]  # counts tokens from 1
""",
    "embedding_backward": """
def embedding_backward(dout, ids, V, padding_idx):
    dW = np.zeros((V, dout.shape[-1]))
    dW[ids.reshape(-1)] += dout.reshape(-1, dout.shape[-1])  # repeated ids keep one write
    if padding_idx is not None:
        dW[padding_idx] = 0.0
    return dW
""",
    "noise_distribution": """
def noise_distribution(counts):
    return counts / counts.sum()  # the plain unigram distribution
""",
    "sgns_loss_and_grads": """
def sgns_loss_and_grads(v, u_pos, u_neg):
    N = v.shape[0]
    s_pos = np.sum(u_pos * v, axis=1)
    s_neg = np.einsum("nke,ne->nk", u_neg, v)
    loss = np.mean(np.logaddexp(0, -s_pos) + np.logaddexp(0, s_neg).sum(axis=1))
    g_pos, g_neg = sigmoid(s_pos) - 1.0, sigmoid(s_neg)  # the 1/N of the mean is missing
    dv = g_pos[:, None] * u_pos + np.einsum("nk,nke->ne", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]
""",
    "hs_log_prob": """
def hs_log_prob(h, U, nodes, signs):
    x = signs * (U[nodes] @ h)
    g = sigmoid(x) * signs  # should be 1 - sigmoid(x)
    dU = np.zeros_like(U)
    dU[nodes] = g[:, None] * h
    return np.sum(np.log(sigmoid(x))), g @ U[nodes], dU
""",
    "analogy": """
def analogy(vectors, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return int(np.argmax(unit @ (unit[b] - unit[a] + unit[c])))  # a, b, c not excluded
""",
}

# Each part handed to the course's own implementation.
CHEAT = {
    "embedding_forward": """
from rnncourse.scratch.embedding import embedding_forward as course_lookup
def embedding_forward(ids, W):
    return course_lookup(ids, W)[0]
""",
    "embedding_backward": """
from rnncourse.scratch import embedding as course
def embedding_backward(dout, ids, V, padding_idx):
    W = np.zeros((V, dout.shape[-1]))
    return course.embedding_backward(dout, course.embedding_forward(ids, W, padding_idx)[1])
""",
    "noise_distribution": """
from rnncourse.scratch.word2vec import noise_distribution as course_noise
def noise_distribution(counts):
    return course_noise(counts)
""",
    "sgns_loss_and_grads": """
from rnncourse.scratch.word2vec import sgns_backward, sgns_forward
def sgns_loss_and_grads(v, u_pos, u_neg):
    loss, cache = sgns_forward(v, u_pos, u_neg)
    return loss.mean(), *sgns_backward(np.full(len(v), 1 / len(v)), cache)
""",
    "hs_log_prob": """
from rnncourse.scratch.hierarchical_softmax import Tree, hs_backward, hs_forward
def hs_log_prob(h, U, nodes, signs):
    tree = Tree(np.zeros((len(U) + 1, len(nodes)), dtype=int), np.zeros((len(U) + 1, len(nodes))), np.zeros(len(U) + 1, dtype=int))
    tree.nodes[0], tree.signs[0], tree.depths[0] = nodes, signs, len(nodes)
    log_p, cache = hs_forward(h[None], U, np.array([0]), tree)
    dh, dU = hs_backward(np.ones(1), cache)
    return float(log_p[0]), dh[0], dU
""",
    "analogy": """
from rnncourse.evaluation.vectors import answer_analogies, unit_rows
def analogy(vectors, a, b, c):
    return int(answer_analogies(unit_rows(vectors), np.array([[a, b, c]]))[0])
""",
}

# More answers per part, each with words its message must contain.
MISTAKES: dict[str, list[tuple[str, str]]] = {
    "embedding_backward": [
        (
            """
def embedding_backward(dout, ids, V, padding_idx):
    dW = np.zeros((V, dout.shape[-1]))
    np.add.at(dW, ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW  # the padding row keeps its gradient
""",
            "the padding row got a gradient",
        ),
        (
            """
def embedding_backward(dout, ids, V, padding_idx):
    dW = np.zeros((V, dout.shape[-1]))
    dW[ids.reshape(-1)] = dout.reshape(-1, dout.shape[-1])
    if padding_idx is not None:
        dW[padding_idx] = 0.0
    return dW
""",
            "overwritten instead of added",
        ),
    ],
    "noise_distribution": [
        ("def noise_distribution(counts):\n    return counts**0.75\n", "not normalised"),
        (
            "def noise_distribution(counts):\n    return (counts / counts.sum()) ** 0.75\n",
            "after normalising",
        ),
    ],
    "sgns_loss_and_grads": [
        (
            """
def sgns_loss_and_grads(v, u_pos, u_neg):
    N = v.shape[0]
    s_pos, s_neg = np.sum(u_pos * v, axis=1), np.einsum("nke,ne->nk", u_neg, v)
    loss = np.mean(np.logaddexp(0, -s_pos) + np.logaddexp(0, -s_neg).sum(axis=1))  # sign of the noise term
    g_pos, g_neg = (sigmoid(s_pos) - 1.0) / N, sigmoid(s_neg) / N
    dv = g_pos[:, None] * u_pos + np.einsum("nk,nke->ne", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]
""",
            "log sigma(-u_neg . v)",
        ),
        (
            """
def sgns_loss_and_grads(v, u_pos, u_neg):
    N = v.shape[0]
    s_pos, s_neg = np.sum(u_pos * v, axis=1), np.einsum("nke,ne->nk", u_neg, v)
    loss = np.mean(np.logaddexp(0, -s_pos) + np.logaddexp(0, s_neg).sum(axis=1))
    g_pos, g_neg = sigmoid(s_pos) / N, sigmoid(s_neg) / N  # sigma instead of sigma - 1
    dv = g_pos[:, None] * u_pos + np.einsum("nk,nke->ne", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]
""",
            "sigma(u_pos . v) - 1",
        ),
        (
            """
def sgns_loss_and_grads(v, u_pos, u_neg):
    N = v.shape[0]
    s_pos, s_neg = np.sum(u_pos * v, axis=1), np.einsum("nke,ne->nk", u_neg, v)
    eps = 1e-7  # "to avoid log 0"
    loss = np.mean(-np.log(sigmoid(s_pos) + eps) - np.log(sigmoid(-s_neg) + eps).sum(axis=1))
    g_pos, g_neg = (sigmoid(s_pos) - 1.0) / N, sigmoid(s_neg) / N
    dv = g_pos[:, None] * u_pos + np.einsum("nk,nke->ne", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]
""",
            "float32 arithmetic somewhere, or a formula that loses digits",
        ),
        (
            """
def sgns_loss_and_grads(v, u_pos, u_neg):
    N = v.shape[0]
    v32, p32, n32 = v.astype(np.float32), u_pos.astype(np.float32), u_neg.astype(np.float32)
    s_pos, s_neg = np.sum(p32 * v32, axis=1), np.einsum("nke,ne->nk", n32, v32)
    loss = float(np.mean(np.logaddexp(0, -s_pos) + np.logaddexp(0, s_neg).sum(axis=1)))
    s_pos, s_neg = np.sum(u_pos * v, axis=1), np.einsum("nke,ne->nk", u_neg, v)
    g_pos, g_neg = (sigmoid(s_pos) - 1.0) / N, sigmoid(s_neg) / N
    dv = g_pos[:, None] * u_pos + np.einsum("nk,nke->ne", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]
""",
            "float32 arithmetic somewhere, or a formula that loses digits",
        ),
    ],
    "hs_log_prob": [
        (
            """
def hs_log_prob(h, U, nodes, signs):
    x = U[nodes] @ h  # signs ignored
    g = 1 - sigmoid(x)
    dU = np.zeros_like(U)
    dU[nodes] = g[:, None] * h
    return np.sum(np.log(sigmoid(x))), g @ U[nodes], dU
""",
            "signs are ignored",
        ),
        (
            """
def hs_log_prob(h, U, nodes, signs):
    x = signs * (U[nodes] @ h)
    g = 1 - sigmoid(x)  # the sign is missing from the gradient
    dU = np.zeros_like(U)
    dU[nodes] = g[:, None] * h
    return np.sum(np.log(sigmoid(x))), g @ U[nodes], dU
""",
            "sign s_j is missing",
        ),
        (
            """
def hs_log_prob(h, U, nodes, signs):
    x = signs * (U[nodes] @ h)
    g = (1 - sigmoid(x)) * signs
    dU = np.zeros_like(U)
    dU[nodes] = g[:, None] * h
    return np.prod(sigmoid(x)), g @ U[nodes], dU  # P, not log P
""",
            "not log P(w)",
        ),
    ],
    "analogy": [
        (
            """
def analogy(vectors, a, b, c):
    scores = vectors @ (vectors[b] - vectors[a] + vectors[c])
    scores[[a, b, c]] = -np.inf
    return int(np.argmax(scores))
""",
            "cosine without normalisation",
        ),
        (
            """
def analogy(vectors, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ (unit[a] - unit[b] + unit[c])
    scores[[a, b, c]] = -np.inf
    return int(np.argmax(scores))
""",
            "direction is reversed",
        ),
        (
            """
def analogy(vectors, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ (vectors[b] - vectors[a] + vectors[c])  # the offset of the raw vectors
    scores[[a, b, c]] = -np.inf
    return int(np.argmax(scores))
""",
            "offset b - a + c is built from the raw vectors",
        ),
        ("def analogy(vectors, a, b, c):\n    return 'queen'\n", "returned str"),
    ],
}
