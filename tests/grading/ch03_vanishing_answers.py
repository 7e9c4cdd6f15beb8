"""Answers to exercise 3 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: explicit Jacobians, einsum, eigen-
# decompositions of W^T W, Gram-Schmidt instead of QR, other names.
ALTERNATIVE = {
    "gradient_norms": """
def gradient_norms(h, W_hh, dh_last):
    N, T, H = h.shape
    grads = [dh_last]
    for step in reversed(range(T)):
        jac = (1.0 - h[:, step] ** 2)[:, :, None] * W_hh[None]  # (N, H, H): rows index h_{t}
        grads.append(np.einsum("nij,ni->nj", jac, grads[-1]))
    grads = grads[::-1]
    return np.array([np.linalg.norm(g) for g in grads])
""",
    "diagnose": """
def diagnose(W_hh, gamma):
    largest_singular = np.sqrt(np.max(np.linalg.eigvalsh(W_hh.T @ W_hh)))
    radius = max(abs(e) for e in np.linalg.eigvals(W_hh))
    s, r = float(gamma * largest_singular), float(gamma * radius)
    return (s, r, "vanishes" if s < 1 else ("explodes" if r >= 1 else "grows then vanishes"))
""",
    "clip_by_global_norm": """
def clip_by_global_norm(grads, max_norm):
    total = 0.0
    for key in grads:
        total += float((grads[key] ** 2).sum())
    total = total ** 0.5
    out = {}
    for key, value in grads.items():
        out[key] = value * (max_norm / total) if total > max_norm else value.copy()
    return out, total
""",
    "train_with_clipping": """
def train_with_clipping(w0, target, T, lr, max_norm, steps):
    path = np.empty(steps + 1)
    path[0] = w = w0
    for i in range(1, steps + 1):
        g = (w**T - target) * T * w ** (T - 1)
        if abs(g) > max_norm:
            g = max_norm if g > 0 else -max_norm
        w -= lr * g
        path[i] = w
    return path
""",
    "recurrent_init": """
def recurrent_init(A, scheme, gain):
    H = A.shape[0]
    if scheme == "identity":
        return np.diag(np.full(H, float(gain)))
    if scheme == "spectral":
        return gain * A / np.abs(np.linalg.eigvals(A)).max()
    # classical Gram-Schmidt: the diagonal of R comes out positive
    Q = np.zeros((H, H))
    for j in range(H):
        v = A[:, j].copy()
        for i in range(j):
            v -= (Q[:, i] @ A[:, j]) * Q[:, i]
        Q[:, j] = v / np.linalg.norm(v)
    for _ in range(2):  # re-orthogonalise once: Gram-Schmidt loses orthogonality in floating point
        for j in range(H):
            v = Q[:, j].copy()
            for i in range(j):
                v -= (Q[:, i] @ Q[:, j]) * Q[:, i]
            Q[:, j] = v / np.linalg.norm(v)
    return gain * Q
""",
}

# One common mistake per part.
WRONG = {
    "gradient_norms": """
def gradient_norms(h, W_hh, dh_last):
    T = h.shape[1]
    norms = np.zeros(T + 1)
    d = dh_last
    norms[T] = np.linalg.norm(d)
    for t in range(T, 0, -1):
        d = d @ W_hh  # the tanh derivative is forgotten
        norms[t - 1] = np.linalg.norm(d)
    return norms
""",
    "diagnose": """
def diagnose(W_hh, gamma):
    rho = gamma * float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    return sigma, rho, "vanishes" if rho < 1 else "explodes"  # eigenvalues only
""",
    "clip_by_global_norm": """
def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, norm
""",
    "train_with_clipping": """
def train_with_clipping(w0, target, T, lr, max_norm, steps):
    weights = [w0]
    w = w0
    for _ in range(steps):
        _, grad = loss_and_grad(w, target, T)
        step = lr * grad
        step = step * min(1.0, max_norm / abs(step)) if step != 0 else step  # clips the update
        w = w - step
        weights.append(w)
    return np.array(weights)
""",
    "recurrent_init": """
def recurrent_init(A, scheme, gain):
    if scheme == "orthogonal":
        Q, _ = np.linalg.qr(A)
        return gain * Q
    if scheme == "identity":
        return gain * np.eye(A.shape[0])
    return A * gain / np.linalg.norm(A, 2)
""",
}

# Calls the course's own implementation (not available while grading).
CHEAT = {
    "gradient_norms": """
from rnncourse.scratch.gradient_flow import FlowCache, flow_backward
from rnncourse.scratch.gradient_flow import gradient_norms as course_norms
def gradient_norms(h, W_hh, dh_last):
    return course_norms(flow_backward(dh_last, FlowCache(h, W_hh, "tanh")))
""",
    "diagnose": """
from rnncourse.scratch.gradient_flow import diagnose as course_diagnose
def diagnose(W_hh, gamma):
    return course_diagnose(W_hh, gamma)
""",
    "clip_by_global_norm": """
import rnncourse.scratch.optim
def clip_by_global_norm(grads, max_norm):
    return rnncourse.scratch.optim.clip_by_global_norm(grads, max_norm)
""",
    "train_with_clipping": """
from rnncourse.scratch.optim import clip_by_global_norm as course_clip
def train_with_clipping(w0, target, T, lr, max_norm, steps):
    weights = [w0]
    for _ in range(steps):
        _, grad = loss_and_grad(weights[-1], target, T)
        clipped, _ = course_clip({"w": np.array([grad])}, max_norm)
        weights.append(weights[-1] - lr * float(clipped["w"][0]))
    return np.array(weights)
""",
    "recurrent_init": """
import torch
def recurrent_init(A, scheme, gain):
    if scheme == "orthogonal":
        Q, R = torch.linalg.qr(torch.from_numpy(A))
        return (gain * Q * torch.sign(torch.diagonal(R))).numpy()
    from rnncourse.initialisation import from_matrix
    return from_matrix(A, scheme, gain)
""",
}

# More answers per part, each with words its message must contain.
MISTAKES: dict[str, list[tuple[str, str]]] = {
    "gradient_norms": [
        (
            """
def gradient_norms(h, W_hh, dh_last):
    T = h.shape[1]
    norms = np.zeros(T + 1)
    d = dh_last
    norms[T] = np.linalg.norm(d)
    for t in range(T, 0, -1):
        d = (d * (1 - h[:, t - 1] ** 2)) @ W_hh.T
        norms[t - 1] = np.linalg.norm(d)
    return norms
""",
            "W_hh is transposed",
        ),
        (
            """
def gradient_norms(h, W_hh, dh_last):
    T = h.shape[1]
    norms = np.zeros(T + 1)
    d = dh_last
    norms[T] = np.linalg.norm(d)
    for t in range(T, 0, -1):
        d = (d * (1 - h[:, t - 2] ** 2)) @ W_hh
        norms[t - 1] = np.linalg.norm(d)
    return norms
""",
            "off by one",
        ),
        (
            """
def gradient_norms(h, W_hh, dh_last):
    T = h.shape[1]
    norms = np.zeros(T + 1)
    d = dh_last
    norms[0] = np.linalg.norm(d)
    for t in range(T, 0, -1):
        d = (d * (1 - h[:, t - 1] ** 2)) @ W_hh
        norms[T - t + 1] = np.linalg.norm(d)
    return norms
""",
            "reverse order",
        ),
        (
            """
def gradient_norms(h, W_hh, dh_last):
    T = h.shape[1]
    norms = np.zeros(T)
    d = dh_last
    for t in range(T, 0, -1):
        d = (d * (1 - h[:, t - 1] ** 2)) @ W_hh
        norms[t - 1] = np.linalg.norm(d)
    return norms
""",
            "return T + 1",
        ),
        (
            """
def gradient_norms(h, W_hh, dh_last):
    T = h.shape[1]
    norms = np.zeros(T + 1)
    d = dh_last
    norms[T] = np.linalg.norm(d, axis=1).mean()
    for t in range(T, 0, -1):
        d = (d * (1 - h[:, t - 1] ** 2)) @ W_hh
        norms[t - 1] = np.linalg.norm(d, axis=1).mean()
    return norms
""",
            "mean of the per-example norms",
        ),
    ],
    "diagnose": [
        (
            """
def diagnose(W_hh, gamma):
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    rho = gamma * float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    return sigma, rho, "vanishes" if sigma < 1 else "explodes"
""",
            "necessary for exploding, not sufficient",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    rho = gamma * float(np.max(np.linalg.eigvals(W_hh).real))
    return sigma, rho, "vanishes" if sigma < 1 else ("grows then vanishes" if rho < 1 else "explodes")
""",
            "largest modulus",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = float(np.linalg.norm(W_hh, 2))
    rho = float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    return sigma, rho, "vanishes" if sigma < 1 else ("grows then vanishes" if rho < 1 else "explodes")
""",
            "gamma is left out",
        ),
    ],
    "clip_by_global_norm": [
        (
            """
def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return {k: g * max_norm / norm for k, g in grads.items()}, norm
""",
            "always rescaled",
        ),
        (
            """
def clip_by_global_norm(grads, max_norm):
    out = {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}
    return out, float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
""",
            "its own norm",
        ),
        (
            """
def clip_by_global_norm(grads, max_norm):
    norm = float(sum(np.sum(g**2) for g in grads.values()))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}, norm
""",
            "square root",
        ),
    ],
    "train_with_clipping": [
        (
            """
def train_with_clipping(w0, target, T, lr, max_norm, steps):
    weights = [w0]
    w = w0
    for _ in range(steps):
        _, grad = loss_and_grad(w, target, T)
        w = w - lr * grad
        weights.append(w)
    return np.array(weights)
""",
            "diverged",
        ),
        (
            """
def train_with_clipping(w0, target, T, lr, max_norm, steps):
    weights = []
    w = w0
    for _ in range(steps):
        _, grad = loss_and_grad(w, target, T)
        clipped, _ = clip_by_global_norm({"w": np.array(grad)}, max_norm)
        w = w - lr * float(clipped["w"])
        weights.append(w)
    return np.array(weights)
""",
            "steps + 1",
        ),
    ],
    "recurrent_init": [
        (
            """
def recurrent_init(A, scheme, gain):
    Q, R = np.linalg.qr(A)
    if scheme == "orthogonal":
        return gain * Q * np.sign(np.diag(R))
    if scheme == "identity":
        return gain * np.eye(A.shape[0])
    return A * gain / np.max(np.linalg.eigvals(A).real)
""",
            "complex in general",
        ),
        (
            """
def recurrent_init(A, scheme, gain):
    Q, R = np.linalg.qr(A)
    if scheme == "orthogonal":
        return gain * np.sign(np.diag(R))[:, None] * Q
    if scheme == "identity":
        return gain * np.eye(A.shape[0])
    return A * gain / np.abs(np.linalg.eigvals(A)).max()
""",
            "columns",
        ),
        (
            """
def recurrent_init(A, scheme, gain):
    if scheme == "orthogonal":
        return gain * A / np.linalg.norm(A, 2)
    if scheme == "identity":
        return gain * np.eye(A.shape[0])
    return A * gain / np.abs(np.linalg.eigvals(A)).max()
""",
            "not orthogonal",
        ),
    ],
}
