"""Tests of the hierarchical softmax: trees, a distribution that sums to 1, gradients, cost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import check_gradients
from rnncourse.scratch.hierarchical_softmax import (
    balanced_tree,
    entropy_bits,
    expected_depth,
    hs_all_log_probabilities,
    hs_backward,
    hs_forward,
    huffman_tree,
)


def _paths_are_a_prefix_free_code(tree) -> bool:
    codes = [
        tuple(zip(n[:d], s[:d])) for n, s, d in zip(tree.nodes.tolist(), tree.signs.tolist(), tree.depths)
    ]
    return len(set(codes)) == len(codes) and not any(
        a != b and b[: len(a)] == a for a in codes for b in codes
    )


@pytest.mark.parametrize("V", [1, 2, 3, 7, 8, 100])
def test_balanced_tree_depths(V: int) -> None:
    tree = balanced_tree(V)
    assert tree.depths.max(initial=0) == int(np.ceil(np.log2(V)))
    assert tree.depths.min() >= int(np.floor(np.log2(V)))
    assert tree.nodes.max(initial=0) <= max(V - 2, 0)
    assert _paths_are_a_prefix_free_code(tree)


def test_huffman_depths_of_a_known_example() -> None:
    # Counts 1, 1, 2, 4: Huffman merges 1+1, then 2+2, then 4+4: depths 3, 3, 2, 1.
    tree = huffman_tree(np.array([1.0, 1.0, 2.0, 4.0]))
    assert tree.depths.tolist() == [3, 3, 2, 1]
    assert _paths_are_a_prefix_free_code(tree)


def test_huffman_expected_depth_is_within_one_bit_of_the_entropy() -> None:
    V = 5000
    p = 1.0 / np.arange(1, V + 1)  # Zipf's law
    p /= p.sum()
    tree, H = huffman_tree(p), entropy_bits(p)
    depth = expected_depth(tree, p)
    assert H <= depth < H + 1
    assert depth < expected_depth(balanced_tree(V), p) - 1  # frequent words get short paths


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    V=st.integers(1, 40),
    E=st.integers(1, 6),
    N=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    huffman=st.booleans(),
)
def test_probabilities_sum_to_one(V: int, E: int, N: int, seed: int, huffman: bool) -> None:
    rng = np.random.default_rng(seed)
    tree = huffman_tree(rng.integers(1, 100, size=V)) if huffman else balanced_tree(V)
    h, U = rng.normal(size=(N, E)), 2 * rng.normal(size=(max(V - 1, 0), E))
    p = np.exp(hs_all_log_probabilities(h, U, tree))
    assert np.all(p > 0) and np.abs(p.sum(axis=1) - 1).max() < 1e-12


def test_one_word_probability_is_the_product_along_its_path() -> None:
    tree = balanced_tree(4)  # word 2: right at the root (node 0), then left at node 2
    rng = np.random.default_rng(0)
    h, U = rng.normal(size=(1, 3)), rng.normal(size=(3, 3))
    sigma = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    expected = sigma(-U[0] @ h[0]) * sigma(U[2] @ h[0])
    log_p, _ = hs_forward(h, U, np.array([2]), tree)
    assert abs(np.exp(log_p[0]) - expected) < 1e-15


@pytest.mark.parametrize("build", ["balanced", "huffman"])
def test_gradients_match_numerical_with_shared_nodes(build: str) -> None:
    rng = np.random.default_rng(1)
    V, E, N = 9, 4, 7
    tree = balanced_tree(V) if build == "balanced" else huffman_tree(rng.integers(1, 50, size=V))
    h, U = rng.normal(size=(N, E)), rng.normal(size=(V - 1, E))
    words = np.array([0, 0, 3, 8, 5, 3, 1])  # repeated words share every node of their paths
    dlog_p = rng.normal(size=N)
    _, cache = hs_forward(h, U, words, tree)
    dh, dU = hs_backward(dlog_p, cache)
    check_gradients(lambda: hs_forward(h, U, words, tree)[0], {"h": h, "U": U}, {"h": dh, "U": dU}, dlog_p)


def test_wrong_shapes_are_named() -> None:
    tree = balanced_tree(5)
    with pytest.raises(ValueError, match="U"):
        hs_forward(np.zeros((2, 3)), np.zeros((5, 3)), np.array([0, 1]), tree)
    with pytest.raises(ValueError, match="words"):
        hs_forward(np.zeros((2, 3)), np.zeros((4, 3)), np.array([0, 1, 2]), tree)
