"""Using word vectors: cosine neighbours, analogies, and the standard evaluations.

Every comparison is by cosine, so the rows are first scaled to length 1
(``unit_rows``); then ``cos(u, v) = u . v`` and a whole vocabulary is
scored against a query with one matrix product, (V, E) @ (E,) -> (V,).

Analogies, "a is to b as c is to ?" (man : king :: woman : ?), two ways
(Mikolov et al. 2013; Levy and Goldberg 2014), with hat-vectors of length 1:

    3CosAdd:  d = argmax_w  cos(w, b) - cos(w, a) + cos(w, c)
    3CosMul:  d = argmax_w  cos'(w, b) cos'(w, c) / (cos'(w, a) + 1e-3),
              cos' = (cos + 1) / 2 in [0, 1]

and the argmax runs over every word **except a, b and c**. The exclusion
matters: ``b - a + c`` usually lies closest to ``b`` itself (king - man +
woman is nearest to "king"), so an analogy function without it mostly
answers the question's own word (Nissim, van Noord and van der Goot 2020).
Accuracy reported in papers is always with the exclusion.

Shapes: V vocabulary size, E vector size, Q questions, P scored pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from rnncourse.checks import check_floating, check_shape

Method = Literal["add", "mul"]

#: Added to the denominator of 3CosMul so that cos'(w, a) = 0 does not divide by 0.
COSMUL_EPSILON = 1e-3


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its length: (V, E) -> (V, E); an all-zero row stays zero."""
    check_floating("vectors", vectors)
    check_shape("vectors", vectors, {"V": None, "E": None})
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def cosine_to_all(unit: np.ndarray, query: np.ndarray) -> np.ndarray:
    """cos(query, every row): unit (V, E) rows of length 1, query (E,) any length -> (V,)."""
    check_shape("query", query, {"E": unit.shape[1]})
    norm = np.linalg.norm(query)
    return unit @ (query / norm if norm > 0 else query)


def neighbours(
    unit: np.ndarray,
    words: Sequence[str],
    query: np.ndarray,
    k: int = 5,
    exclude: Sequence[int] = (),
) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the largest cosine with ``query``, best first.

    Args:
        unit: (V, E) rows of length 1 (``unit_rows``); words: the V words.
        query: (E,) a vector, of any length.
        k: how many neighbours.
        exclude: row indices never returned (e.g. the query word itself).
    """
    scores = cosine_to_all(unit, query)
    scores[list(exclude)] = -np.inf
    best = np.argsort(-scores, kind="stable")[:k]
    return [(words[i], float(scores[i])) for i in best]


def analogy_scores(
    unit: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    method: Method = "add",
    exclude_query: bool = True,
) -> np.ndarray:
    """Score every word as the answer to Q questions "a : b :: c : ?".

    Args:
        unit: (V, E) rows of length 1.
        a, b, c: (Q,) integer row indices of the question words.
        method: ``"add"`` for 3CosAdd, ``"mul"`` for 3CosMul.
        exclude_query: give a, b and c the score -inf (the standard protocol).

    Returns:
        (Q, V) scores; the answer to question q is ``argmax(scores[q])``.
    """
    a, b, c = (np.asarray(i, dtype=np.int64).reshape(-1) for i in (a, b, c))
    if not len(a) == len(b) == len(c):
        raise ValueError(f"a, b, c must have one length, got {len(a)}, {len(b)}, {len(c)}")
    if method == "add":
        # cos(w, b) - cos(w, a) + cos(w, c) = w . (b - a + c) for unit rows: one product.
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T
    elif method == "mul":
        shifted = [(unit[i] @ unit.T + 1.0) / 2.0 for i in (a, b, c)]  # each (Q, V), in [0, 1]
        scores = shifted[1] * shifted[2] / (shifted[0] + COSMUL_EPSILON)
    else:
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")
    if exclude_query:
        rows = np.arange(len(a))
        for index in (a, b, c):
            scores[rows, index] = -np.inf
    return scores


def answer_analogies(
    unit: np.ndarray,
    questions: np.ndarray,
    *,
    method: Method = "add",
    exclude_query: bool = True,
    chunk: int = 512,
) -> np.ndarray:
    """The best-scoring row for each question, (Q,) ints; computed ``chunk`` questions at a time.

    Args:
        unit: (V, E) rows of length 1.
        questions: (Q, 3) integer row indices, one question (a, b, c) per row, as the
            first three columns of ``encode_questions``.
        method, exclude_query: as in ``analogy_scores``.
        chunk: how many questions are scored at once (a (chunk, V) array).
    """
    questions = np.asarray(questions, dtype=np.int64)
    if questions.ndim != 2 or questions.shape[1] != 3:
        raise ValueError(f"questions must be (Q, 3) rows (a, b, c), got shape {questions.shape}")
    answers = []
    for start in range(0, len(questions), chunk):
        a, b, c = questions[start : start + chunk].T
        answers.append(analogy_scores(unit, a, b, c, method, exclude_query).argmax(axis=1))
    return np.concatenate(answers) if answers else np.zeros(0, dtype=np.int64)


def encode_questions(
    questions: Sequence[Sequence[str]], lookup: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Questions (a, b, c, d) as a (Q', 4) index array, and the (Q,) mask of those fully in ``lookup``.

    A question with a word outside the vocabulary cannot be answered; the
    standard protocol leaves it out of the accuracy and reports how many were left out.
    """
    keep = np.array([all(w in lookup for w in q) for q in questions], dtype=bool)
    ids = np.array([[lookup[w] for w in q] for q, k in zip(questions, keep) if k], dtype=np.int64)
    return ids.reshape(-1, 4), keep


def analogy_accuracy(
    unit: np.ndarray,
    lookup: Mapping[str, int],
    questions: Sequence[Sequence[str]],
    method: Method = "add",
    exclude_query: bool = True,
) -> tuple[float, int]:
    """The share of answerable questions (a, b, c, d) whose answer is d, and how many were answerable."""
    ids, _ = encode_questions(questions, lookup)
    if len(ids) == 0:
        return float("nan"), 0
    answers = answer_analogies(unit, ids[:, :3], method=method, exclude_query=exclude_query)
    return float(np.mean(answers == ids[:, 3])), len(ids)


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..P of ``values`` (P,), ties sharing the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    result = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        result[order[start : end + 1]] = (start + end) / 2 + 1  # mean of ranks start+1..end+1
        start = end + 1
    return result


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation: the Pearson correlation of the ranks of x (P,) and y (P,)."""
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float(rx @ ry / np.sqrt((rx @ rx) * (ry @ ry)))


def similarity_correlation(
    unit: np.ndarray, lookup: Mapping[str, int], pairs: Sequence[tuple[str, str, float]]
) -> tuple[float, int]:
    """Spearman's correlation between cosines and human scores, over the pairs in the vocabulary.

    Returns:
        (rho, number of pairs used).
    """
    used = [(lookup[x], lookup[y], s) for x, y, s in pairs if x in lookup and y in lookup]
    if len(used) < 2:
        return float("nan"), len(used)
    first, second, human = (np.array(column) for column in zip(*used))
    cosines = np.sum(unit[first] * unit[second], axis=1)
    return spearman(cosines, human), len(used)


def gender_lean(unit: np.ndarray, lookup: Mapping[str, int], words: Sequence[str]) -> dict[str, float]:
    """cos(w, he) - cos(w, she) for each word: > 0 leans to "he", < 0 to "she" (Bolukbasi et al. 2016).

    A crude one-pair version of their gender direction, enough to see that
    occupation words that should be neutral are not.
    """
    he, she = unit[lookup["he"]], unit[lookup["she"]]
    return {w: float(unit[lookup[w]] @ he - unit[lookup[w]] @ she) for w in words if w in lookup}
