"""An n-gram baseline for language models: interpolated Kneser-Ney over integer ids (characters).

A language model of order n predicts symbol w from the n - 1 symbols before
it, its context h, by counting. Raw relative frequencies give zero to every
n-gram the training text lacks, so a smoothed model takes a little mass from
every seen n-gram (an absolute **discount** D) and hands it to a lower order,
recursively (Ney, Essen and Kneser 1994; Chen and Goodman 1999):

    p_n(w | h) = max(c_n(h w) - D_n, 0) / c_n(h .)  +  D_n N_n(h .) / c_n(h .)  p_{n-1}(w | h')

where h' drops the oldest symbol of h, c_n(h .) = sum_w c_n(h w) and
N_n(h .) is the number of distinct w with c_n(h w) > 0, so that p_n sums to 1
over w. A context never seen (c_n(h .) = 0) hands all its mass down. The order
1 model interpolates with the uniform 1 / V, so no symbol gets zero.

**Kneser-Ney's counts.** At the highest order c_n is the ordinary count. At
a lower order it is the *continuation* count, the number of distinct symbols
seen just before the n-gram, N(. h w): a lower order is only consulted when
the longer context is rare, and what matters then is in how many contexts w
appears, not how often ("Francisco" is frequent, but almost always after
"San"). The discount of each order is Ney's estimate D_n = n1 / (n1 + 2 n2),
from the numbers of n-grams seen once and twice.

The score is the mean of -log p(w | h) over held-out text, in nats per symbol,
the unit of ``rnncourse.models.char_lm``'s loss: a recurrent model must beat
this number to have learned more than short-range counts. The first symbols of
the text use the context there is (order i + 1 at position i).

Shapes: L symbols of text; V the size of the vocabulary; K n-grams in a table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnncourse.checks import check_shape


def _codes(ids: np.ndarray, n: int, vocab_size: int) -> np.ndarray:
    """The integer code sum_j ids[i + j] V^(n - 1 - j) of every n-gram of ``ids``: (L,) -> (L - n + 1,)."""
    length = len(ids) - n + 1
    code = np.zeros(max(length, 0), dtype=np.int64)
    for j in range(n):
        code = code * vocab_size + ids[j : j + length]
    return code


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[i] where keys[i] == query, else 0: keys sorted and unique."""
    if len(keys) == 0:
        return np.zeros(len(query))
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[at] == query, values[at], 0.0)


@dataclass(frozen=True)
class _Table:
    """One order's counts: n-gram codes and their counts, context codes with their totals and types."""

    grams: np.ndarray  # (K,) sorted codes of the n-grams with a count
    counts: np.ndarray  # (K,) their counts (raw at the top order, continuation below)
    contexts: np.ndarray  # (K',) sorted codes of the contexts
    totals: np.ndarray  # (K',) c(h .)
    types: np.ndarray  # (K',) N(h .), distinct followers
    discount: float


def _table(grams: np.ndarray, counts: np.ndarray, vocab_size: int) -> _Table:
    contexts, which = np.unique(grams // vocab_size, return_inverse=True)
    totals = np.bincount(which, weights=counts).astype(np.float64)
    types = np.bincount(which).astype(np.float64)
    once, twice = np.sum(counts == 1), np.sum(counts == 2)
    discount = float(once / (once + 2 * twice)) if once + twice > 0 else 0.5
    return _Table(grams, counts.astype(np.float64), contexts, totals, types, discount)


class KneserNey:
    """Interpolated Kneser-Ney model of order ``order`` over ids in [0, ``vocab_size``).

    ``KneserNey(6, V).fit(train_ids).nats(held_ids)`` is the held-out cross-entropy.

    Args:
        order: n >= 1, the number of symbols in an n-gram (the context is n - 1).
        vocab_size: V; n-grams are coded as integers, so V^order must fit in int64.
    """

    def __init__(self, order: int, vocab_size: int) -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
        if vocab_size**order >= 2**62:
            raise ValueError(
                f"vocab_size**order = {vocab_size}**{order} does not fit in int64: lower the order"
            )
        self.order, self.vocab_size = order, vocab_size
        self._tables: list[_Table] = []

    def _ids(self, name: str, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        check_shape(name, ids, {"L": None})
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{name} has dtype {ids.dtype}; expected integer ids")
        if len(ids) and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"{name} holds ids outside [0, {self.vocab_size}): encode with the same vocabulary"
            )
        return ids.astype(np.int64)

    def fit(self, train: np.ndarray) -> KneserNey:
        """Count the n-grams of ``train`` (L,) for every order 1..n; returns self."""
        train = self._ids("train", train)
        if len(train) < self.order + 1:
            raise ValueError(
                f"train has {len(train)} ids; an order-{self.order} model needs more than {self.order}"
            )
        V = self.vocab_size
        tables = []
        for n in range(1, self.order + 1):
            if n == self.order:
                grams, counts = np.unique(_codes(train, n, V), return_counts=True)
            else:  # continuation counts: distinct symbols seen before the n-gram
                longer = np.unique(_codes(train, n + 1, V))
                grams, counts = np.unique(longer % V**n, return_counts=True)
            tables.append(_table(grams, counts, V))
        self._tables = tables
        return self

    def _probabilities_at(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """p(ids[i] | the context before i) for each position i: (P,)."""
        if not self._tables:
            raise RuntimeError("the model has no counts: call fit(train) first")
        V = self.vocab_size
        p = np.full(len(positions), 1.0 / V)
        for n, table in enumerate(self._tables, start=1):
            has_context = positions >= n - 1  # order n needs n - 1 symbols before
            at = positions[has_context]
            gram = np.zeros(len(at), dtype=np.int64)
            for j in range(n):
                gram = gram * V + ids[at - n + 1 + j]
            count = _lookup(table.grams, table.counts, gram)
            total = _lookup(table.contexts, table.totals, gram // V)
            types = _lookup(table.contexts, table.types, gram // V)
            seen = total > 0
            lower = p[has_context]
            share = np.where(seen, total, 1.0)
            mixed = np.maximum(count - table.discount, 0.0) / share + table.discount * types / share * lower
            p[has_context] = np.where(seen, mixed, lower)
        return p

    def probabilities(self, context: np.ndarray) -> np.ndarray:
        """p(w | context) for every w: the context's ids (any length, the last n - 1 used) -> (V,)."""
        context = self._ids("context", context)
        V = self.vocab_size
        rows = np.concatenate([np.tile(context, (V, 1)), np.arange(V)[:, None]], axis=1)  # (V, len + 1)
        last = len(context)
        return np.array([self._probabilities_at(row, np.array([last]))[0] for row in rows])

    def nats(self, held: np.ndarray) -> float:
        """Mean -log p(w | h) over every symbol of ``held`` (L,), in nats per symbol."""
        held = self._ids("held", held)
        if len(held) == 0:
            raise ValueError("held is empty: there is nothing to score")
        return float(-np.mean(np.log(self._probabilities_at(held, np.arange(len(held))))))
