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
"""

from __future__ import annotations

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
    """

    def __init__(
        self, vocab: int = VOCAB, embed: int = EMBED, hidden1: int = HIDDEN1, hidden2: int = HIDDEN2
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm1 = nn.LSTM(embed, hidden1, batch_first=True)
        self.lstm2 = nn.LSTM(hidden1, hidden2, batch_first=True)
        self.out = nn.Linear(hidden2, vocab)

    def forward(self, tokens: Tensor) -> Tensor:
        """Logits (N, V) of the word after each sequence, from the top LSTM's last state.

        Args:
            tokens: (N, T) int64 word indices in [0, V).
        """
        if tokens.dim() != 2:
            raise ValueError(f"tokens has shape {tuple(tokens.shape)}; expected (N, T)")
        every_step, _ = self.lstm1(self.embedding(tokens))  # (N, T, H1): return_sequences=True
        _, (h_n, _) = self.lstm2(every_step)  # h_n (1, N, H2): Keras's return_sequences=False
        return self.out(h_n[0])

    def predict_proba(self, tokens: Tensor) -> Tensor:
        """The softmax the Keras model ends with: (N, V) probabilities."""
        return torch.softmax(self.forward(tokens), dim=-1)
