"""Answers to exercise 3 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: explicit Jacobians, einsum, eigen-
# decompositions of W^T W, SVDs, Gram-Schmidt instead of QR, other names.
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
    if abs(r - 1.0) <= 1e-6:
        return s, r, "neutral"
    if r > 1.0:
        return s, r, "explodes"
    return s, r, ("grows then vanishes" if s > 1.000001 else "vanishes")
""",
    "jacobian_product_norms": """
def jacobian_product_norms(h, W_hh):
    T = h.shape[0]
    jac = (1 - h * h)[:, :, None] * W_hh[None]  # (T, H, H): J_t for t = 1..T
    out = [1.0]
    prod = np.identity(W_hh.shape[0])
    for t in range(T - 1, -1, -1):
        prod = np.einsum("ij,jk->ik", prod, jac[t])
        out.append(np.linalg.svd(prod, compute_uv=False).max())
    return np.asarray(out)
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
    "jacobian_product_norms": """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, P = [1.0], np.eye(H)
    for t in range(T, 0, -1):
        P = ((1 - h[t - 1] ** 2)[:, None] * W_hh) @ P  # the new Jacobian on the left
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)
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
    "jacobian_product_norms": """
from rnncourse.scratch.gradient_flow import step_jacobians
def jacobian_product_norms(h, W_hh):
    J = step_jacobians(h[None], W_hh)[0]
    norms, P = [1.0], np.eye(W_hh.shape[0])
    for t in range(h.shape[0] - 1, -1, -1):
        P = P @ J[t]
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)
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
    if abs(rho - 1) <= 1e-6:
        return sigma, rho, "neutral"
    return sigma, rho, "vanishes" if sigma < 1 else "explodes"
""",
            "necessary for exploding, not sufficient",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    rho = gamma * float(np.max(np.linalg.eigvals(W_hh).real))
    if abs(rho - 1) <= 1e-6:
        return sigma, rho, "neutral"
    return sigma, rho, "explodes" if rho > 1 else ("grows then vanishes" if sigma > 1 else "vanishes")
""",
            "largest modulus",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = float(np.linalg.norm(W_hh, 2))
    rho = float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    if abs(rho - 1) <= 1e-6:
        return sigma, rho, "neutral"
    return sigma, rho, "explodes" if rho > 1 else ("grows then vanishes" if sigma > 1 else "vanishes")
""",
            "gamma is left out",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    rho = gamma * float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    return sigma, rho, "vanishes" if sigma < 1 else ("grows then vanishes" if rho < 1 else "explodes")
""",
            "test the band first",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    rho = gamma * float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    if rho == 1:
        return sigma, rho, "neutral"
    if rho > 1:
        return sigma, rho, "explodes"
    return sigma, rho, "grows then vanishes" if sigma > 1 else "vanishes"
""",
            "1 up to rounding",
        ),
        (
            """
def diagnose(W_hh, gamma):
    sigma = gamma * float(np.linalg.norm(W_hh, 2))
    rho = gamma * float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    if abs(rho - 1) <= 0.2:
        return sigma, rho, "neutral"
    if rho > 1:
        return sigma, rho, "explodes"
    return sigma, rho, "grows then vanishes" if sigma > 1 else "vanishes"
""",
            "clearly away from 1",
        ),
    ],
    "jacobian_product_norms": [
        (
            """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, P = [1.0], np.eye(H)
    for t in range(T, 0, -1):
        P = P @ ((1 - h[t - 1] ** 2)[:, None] * W_hh)
        norms.append(np.linalg.norm(P))
    return np.array(norms)
""",
            "Frobenius",
        ),
        (
            """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, P = [1.0], np.eye(H)
    for t in range(T, 0, -1):
        P = P @ (W_hh * (1 - h[t - 1] ** 2))
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)
""",
            "scale the columns",
        ),
        (
            """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, P = [1.0], np.eye(H)
    for t in range(T, 0, -1):
        P = P @ W_hh
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)
""",
            "tanh derivative is missing",
        ),
        (
            """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, P = [1.0], np.eye(H)
    for t in range(1, T + 1):
        P = ((1 - h[t - 1] ** 2)[:, None] * W_hh) @ P
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)
""",
            "starts at the first step",
        ),
        (
            """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, total = [1.0], 1.0
    for t in range(T, 0, -1):
        total *= np.linalg.norm((1 - h[t - 1] ** 2)[:, None] * W_hh, 2)
        norms.append(total)
    return np.array(norms)
""",
            "product of the steps' norms",
        ),
        (
            """
def jacobian_product_norms(h, W_hh):
    T, H = h.shape
    norms, P = [], np.eye(H)
    for t in range(T, 0, -1):
        P = P @ ((1 - h[t - 1] ** 2)[:, None] * W_hh)
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)
""",
            "entry 0 (no Jacobian: the identity) is 1",
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
        if abs(grad) > max_norm:
            grad = grad * (max_norm / abs(grad))
        w = w - lr * grad
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
            "not a multiple of an orthogonal matrix",
        ),
        (
            """
def recurrent_init(A, scheme, gain):
    if scheme == "orthogonal":
        Q, R = np.linalg.qr(A)
        return Q * np.where(np.diag(R) < 0, -1.0, 1.0)
    if scheme == "identity":
        return gain * np.eye(A.shape[0])
    return A * gain / np.abs(np.linalg.eigvals(A)).max()
""",
            "the gain is missing: return gain * Q",
        ),
    ],
}
