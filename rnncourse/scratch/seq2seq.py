"""The encoder-decoder of ``rnncourse.models.seq2seq``, forward only, in NumPy.

A trained :class:`rnncourse.models.seq2seq.Seq2Seq` is a set of arrays (its
``state_dict``, under torch's names). This module computes the same function
from those arrays with NumPy alone, so that a stored model decodes where
torch is not at hand: exercise 7's last cell decodes a stored date model with
the learner's own beam search. The equations are the model's (chapter 7):

    encoder:   h_s = GRU(E_src x_s, h_{s-1})          memory (S, M), summary z (M,)
    bridge:    s_0 = tanh(W_b z + b_b)                 (H,)
    decoder:   c_t = attention(s_{t-1}, memory)  or  z without attention
               s_t = GRUCell([E_tgt y_{t-1}; c_t], s_{t-1})
               log p(y_t | y_<t, x) = log_softmax(W_o [s_t; c_t] + b_o)

with torch's GRU (``rnncourse.scratch.gru``), ``M = H`` or ``2H`` for a
bidirectional encoder (the forward state at the last token, then the
backward one at the first). :meth:`NumpySeq2Seq.step_function` has the step
interface of ``rnncourse.scratch.decoding``, batch of K hypotheses and all;
``tests/scratch/test_seq2seq.py`` proves it equal to the torch model's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rnncourse.scratch.attention import additive_attention, multiplicative_attention
from rnncourse.scratch.gru import gru_step_forward


@dataclass(frozen=True)
class EncodedSource:
    """What the decoder reads, for K rows: state (K, H), memory (K, S, M), mask (K, S), summary (K, M)."""

    state: np.ndarray
    memory: np.ndarray
    mask: np.ndarray
    summary: np.ndarray

    def select(self, index: np.ndarray) -> EncodedSource:
        """The rows ``index`` of every field: the hypotheses a beam keeps."""
        return EncodedSource(self.state[index], self.memory[index], self.mask[index], self.summary[index])


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, shifted by the maximum so that exp never overflows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class NumpySeq2Seq:
    """A trained encoder-decoder, read from its arrays.

    Args:
        weights: ``Seq2Seq.state_dict()`` as NumPy arrays, under torch's names
            (``encoder.rnn.weight_ih_l0``, ``decoder.cell.weight_hh``, ...). The
            kind of attention and whether the encoder is bidirectional follow
            from the names present. Computed in float64 whatever was stored.
    """

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.w = {name: np.asarray(array, dtype=np.float64) for name, array in weights.items()}
        missing = [name for name in ("encoder.embedding.weight", "decoder.out.weight") if name not in self.w]
        if missing:
            raise ValueError(f"these are not a Seq2Seq's weights: {missing} missing")
        self.bidirectional = "encoder.rnn.weight_ih_l0_reverse" in self.w
        if "decoder.attention.W_q" in self.w:
            self.attention: str | None = "additive"
        elif "decoder.attention.W" in self.w:
            self.attention = "multiplicative"
        else:
            self.attention = None

    def _gru(self, suffix: str) -> tuple[np.ndarray, ...]:
        return tuple(
            self.w[f"encoder.rnn.{part}_l0{suffix}"]
            for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )

    def _run_encoder(self, embedded: np.ndarray, suffix: str) -> np.ndarray:
        """States (S, H) of one direction over embedded tokens (S, E), in the order given."""
        W_xh, W_hh, b_xh, b_hh = self._gru(suffix)
        h = np.zeros((1, W_hh.shape[1]))
        states = []
        for x in embedded:
            h, _ = gru_step_forward(x[None, :], h, W_xh, W_hh, b_xh, b_hh)
            states.append(h[0])
        return np.array(states)

    def encode(self, source_ids: Sequence[int]) -> EncodedSource:
        """Encode one source (its ids, ``<eos>`` last, no padding): a batch of one row."""
        ids = np.asarray(source_ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) == 0:
            raise ValueError(f"source_ids must be a non-empty list of ids, got shape {ids.shape}")
        embedded = self.w["encoder.embedding.weight"][ids]  # (S, E)
        forward = self._run_encoder(embedded, "")
        memory, summary = forward, forward[-1]
        if self.bidirectional:
            backward = self._run_encoder(embedded[::-1], "_reverse")[::-1]  # state s has read s..S-1
            memory = np.concatenate([forward, backward], axis=1)
            summary = np.concatenate([forward[-1], backward[0]])
        state = np.tanh(self.w["bridge.weight"] @ summary + self.w["bridge.bias"])
        return EncodedSource(state[None], memory[None], np.ones((1, len(ids)), dtype=bool), summary[None])

    def _context(self, enc: EncodedSource) -> tuple[np.ndarray, np.ndarray | None]:
        if self.attention == "additive":
            w = self.w
            W_q, W_k, v = w["decoder.attention.W_q"], w["decoder.attention.W_k"], w["decoder.attention.v"]
            return additive_attention(enc.state, enc.memory, enc.mask, W_q, W_k, v)
        if self.attention == "multiplicative":
            return multiplicative_attention(enc.state, enc.memory, enc.mask, self.w["decoder.attention.W"])
        return enc.summary, None

    def step(
        self, tokens: np.ndarray, enc: EncodedSource
    ) -> tuple[np.ndarray, EncodedSource, np.ndarray | None]:
        """One decoder step for K rows: tokens (K,) -> log-probabilities (K, V), next state, weights (K, S)."""
        context, weights = self._context(enc)
        x = np.concatenate([self.w["decoder.embedding.weight"][np.asarray(tokens)], context], axis=1)
        w = self.w
        state, _ = gru_step_forward(
            x, enc.state, w["decoder.cell.weight_ih"], w["decoder.cell.weight_hh"],
            w["decoder.cell.bias_ih"], w["decoder.cell.bias_hh"],
        )  # fmt: skip
        logits = np.concatenate([state, context], axis=1) @ w["decoder.out.weight"].T + w["decoder.out.bias"]
        return log_softmax(logits), EncodedSource(state, enc.memory, enc.mask, enc.summary), weights

    def step_function(self) -> Callable[[np.ndarray, EncodedSource], tuple[np.ndarray, EncodedSource]]:
        """The step of ``rnncourse.scratch.decoding``: (tokens (K,), state) -> (log-probs (K, V), state')."""

        def step(tokens: np.ndarray, enc: EncodedSource) -> tuple[np.ndarray, EncodedSource]:
            log_probs, enc, _ = self.step(tokens, enc)
            return log_probs, enc

        return step
