"""Checks for exercise 6, embeddings: lookup and its scatter-add, noise, negative sampling, tree, analogies.

``PARTS`` lists the six parts (``parts.Part``), as in chapter 1: each names
the nbgrader test cell it scores, the learner's function, its deterministic
float64 visible cases, how to draw its hidden cases (their values from the
instructor's secret at grading time) and ``verify``, which runs on what the
function returned (in the learner's kernel for the visible checks, outside the
sandbox when grading). Messages about a hidden case never show its inputs.

Every backward is checked against a **numerical gradient** (central
differences of the course's forward, ``rnncourse.gradcheck``) to
``GRADIENT_TOLERANCE``; losses and log-probabilities (sums of logs of
sigmoids) to ``LOG_TOLERANCE``; every other value against the course's
reference to ``core.TOLERANCE``: the three the notebook states. A known mistake is named only when it, and
no correct answer, explains the result (``core.named_mistakes``).

Shapes: N rows of a batch, T positions, V vocabulary, E vector size, K
negatives, L the length of a path in the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnncourse.evaluation.vectors import answer_analogies, unit_rows
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.grading import core, parts
from rnncourse.scratch.activations import sigmoid
from rnncourse.scratch.embedding import embedding_backward as reference_embedding_backward
from rnncourse.scratch.embedding import embedding_forward as reference_embedding_forward
from rnncourse.scratch.hierarchical_softmax import Tree, balanced_tree, huffman_tree
from rnncourse.scratch.word2vec import noise_distribution as reference_noise
from rnncourse.scratch.word2vec import sgns_backward, sgns_forward

#: A gradient is accepted within this relative error of the numerical one:
#: central differences of these float64 functions are exact to ~1e-9, the
#: mildest named mistake is off by 1e-2 or more (``rnncourse.gradcheck``).
GRADIENT_TOLERANCE = 1e-6

#: A loss or a log-probability is accepted within this relative error, as the
#: notebook states: it is a sum of logs of sigmoids, and a log of a sigmoid
#: computed in float64 but in a form that loses digits (through tanh, or
#: 1 - sigmoid) is off by 1e-9 already at scores of 20; a named mistake, by 1e-3.
LOG_TOLERANCE = 1e-8


def _tuple_of(name: str, result: object, count: int, what: str) -> tuple[Any, ...]:
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = f"{len(result)} items" if isinstance(result, (tuple, list)) else core.type_name(result)
        raise core.GradingFailure(f"{name} returned {got}; return {count} values: {what}.")
    return tuple(result)


def _scalar(name: str, value: object, what: str) -> float:
    if isinstance(value, np.ndarray) and value.size == 1:
        value = float(value.reshape(-1)[0])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(value)} for {what}; return one number (a float)."
        )
    if not np.isfinite(value):
        raise core.GradingFailure(f"{name} returned NaN or infinity for {what}.")
    return float(value)


def compare_gradient(
    result: np.ndarray,
    numeric: np.ndarray,
    name: str,
    what: str,
    mistakes: Mapping[str, np.ndarray],
) -> None:
    """Fail unless ``result`` is the numerical gradient to ``GRADIENT_TOLERANCE``; name a mistake if one fits."""
    error = rel_error(result, numeric)
    if error < GRADIENT_TOLERANCE:
        return
    # A named mistake is an analytic formula: compare it with the exact (analytic) gradient's scale.
    named = [
        description
        for description, wrong in mistakes.items()
        if wrong.shape == result.shape
        and rel_error(wrong, numeric) > 1e-4
        and rel_error(result, wrong) < core.TOLERANCE
    ]
    if named:
        raise core.GradingFailure(f"{name}: {what} is wrong. Likely mistake: {'; or '.join(named)}.")
    raise core.GradingFailure(
        f"{name}: {what} disagrees with the numerical gradient (central differences) by a relative "
        f"error of {error:.1e} (tolerance {GRADIENT_TOLERANCE:.0e}). Derive it term by term from the loss."
    )


# -- Part 1: embedding lookup --------------------------------------------------------

_VISIBLE_LOOKUP = {"N=2, T=3, V=5, E=4": (2, 3, 5, 4)}
_HIDDEN_LOOKUP = {
    "one sequence of one token": (1, 1, 3, 2),
    "many repeats: V=2, T=9": (3, 9, 2, 5),
    "E=1": (4, 2, 6, 1),
    "padded batch (id 0 at the ends)": (3, 6, 7, 3),
}


def _ids(seed: int, N: int, T: int, V: int, padded: bool) -> np.ndarray:
    ids = np.random.default_rng(seed).integers(0, V, size=(N, T))
    if padded:
        for n in range(N):
            ids[n, T - n - 1 :] = 0  # row n ends with n + 1 pads
    return ids.astype(np.int64)


def _lookup_args(seed: int, name: str, N: int, T: int, V: int, E: int) -> tuple[Any, ...]:
    return _ids(seed, N, T, V, "padded" in name), core.float64_inputs(seed, W=(V, E))["W"]


def _visible_lookup() -> list[parts.Case]:
    return [
        parts.Case(name, _lookup_args(600 + i, name, *spec))
        for i, (name, spec) in enumerate(_VISIBLE_LOOKUP.items())
    ]


@parts.verifier
def _verify_lookup(case: parts.Case, result: object) -> None:
    name = "embedding_forward"
    parts.raise_if_error(name, result, case)
    ids, W = case.args
    (N, T), E = ids.shape, W.shape[1]
    if isinstance(result, np.ndarray) and result.shape == (T, N, E) and T != N:
        raise core.GradingFailure(
            f"{name} returned shape (T, N, E); look up W[ids] so that it keeps the shape of ids."
        )
    result = core.check_array(result, name, (N, T, E), "the embedded tokens (N, T, E)")
    expected = reference_embedding_forward(ids, W)[0]
    mistakes = {}
    if W.shape[0] > 1:
        mistakes["ids are off by one: row v of W embeds token v, counting from 0"] = W[(ids + 1) % W.shape[0]]
    core.compare(result, expected, name, mistakes)


EMBEDDING_FORWARD = parts.Part(
    grade_id="test_embedding_forward",
    function="embedding_forward",
    title="Part 1: the embedding lookup",
    points=1,
    visible=_visible_lookup,
    hidden={name: parts.drawn(_lookup_args, name, *spec) for name, spec in _HIDDEN_LOOKUP.items()},
    verify=_verify_lookup,
    parameters=("ids", "W"),
)


def embedding_forward(embedding_forward_fn: Callable[..., np.ndarray]) -> None:
    """``embedding_forward(ids, W)``: ids (N, T) ints, W (V, E) -> (N, T, E)."""
    parts.run_part_in_process(EMBEDDING_FORWARD, embedding_forward_fn)


# -- Part 2: embedding backward ------------------------------------------------------

_VISIBLE_SCATTER = {"repeated ids, no padding": (3, 4, 4, 3, None), "padding id 0": (2, 5, 6, 2, 0)}
_HIDDEN_SCATTER = {
    "one token": (1, 1, 3, 2, None),
    "V=1: every id repeated": (2, 3, 1, 4, None),
    "padded batch, padding id 0": (4, 5, 6, 3, 0),
    "padding id V-1, never used": (2, 3, 5, 2, 4),
    "long batch, many repeats": (5, 12, 4, 3, None),
}


def _scatter_args(seed: int, N: int, T: int, V: int, E: int, pad: int | None) -> tuple[Any, ...]:
    return core.float64_inputs(seed, dout=(N, T, E))["dout"], _ids(seed, N, T, V, pad == 0), V, pad


def _visible_scatter() -> list[parts.Case]:
    return [
        parts.Case(name, _scatter_args(620 + i, *spec))
        for i, (name, spec) in enumerate(_VISIBLE_SCATTER.items())
    ]


@parts.verifier
def _verify_scatter(case: parts.Case, result: object) -> None:
    name = "embedding_backward"
    parts.raise_if_error(name, result, case)
    dout, ids, V, pad = case.args
    E = dout.shape[-1]
    result = core.check_array(result, name, (V, E), "the gradient dW (V, E)")
    W = core.float64_inputs(1, W=(V, E))["W"]  # values do not matter: the lookup is linear in W
    numeric = numerical_gradient(lambda: W[ids], W, dout)
    if pad is not None:
        numeric[pad] = 0.0  # padding_idx: that row is never trained
    flat_ids, flat_dout = ids.reshape(-1), dout.reshape(-1, E)
    overwritten = np.zeros((V, E))
    overwritten[flat_ids] = flat_dout  # the last write wins, as with dW[ids] += dout
    mistakes = {
        "repeated ids are overwritten instead of added: `dW[ids] += dout` keeps one write per "
        "repeated id; use np.add.at(dW, ids, dout) or a loop with +=": np.where(
            (numeric != 0) | (pad is None), overwritten, 0.0
        ),
        "repeated ids overwritten, and the padding row": overwritten,
    }
    reference = reference_embedding_backward(dout, reference_embedding_forward(ids, W)[1])
    if pad is not None:
        mistakes["the padding row got a gradient: set dW[padding_idx] = 0, it is never trained"] = reference
        mistakes.pop("repeated ids overwritten, and the padding row")
        mistakes["repeated ids are overwritten instead of added, and the padding row got a gradient"] = (
            overwritten
        )
    else:
        mistakes.pop("repeated ids overwritten, and the padding row")
    compare_gradient(result, numeric, name, "dW", mistakes)


EMBEDDING_BACKWARD = parts.Part(
    grade_id="test_embedding_backward",
    function="embedding_backward",
    title="Part 2: the embedding's sparse gradient",
    points=2,
    visible=_visible_scatter,
    hidden={name: parts.drawn(_scatter_args, *spec) for name, spec in _HIDDEN_SCATTER.items()},
    verify=_verify_scatter,
    parameters=("dout", "ids", "V", "padding_idx"),
)


def embedding_backward(embedding_backward_fn: Callable[..., np.ndarray]) -> None:
    """``embedding_backward(dout, ids, V, padding_idx)`` -> dW (V, E), repeated ids added up."""
    parts.run_part_in_process(EMBEDDING_BACKWARD, embedding_backward_fn)


# -- Part 3: the noise distribution --------------------------------------------------

_VISIBLE_NOISE = {"five words": [120.0, 40.0, 16.0, 5.0, 1.0]}


def _visible_noise() -> list[parts.Case]:
    return [parts.Case(n, (np.array(c),)) for n, c in _VISIBLE_NOISE.items()]


def _counts_with_a_zero(rng: np.random.Generator) -> tuple[np.ndarray]:
    counts = rng.integers(1, 100, size=int(rng.integers(3, 7))).astype(np.float64)
    counts[rng.integers(len(counts))] = 0.0
    return (counts,)


def _zipf_counts(rng: np.random.Generator) -> tuple[np.ndarray]:
    top = rng.uniform(500.0, 2000.0)
    return (rng.permutation(np.round(top / np.arange(1, 51))),)


_HIDDEN_NOISE: dict[str, parts.Draw] = {
    "one word": lambda rng: (np.array([float(rng.integers(1, 100))]),),
    "a word never seen (count 0)": _counts_with_a_zero,
    "Zipf counts of 50 words": _zipf_counts,
    "equal counts": lambda rng: (np.full(int(rng.integers(2, 6)), float(rng.integers(1, 50))),),
}


@parts.verifier
def _verify_noise(case: parts.Case, result: object) -> None:
    name = "noise_distribution"
    parts.raise_if_error(name, result, case)
    (counts,) = case.args
    result = core.check_array(result, name, counts.shape, "the probabilities (V,)")
    mistakes = {
        "the counts are not raised to the power 0.75: P_n(w) is f(w)^0.75, renormalised": counts
        / counts.sum(),
        "the result is not normalised: divide by the sum of counts^0.75": counts**0.75,
        "the power is applied after normalising, and the result not renormalised": (counts / counts.sum())
        ** 0.75,
        "the power is 1/0.75 instead of 0.75": counts ** (4 / 3) / np.sum(counts ** (4 / 3)),
    }
    core.compare(result, reference_noise(counts), name, mistakes)


NOISE_DISTRIBUTION = parts.Part(
    grade_id="test_noise_distribution",
    function="noise_distribution",
    title="Part 3: the noise distribution",
    points=1,
    visible=_visible_noise,
    hidden=_HIDDEN_NOISE,
    verify=_verify_noise,
    parameters=("counts",),
)


def noise_distribution(noise_distribution_fn: Callable[..., np.ndarray]) -> None:
    """``noise_distribution(counts)`` -> (V,) probabilities proportional to counts^0.75."""
    parts.run_part_in_process(NOISE_DISTRIBUTION, noise_distribution_fn)


# -- Part 4: skip-gram negative-sampling loss and gradients --------------------------

_VISIBLE_SGNS = {"N=3, K=2, E=4": (3, 2, 4)}
_HIDDEN_SGNS = {
    "one pair, one negative, E=1": (1, 1, 1),
    "N=5, K=5, E=3": (5, 5, 3),
    "one pair, K=4, E=6": (1, 4, 6),
    "large scores": (4, 3, 8),
}


def _sgns_args(seed: int, name: str, N: int, K: int, E: int) -> tuple[Any, ...]:
    p = core.float64_inputs(seed, v=(N, E), u_pos=(N, E), u_neg=(N, K, E))
    scale = 4.0 if "large" in name else 1.5  # scores well away from 0, where sigma is not 1/2
    return scale * p["v"], scale * p["u_pos"], scale * p["u_neg"]


def _visible_sgns() -> list[parts.Case]:
    return [
        parts.Case(name, _sgns_args(640 + i, name, *spec))
        for i, (name, spec) in enumerate(_VISIBLE_SGNS.items())
    ]


def _mean_sgns_loss(v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray) -> np.ndarray:
    return np.array(sgns_forward(v, u_pos, u_neg)[0].mean())


@parts.verifier
def _verify_sgns(case: parts.Case, result: object) -> None:
    name = "sgns_loss_and_grads"
    parts.raise_if_error(name, result, case)
    v, u_pos, u_neg = (a.copy() for a in case.args)
    N, K, E = u_neg.shape
    loss, dv, du_pos, du_neg = _tuple_of(name, result, 4, "loss, dv, du_pos, du_neg")
    loss = _scalar(name, loss, "the loss")
    expected, cache = sgns_forward(v, u_pos, u_neg)
    s_pos, s_neg = np.sum(u_pos * v, axis=1), np.einsum("nke,ne->nk", u_neg, v)
    loss_mistakes = {
        "the loss is summed over the batch: take the mean over the N pairs": float(expected.sum()),
        "the negative term uses log sigma(+u_neg . v): the noise words need log sigma(-u_neg . v)": float(
            np.mean(np.logaddexp(0.0, -s_pos) + np.logaddexp(0.0, -s_neg).sum(axis=1))
        ),
        "the negatives' terms are averaged over K instead of summed": float(
            np.mean(np.logaddexp(0.0, -s_pos) + np.logaddexp(0.0, s_neg).mean(axis=1))
        ),
    }
    loss_mistakes_arrays = {what: np.array(wrong) for what, wrong in loss_mistakes.items()}
    core.compare(
        np.array(loss), np.array(expected.mean()), f"{name} (the loss)", loss_mistakes_arrays, LOG_TOLERANCE
    )
    # Analytic variants for naming mistakes; acceptance is by the numerical gradient.
    g = sgns_backward(np.full(N, 1.0 / N), cache)
    summed = sgns_backward(np.ones(N), cache)
    sig_pos, sig_neg = sigmoid(s_pos)[:, None], sigmoid(s_neg)
    wrong_pos_sign = (sig_pos / N) * u_pos + np.einsum("nk,nke->ne", sig_neg / N, u_neg)
    grads = {"dv": (dv, (N, E), v), "du_pos": (du_pos, (N, E), u_pos), "du_neg": (du_neg, (N, K, E), u_neg)}
    mistakes: dict[str, dict[str, np.ndarray]] = {
        "dv": {
            "the gradient is of the summed loss: divide by N, the loss is a mean": summed[0],
            "the true word's factor is sigma(u_pos . v); it is sigma(u_pos . v) - 1": wrong_pos_sign,
            "the noise words' part of dv is missing": g[0] - np.einsum("nk,nke->ne", sig_neg / N, u_neg),
        },
        "du_pos": {
            "the gradient is of the summed loss: divide by N, the loss is a mean": summed[1],
            "the true word's factor is sigma(u_pos . v); it is sigma(u_pos . v) - 1": (sig_pos / N) * v,
        },
        "du_neg": {
            "the gradient is of the summed loss: divide by N, the loss is a mean": summed[2],
            "the noise words' factor is sigma(u_neg . v) - 1; for a noise word it is sigma(u_neg . v)": (
                (sig_neg - 1.0) / N
            )[:, :, None]
            * v[:, None, :],
        },
    }
    for key, (value, shape, _) in grads.items():
        core.check_array(value, name, shape, key)
    inputs = {"dv": v, "du_pos": u_pos, "du_neg": u_neg}
    for key, (value, _, _) in grads.items():
        numeric = numerical_gradient(lambda: _mean_sgns_loss(v, u_pos, u_neg), inputs[key], np.array(1.0))
        compare_gradient(value, numeric, name, key, mistakes[key])


SGNS_LOSS_AND_GRADS = parts.Part(
    grade_id="test_sgns_loss_and_grads",
    function="sgns_loss_and_grads",
    title="Part 4: the negative-sampling loss and its gradients",
    points=3,
    visible=_visible_sgns,
    hidden={name: parts.drawn(_sgns_args, name, *spec) for name, spec in _HIDDEN_SGNS.items()},
    verify=_verify_sgns,
    parameters=("v", "u_pos", "u_neg"),
)


def sgns_loss_and_grads(sgns_fn: Callable[..., tuple[Any, ...]]) -> None:
    """``sgns_loss_and_grads(v, u_pos, u_neg)`` -> (mean loss, dv (N, E), du_pos (N, E), du_neg (N, K, E))."""
    parts.run_part_in_process(SGNS_LOSS_AND_GRADS, sgns_fn)


# -- Part 5: one word's hierarchical-softmax log-probability -------------------------


def _path(tree: Tree, word: int) -> tuple[np.ndarray, np.ndarray]:
    depth = int(tree.depths[word])
    return tree.nodes[word, :depth].copy(), tree.signs[word, :depth].copy()


_VISIBLE_TREE = {"balanced tree of 6 words, word 4": ("balanced", 6, 4, 4)}
_HIDDEN_TREE = {
    "Huffman tree, frequent word (path of 1)": ("huffman", 5, 0, 3),
    "Huffman tree, rare word (long path)": ("huffman", 9, 8, 2),
    "balanced tree of 2 words, E=1": ("balanced", 2, 1, 1),
    "balanced tree of 16 words, word 0": ("balanced", 16, 0, 5),
}


def _tree_for(kind: str, V: int) -> Tree:
    if kind == "balanced":
        return balanced_tree(V)
    return huffman_tree(np.array([2.0**-i for i in range(V)]) if V < 6 else 1.0 / np.arange(1, V + 1))


def _tree_args(seed: int, kind: str, V: int, word: int, E: int) -> tuple[Any, ...]:
    nodes, signs = _path(_tree_for(kind, V), word)
    p = core.float64_inputs(seed, h=(E,), U=(V - 1, E))
    return 1.5 * p["h"], 1.5 * p["U"], nodes, signs


def _visible_tree() -> list[parts.Case]:
    return [
        parts.Case(name, _tree_args(660 + i, *spec)) for i, (name, spec) in enumerate(_VISIBLE_TREE.items())
    ]


def _path_log_p(h: np.ndarray, U: np.ndarray, nodes: np.ndarray, signs: np.ndarray) -> np.ndarray:
    x = signs * (U[nodes] @ h)
    return np.array(-np.logaddexp(0.0, -x).sum())


@parts.verifier
def _verify_tree(case: parts.Case, result: object) -> None:
    name = "hs_log_prob"
    parts.raise_if_error(name, result, case)
    h, U, nodes, signs = (a.copy() for a in case.args)
    log_p, dh, dU = _tuple_of(name, result, 3, "log_p, dh, dU")
    log_p = _scalar(name, log_p, "log_p")
    x = signs * (U[nodes] @ h)
    expected = _path_log_p(h, U, nodes, signs)
    unsigned = U[nodes] @ h
    core.compare(
        np.array(log_p),
        np.array(expected),
        f"{name} (log_p)",
        {
            "this is P(w), not log P(w): return the log-probability": np.exp(expected),
            "the signs are ignored: at a right turn (sign -1) the factor is sigma(-u . h)": np.array(
                -np.logaddexp(0.0, -unsigned).sum()
            ),
            "this is sum of sigma(s u . h); log P(w) is the sum of log sigma(s u . h)": np.array(
                sigmoid(x).sum()
            ),
        },
        LOG_TOLERANCE,
    )
    (E,) = h.shape
    dh = core.check_array(dh, name, (E,), "dh")
    dU = core.check_array(dU, name, U.shape, "dU")
    sig = sigmoid(x)
    with_sigma = np.zeros_like(U)
    with_sigma[nodes] = (sig * signs)[:, None] * h
    without_sign = np.zeros_like(U)
    without_sign[nodes] = (1.0 - sig)[:, None] * h
    numeric_h = numerical_gradient(lambda: _path_log_p(h, U, nodes, signs), h, np.array(1.0))
    numeric_U = numerical_gradient(lambda: _path_log_p(h, U, nodes, signs), U, np.array(1.0))
    compare_gradient(
        dh,
        numeric_h,
        name,
        "dh",
        {
            "the factor is sigma(x); d log sigma(x)/dx = 1 - sigma(x)": (sig * signs) @ U[nodes],
            "the sign s_j is missing from the gradient": (1.0 - sig) @ U[nodes],
            "the gradient has the wrong sign (this is of -log P)": -numeric_h,
        },
    )
    compare_gradient(
        dU,
        numeric_U,
        name,
        "dU",
        {
            "the factor is sigma(x); d log sigma(x)/dx = 1 - sigma(x)": with_sigma,
            "the sign s_j is missing from the gradient": without_sign,
            "the gradient has the wrong sign (this is of -log P)": -numeric_U,
        },
    )


HS_LOG_PROB = parts.Part(
    grade_id="test_hs_log_prob",
    function="hs_log_prob",
    title="Part 5: one word's probability in a hierarchical softmax",
    points=3,
    visible=_visible_tree,
    hidden={name: parts.drawn(_tree_args, *spec) for name, spec in _HIDDEN_TREE.items()},
    verify=_verify_tree,
    parameters=("h", "U", "nodes", "signs"),
)


def hs_log_prob(hs_fn: Callable[..., tuple[Any, ...]]) -> None:
    """``hs_log_prob(h, U, nodes, signs)`` -> (log P(w | h), dh (E,), dU (V - 1, E))."""
    parts.run_part_in_process(HS_LOG_PROB, hs_fn)


# -- Part 6: analogies, with the query words excluded --------------------------------


def analogy_set(seed: int, V: int, E: int) -> tuple[np.ndarray, int, int, int, int]:
    """Vectors (V, E) and a question a : b :: c : ? whose answer is row 3, built so that the mistakes show.

    Rows 0, 1, 2 are a, b, c. Row 3 points at b - a + c (unit vectors) at a
    cosine of 0.55: less than b or c would score, so an answer that does not
    exclude them is wrong. Row 4 is long (norm 12) at a cosine of 0.35 to
    the target: a dot product without normalising picks it. The other rows
    are short, random, and far from the target.
    """
    rng = np.random.default_rng(seed)
    base = np.linalg.qr(rng.normal(size=(E, E)))[0].T  # orthonormal rows
    a, b, c = base[0] * 1.7, base[1] * 0.6, base[2] * 1.2
    target = base[1] - base[0] + base[2]
    target /= np.linalg.norm(target)
    d = 0.55 * target + np.sqrt(1 - 0.55**2) * base[3]
    long_word = 12.0 * (0.35 * target + np.sqrt(1 - 0.35**2) * base[4])
    others = [0.5 * (0.1 * target + base[5 + (i % (E - 5))] * (1 if i % 2 else -1)) for i in range(V - 5)]
    return np.vstack([a, b, c, 0.9 * d, long_word, *others]), 0, 1, 2, 3


def raw_offset_set(seed: int, V: int, E: int) -> tuple[np.ndarray, int, int, int, int]:
    """Vectors (V, E) whose answer (row 3) an offset of *raw* vectors misses.

    a, b and c have very different lengths (about 2.5, 0.45 and 1), so the
    raw b - a + c points elsewhere than the unit one. Row 3 lies at a cosine
    of 0.95 to the unit offset; row 4 lies along the raw offset, at a lower
    cosine to the unit one: scoring against the raw offset picks it. The
    other rows are short, random and far from both.
    """
    rng = np.random.default_rng(seed)
    base = np.linalg.qr(rng.normal(size=(E, E)))[0].T
    a, b, c = (
        base[0] * rng.uniform(2.0, 3.0),
        base[1] * rng.uniform(0.3, 0.6),
        base[2] * rng.uniform(0.8, 1.2),
    )
    unit_offset = (base[1] - base[0] + base[2]) / np.sqrt(3.0)
    raw_offset = (b - a + c) / np.linalg.norm(b - a + c)
    d = 0.95 * unit_offset + np.sqrt(1 - 0.95**2) * base[3]
    others = [0.4 * base[4 + (i % (E - 4))] * (1 if i % 2 else -1) for i in range(V - 5)]
    return np.vstack([a, b, c, 0.9 * d, 0.8 * raw_offset, *others]), 0, 1, 2, 3


_VISIBLE_ANALOGY = {"8 words, E=8": (670, 8, 8)}
_HIDDEN_ANALOGY = {"6 words, E=6": (6, 6), "20 words, E=10": (20, 10), "12 words, E=7": (12, 7)}
_HIDDEN_RAW_OFFSET = {"words of very different lengths": (10, 8)}


def _analogy_args(
    seed: int, V: int, E: int, build: Callable[..., tuple[np.ndarray, int, int, int, int]] = analogy_set
) -> tuple[Any, ...]:
    vectors, a, b, c, _ = build(seed, V, E)
    order = np.random.default_rng(seed).permutation(V)  # the answer is not always row 3
    where = np.argsort(order)
    return vectors[order], int(where[a]), int(where[b]), int(where[c])


def _raw_offset_args(seed: int, V: int, E: int) -> tuple[Any, ...]:
    return _analogy_args(seed, V, E, raw_offset_set)


def _visible_analogy() -> list[parts.Case]:
    return [parts.Case(name, _analogy_args(*spec)) for name, spec in _VISIBLE_ANALOGY.items()]


@parts.verifier
def _verify_analogy(case: parts.Case, result: object) -> None:
    name = "analogy"
    parts.raise_if_error(name, result, case)
    vectors, a, b, c = case.args
    if isinstance(result, np.ndarray) and result.size == 1 and np.issubdtype(result.dtype, np.integer):
        result = int(result.reshape(-1)[0])
    if isinstance(result, bool) or not isinstance(result, int):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return the row index of the answer, an int."
        )
    ask = np.array([[a, b, c]])
    expected = int(answer_analogies(unit_rows(vectors), ask)[0])
    if result == expected:
        return
    raw = vectors @ (vectors[b] - vectors[a] + vectors[c])
    raw_excluded = raw.copy()
    raw_excluded[[a, b, c]] = -np.inf
    raw_offset = unit_rows(vectors) @ (vectors[b] - vectors[a] + vectors[c])
    raw_offset[[a, b, c]] = -np.inf
    wrong = {
        "the query words are not excluded: b - a + c is closest to b or c themselves; give a, b "
        "and c the score -inf before the argmax": int(
            answer_analogies(unit_rows(vectors), ask, exclude_query=False)[0]
        ),
        "cosine without normalisation: a dot product favours long vectors; divide every row by "
        "its length first": int(np.argmax(raw_excluded)),
        "the offset b - a + c is built from the raw vectors: a long vector then outweighs the others; "
        "use the unit vectors of a, b and c in the offset too": int(np.argmax(raw_offset)),
        "the direction is reversed: a : b :: c : ? is b - a + c, not a - b + c": int(
            answer_analogies(unit_rows(vectors), np.array([[b, a, c]]))[0]
        ),
    }
    named = [description for description, answer in wrong.items() if answer == result and answer != expected]
    if named:
        raise core.GradingFailure(f"{name} returned the wrong word. Likely mistake: {'; or '.join(named)}.")
    raise core.GradingFailure(
        f"{name} returned row {result}, not the answer. Score every word by the cosine of its "
        "vector with b - a + c (all rows of length 1), exclude a, b and c, and take the argmax."
    )


ANALOGY = parts.Part(
    grade_id="test_analogy",
    function="analogy",
    title="Part 6: analogies, query words excluded",
    points=2,
    visible=_visible_analogy,
    hidden={name: parts.drawn(_analogy_args, *spec) for name, spec in _HIDDEN_ANALOGY.items()}
    | {name: parts.drawn(_raw_offset_args, *spec) for name, spec in _HIDDEN_RAW_OFFSET.items()},
    verify=_verify_analogy,
    parameters=("vectors", "a", "b", "c"),
)


def analogy(analogy_fn: Callable[..., int]) -> None:
    """``analogy(vectors, a, b, c)`` -> the row d answering a : b :: c : d (3CosAdd, a, b, c excluded)."""
    parts.run_part_in_process(ANALOGY, analogy_fn)


PARTS: list[parts.Part] = [
    EMBEDDING_FORWARD,
    EMBEDDING_BACKWARD,
    NOISE_DISTRIBUTION,
    SGNS_LOSS_AND_GRADS,
    HS_LOG_PROB,
    ANALOGY,
]
