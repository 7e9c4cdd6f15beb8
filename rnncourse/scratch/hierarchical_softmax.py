"""Hierarchical softmax: a word's probability as a path of binary decisions (Morin and Bengio 2005).

Put the V words at the leaves of a binary tree with V - 1 internal nodes,
each holding a vector ``u_n`` (a matrix U of shape (V - 1, E)). To reach word
w from the root, the path turns left or right at each node ``n_1..n_L(w)``;
write ``s_j = +1`` for left and ``-1`` for right. Given a hidden vector h,

    P(w | h) = prod_{j=1}^{L(w)} sigma(s_j u_{n_j} . h)

Why this is a distribution: at every node sigma(x) + sigma(-x) = 1, so the
probability arriving at a node splits into two parts that add back up to it.
By induction from the root (which holds 1), the leaves below any node share
exactly that node's probability, and all V leaves share 1. No normaliser
over V words is ever computed.

Cost: one word's log-probability needs L(w) dot products instead of V. A
balanced tree has L = ceil(log2 V) or one less; a Huffman tree built from
word counts gives frequent words short paths, and its expected depth
sum_w f(w) L(w) lies within one bit of the entropy H(f) of the word
distribution (Huffman 1952). The full distribution over all V words, or its
argmax, still costs O(V) (V - 1 nodes each used by many words): the saving
is for training and scoring a given word, not for generating.

Gradients of log P(w | h), with x_j = s_j u_{n_j} . h and
d log sigma(x) / dx = 1 - sigma(x):

    d/dh       = sum_j (1 - sigma(x_j)) s_j u_{n_j}
    d/du_{n_j} = (1 - sigma(x_j)) s_j h        (added up over every path through n_j)

Shapes: V words, E vector size, N examples, L the longest path.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np

from rnncourse.checks import check_floating, check_shape


class Tree(NamedTuple):
    """The path of every word, padded to the longest.

    Attributes:
        nodes: (V, L) int, ``nodes[w, j]`` the internal node at step j of w's path (0 past its end).
        signs: (V, L) float, +1 (go left), -1 (go right), 0 past the end of the path.
        depths: (V,) int, the length L(w) of each path.
    """

    nodes: np.ndarray
    signs: np.ndarray
    depths: np.ndarray

    @property
    def vocabulary_size(self) -> int:
        return len(self.depths)


def _tree_from_paths(paths: list[list[tuple[int, float]]]) -> Tree:
    V, L = len(paths), max((len(p) for p in paths), default=0)
    nodes = np.zeros((V, L), dtype=np.int64)
    signs = np.zeros((V, L), dtype=np.float64)
    for w, path in enumerate(paths):
        for j, (node, sign) in enumerate(path):
            nodes[w, j], signs[w, j] = node, sign
    return Tree(nodes, signs, np.array([len(p) for p in paths], dtype=np.int64))


def balanced_tree(V: int) -> Tree:
    """Words 0..V-1 split in halves, recursively: every path has floor or ceil of log2 V steps."""
    if V < 1:
        raise ValueError(f"V must be >= 1, got {V}")
    paths: list[list[tuple[int, float]]] = [[] for _ in range(V)]
    next_node = 0
    stack: list[tuple[int, int, list[tuple[int, float]]]] = [
        (0, V, [])
    ]  # (first word, end, path to here): explicit stack, no recursion limit
    while stack:
        lo, hi, path = stack.pop()
        if hi - lo == 1:
            paths[lo] = path
            continue
        node, next_node = next_node, next_node + 1
        mid = (lo + hi + 1) // 2  # the left half gets the extra word
        stack.append((mid, hi, path + [(node, -1.0)]))
        stack.append((lo, mid, path + [(node, 1.0)]))
    return _tree_from_paths(paths)


def huffman_tree(counts: np.ndarray) -> Tree:
    """The Huffman tree of the counts (V,): the two least frequent subtrees are merged first.

    Ties are broken by creation order, so the tree is deterministic.
    """
    counts = np.asarray(counts, dtype=np.float64)
    V = check_shape("counts", counts, {"V": None})[0]
    if V < 1:
        raise ValueError("counts must hold at least one word")
    # Leaves are 0..V-1, internal node i is V + i; parent[x] and side[x] lead upwards.
    heap = [(float(c), w) for w, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.full(2 * V - 1, -1, dtype=np.int64)
    side = np.zeros(2 * V - 1, dtype=np.float64)
    for i in range(V - 1):
        (c_left, left), (c_right, right) = heapq.heappop(heap), heapq.heappop(heap)
        node = V + i
        parent[left], side[left] = node, 1.0
        parent[right], side[right] = node, -1.0
        heapq.heappush(heap, (c_left + c_right, node))
    paths = []
    for w in range(V):
        path, x = [], w
        while parent[x] >= 0:
            path.append((int(parent[x]) - V, float(side[x])))
            x = int(parent[x])
        # Internal nodes are numbered from the leaves up; the root is V - 2. Keep root-first order.
        paths.append(path[::-1])
    return _tree_from_paths(paths)


def expected_depth(tree: Tree, probabilities: np.ndarray) -> float:
    """sum_w p(w) L(w): the mean number of binary decisions per word drawn from p (V,)."""
    return float(np.asarray(probabilities) @ tree.depths)


def entropy_bits(probabilities: np.ndarray) -> float:
    """H(p) = -sum_w p(w) log2 p(w), in bits: no binary code can average fewer decisions."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


class HsCache(NamedTuple):
    """What ``hs_backward`` needs from ``hs_forward``."""

    h: np.ndarray  # (N, E)
    U_shape: tuple[int, int]  # (V - 1, E)
    nodes: np.ndarray  # (N, L) the nodes on each example's path
    signs: np.ndarray  # (N, L) +1, -1, or 0 past the path's end
    u_path: np.ndarray  # (N, L, E) the node vectors along each path
    sig: np.ndarray  # (N, L) sigma(s_j u_{n_j} . h)


def hs_forward(h: np.ndarray, U: np.ndarray, words: np.ndarray, tree: Tree) -> tuple[np.ndarray, HsCache]:
    """log P(words[n] | h[n]) for each example: a sum of log-sigmoids along the word's path.

    Args:
        h: (N, E) hidden vectors.
        U: (V - 1, E) one vector per internal node of ``tree``.
        words: (N,) integer word ids in [0, V).
        tree: from ``balanced_tree`` or ``huffman_tree``.

    Returns:
        log_p: (N,) log-probabilities, and the cache.
    """
    check_floating("h", h)
    N, E = check_shape("h", h, {"N": None, "E": None})
    check_shape("U", U, {"V - 1": tree.vocabulary_size - 1, "E": E})
    words = np.asarray(words)
    check_shape("words", words, {"N": N})
    nodes, signs = tree.nodes[words], tree.signs[words]  # (N, L)
    u_path = U[nodes]  # (N, L, E); padded steps read node 0 but are masked by sign 0
    x = signs * np.einsum("nle,ne->nl", u_path, h)  # (N, L)
    on_path = signs != 0
    log_p = np.where(on_path, -np.logaddexp(0.0, -x), 0.0).sum(axis=1)
    sig = 1.0 / (1.0 + np.exp(-x))
    return log_p, HsCache(h, U.shape, nodes, signs, u_path, sig)


def hs_backward(dlog_p: np.ndarray, cache: HsCache) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of sum(dlog_p * log_p): dh (N, E) and dU (V - 1, E), zero off the paths."""
    h, U_shape, nodes, signs, u_path, sig = cache
    dx = dlog_p[:, None] * (1.0 - sig) * signs  # (N, L): zero past each path's end (sign 0)
    dh = np.einsum("nl,nle->ne", dx, u_path)
    dU = np.zeros(U_shape, dtype=h.dtype)
    # A node lies on many paths: add every contribution (np.add.at), never overwrite.
    np.add.at(dU, nodes.reshape(-1), (dx[:, :, None] * h[:, None, :]).reshape(-1, U_shape[1]))
    return dh, dU


def hs_all_log_probabilities(h: np.ndarray, U: np.ndarray, tree: Tree) -> np.ndarray:
    """log P(w | h) for every word: (N, E) -> (N, V). This costs O(V L), like a full softmax."""
    V = tree.vocabulary_size
    N = h.shape[0]
    words = np.tile(np.arange(V), N)
    log_p, _ = hs_forward(np.repeat(h, V, axis=0), U, words, tree)
    return log_p.reshape(N, V)
