"""The syllabus's chatbot, in PyTorch: Embedding(317, 10) -> LSTM(32) -> LSTM(64) -> softmax over the words.

The articles describe it in Keras as::

    Embedding(input_dim=317, output_dim=10)
    LSTM(32, return_sequences=True)     # every step's h feeds the next LSTM
    LSTM(64)                            # only the last h is kept
    Dense(317, activation="softmax")    # a distribution over the next word

``Chatbot`` is the same stack, reading a batch of word indices (N, T) and
returning logits (N, V) from the last state (softmax is left to the loss,
``F.cross_entropy``, which is more accurate than a softmax followed by a log).

Parameter counts, derived by hand (V words, E embedding size, H1 and H2 units):

* embedding: V E                              = 317 * 10           =  3,170
* LSTM 1: 4 H1 (E + H1) + 4 H1 (+ 4 H1 in torch) = 4*32*42 + 128 (+128) = 5,504 (torch 5,632)
* LSTM 2: 4 H2 (H1 + H2) + 4 H2 (+ 4 H2)      = 4*64*96 + 256 (+256)  = 24,832 (torch 25,088)
* dense: H2 V + V                             = 64 * 317 + 317     = 20,605

Keras: 54,111 parameters; torch: 54,495, because torch keeps two bias vectors
per LSTM layer (``bias_ih`` and ``bias_hh``) whose sum is all that matters.

**Trained on every prefix at once.** A next-word model is trained on every
prefix of a text; ``Chatbot(every_step=True)`` returns the logits after every
step, (N, T, V), which are the same network's predictions for the prefixes
x_1..x_t (the second LSTM with Keras's ``return_sequences=True``): one pass
instead of T. Its last step is what the Keras model returns.

**What it must beat.** :class:`CountBaseline` predicts the next word from
counts of the training text: the most frequent word, or the most frequent
word after the previous one (a bigram). A chatbot that reads the whole
message is worth its 54,495 parameters only if it predicts more next words
than these (``next_word_accuracy``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

VOCAB, EMBED, HIDDEN1, HIDDEN2 = 317, 10, 32, 64


def lstm_param_count(input_size: int, hidden_size: int, biases: int = 2) -> int:
    """One LSTM layer: 4H (D + H) weights and ``biases`` vectors of 4H (torch 2, Keras 1)."""
    return 4 * hidden_size * (input_size + hidden_size) + biases * 4 * hidden_size


def chatbot_param_count(
    vocab: int = VOCAB, embed: int = EMBED, hidden1: int = HIDDEN1, hidden2: int = HIDDEN2, biases: int = 2
) -> dict[str, int]:
    """The parameters of every layer, by the formulas of the module docstring, and their total."""
    counts = {
        "embedding": vocab * embed,
        "lstm1": lstm_param_count(embed, hidden1, biases),
        "lstm2": lstm_param_count(hidden1, hidden2, biases),
        "dense": hidden2 * vocab + vocab,
    }
    return counts | {"total": sum(counts.values())}


class Chatbot(nn.Module):
    """Word indices (N, T) -> next-word logits (N, V): Embedding -> LSTM -> LSTM -> Linear.

    Attributes:
        embedding: (V, E) table. lstm1: E -> H1. lstm2: H1 -> H2. out: H2 -> V.
        every_step: ``forward`` returns the logits after every step, (N, T, V), not only the last.
    """

    def __init__(
        self,
        vocab: int = VOCAB,
        embed: int = EMBED,
        hidden1: int = HIDDEN1,
        hidden2: int = HIDDEN2,
        every_step: bool = False,
    ) -> None:
        super().__init__()
        self.every_step = every_step
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm1 = nn.LSTM(embed, hidden1, batch_first=True)
        self.lstm2 = nn.LSTM(hidden1, hidden2, batch_first=True)
        self.out = nn.Linear(hidden2, vocab)

    def forward(self, tokens: Tensor) -> Tensor:
        """Logits (N, V) of the word after each sequence, from the top LSTM's last state.

        With ``every_step``, the logits after every step instead, (N, T, V).

        Args:
            tokens: (N, T) int64 word indices in [0, V).
        """
        if tokens.dim() != 2:
            raise ValueError(f"tokens has shape {tuple(tokens.shape)}; expected (N, T)")
        first, _ = self.lstm1(self.embedding(tokens))  # (N, T, H1): return_sequences=True
        second, _ = self.lstm2(first)  # (N, T, H2); Keras's return_sequences=False keeps the last
        return self.out(second if self.every_step else second[:, -1])

    def predict_proba(self, tokens: Tensor) -> Tensor:
        """The softmax the Keras model ends with: (N, V) probabilities of the word after each sequence."""
        logits = self.forward(tokens)
        return torch.softmax(logits[:, -1] if self.every_step else logits, dim=-1)


class CountBaseline:
    """The next word from counts: the most frequent word, or the most frequent after the previous word.

    Args:
        previous: (M,) int64 word ids that were followed by ``following`` (M,) in the training text.
        vocab: V.
        never: ids never predicted (``<pad>``, ``<unk>``, ``<bos>``): a guess of "some rare word" is no guess.
    """

    def __init__(
        self, previous: np.ndarray, following: np.ndarray, vocab: int, never: Sequence[int] = ()
    ) -> None:
        if previous.shape != following.shape or previous.ndim != 1:
            raise ValueError(
                f"previous and following must be two (M,) arrays, got {previous.shape} and {following.shape}"
            )
        self.counts = np.zeros((vocab, vocab), dtype=np.int64)  # counts[a, b]: how often b followed a
        np.add.at(self.counts, (previous, following), 1)
        totals = self.counts.sum(axis=0)  # how often each word came next, whatever came before
        totals[list(never)] = -1  # below every real count: never the argmax
        self.counts[:, list(never)] = -1
        self.unigram = int(np.argmax(totals))

    def predict(self, previous: np.ndarray, bigram: bool = True) -> np.ndarray:
        """Predicted next ids for ``previous`` ids (any shape): the bigram's, or the unigram's everywhere.

        A previous word never seen in training falls back on the unigram's word.
        """
        if not bigram:
            return np.full(previous.shape, self.unigram, dtype=np.int64)
        rows = self.counts[previous]  # (..., V)
        seen = rows.max(axis=-1) > 0
        return np.where(seen, rows.argmax(axis=-1), self.unigram).astype(np.int64)


def next_word_accuracy(predicted: np.ndarray, target: np.ndarray, where: np.ndarray) -> float:
    """The share of the positions ``where`` (bool, same shape) at which ``predicted`` equals ``target``."""
    if not (predicted.shape == target.shape == where.shape):
        raise ValueError(f"shapes differ: {predicted.shape}, {target.shape}, {where.shape}")
    if not where.any():
        raise ValueError("no position to score: `where` is False everywhere")
    return float((predicted == target)[where].mean())
