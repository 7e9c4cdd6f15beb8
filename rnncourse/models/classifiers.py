"""Sequence classifiers: a sequence in, one class out.

==============================  ============================================================
``BagOfWords``                  logistic regression on word counts: order thrown away; with
                                ``scale`` the naive-Bayes-weighted features of NBSVM
``nb_log_count_ratio``          NBSVM's feature weights (Wang and Manning 2012)
``MeanEmbeddingClassifier``     the mean of the word vectors, then a linear layer (chapter 6)
``RecurrentClassifier``         a recurrent layer read up to each sequence's own length,
                                then a linear layer on its last state (chapter 8: the GloVe
                                LSTM and BiGRU on reviews, the GRU on spoken vowels)
==============================  ============================================================

Every classifier maps a padded batch to logits (N, C); the softmax is left
to the loss (``cross_entropy``). Padding is id 0 for word ids.

Shapes: N sequences, T steps (padded), V vocabulary, E embedding size, D input
features, H hidden units, C classes.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.kinds import Kind
from rnncourse.nn.recurrent import recurrent_layer

__all__ = ["BagOfWords", "MeanEmbeddingClassifier", "RecurrentClassifier", "nb_log_count_ratio"]


class BagOfWords(nn.Module):
    """Logistic regression on word counts: ``p(class 1) = sigmoid(sum_t r[x_t] w[x_t] + b)``, padding counted as 0.

    Args:
        vocab_size: V; the weights start at zero.
        scale: (V,) fixed feature scales r (default 1). With NBSVM's naive-Bayes
            log-count ratios (:func:`nb_log_count_ratio`) and each feature given
            once per text, this is NBSVM's classifier trained as a logistic
            regression (Wang and Manning 2012's NB-LR): the scale acts as a
            prior, so weight decay pulls w towards the naive-Bayes solution w = 1
            times r rather than towards 0.

    ``model(ids (N, T), lengths (N,))`` -> logits (N, 2), class 0's fixed at 0, so
    that the softmax of the pair is the sigmoid of the score.
    """

    scale: Tensor

    def __init__(self, vocab_size: int, scale: Tensor | None = None) -> None:
        super().__init__()
        self.weight = nn.Embedding(vocab_size, 1, padding_idx=0)
        nn.init.zeros_(self.weight.weight)
        self.bias = nn.Parameter(torch.zeros(1))
        if scale is not None and scale.shape != (vocab_size,):
            raise ValueError(f"scale must have shape ({vocab_size},), got {tuple(scale.shape)}")
        self.register_buffer("scale", torch.ones(vocab_size) if scale is None else scale.float())

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        score = (self.weight(ids)[..., 0] * self.scale[ids]).sum(
            dim=1
        ) + self.bias  # (N,); padding rows are 0
        return torch.stack([torch.zeros_like(score), score], dim=1)


def nb_log_count_ratio(ids: Tensor, labels: Tensor, vocab_size: int, alpha: float = 1.0) -> Tensor:
    """NBSVM's feature weights: ``r = log((p / |p|_1) / (q / |q|_1))`` over binarised features.

        p = alpha + sum over positive texts of f,   q = alpha + sum over negative texts of f

    where f (V - 1,) marks the features a text holds (each counted once; id 0 pads). r > 0
    for a feature more typical of positive texts, < 0 of negative ones.

    Args:
        ids: (N, T) feature ids per text, 0 for padding; labels: (N,) 0 or 1.
        vocab_size: V; alpha: the smoothing count.

    Returns:
        (V,) float32, r[0] = 0 (padding).
    """
    present = torch.zeros(len(ids), vocab_size)
    present.scatter_(1, ids, 1.0)
    present = present[:, 1:]  # (N, V - 1): the padding id is no feature
    positive = labels.bool()
    p = alpha + present[positive].sum(dim=0)
    q = alpha + present[~positive].sum(dim=0)
    r = torch.log((p / p.sum()) / (q / q.sum()))
    return torch.cat([torch.zeros(1), r])


class MeanEmbeddingClassifier(nn.Module):
    """Mean of the word embeddings over the real tokens -> linear layer -> C classes.

        m = (1 / n) sum_{t: x_t != pad} E[x_t]      (N, E)
        logits = W m + b                             (N, C)

    Args:
        table: (V, E) the starting embedding (pretrained rows, random rows, row 0
            for padding, zero); ``nn.Embedding.from_pretrained`` keeps it.
        num_classes: C.
        freeze: keep the embedding fixed (only the linear layer learns).

    ``model(ids (N, T))`` -> logits (N, C).
    """

    def __init__(self, table: Tensor, num_classes: int = 2, freeze: bool = True) -> None:
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=0)
        self.head = nn.Linear(table.shape[1], num_classes)

    def forward(self, ids: Tensor) -> Tensor:
        mask = (ids != 0).unsqueeze(-1).float()  # (N, T, 1): padding left out of the mean
        mean = (self.embedding(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(mean)


class RecurrentClassifier(nn.Module):
    """A recurrent layer over padded sequences, packed so that each stops at its own length; a linear read-out.

    Keras' ``Embedding(V, E, weights=[vectors], trainable=False)``, ``LSTM(H)``,
    ``Dense(C, activation="softmax")`` is ``RecurrentClassifier("lstm", E, H, C,
    vectors=vectors)`` (the softmax inside the loss).

    Args:
        kind: ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``.
        input_size: D, the features of a step (E with ``vectors``).
        hidden_size: H; num_classes: C.
        vectors: (V, E) pretrained word vectors, row 0 for padding; then the
            input is word ids. None: the input is already (N, T, D) features.
        freeze: keep ``vectors`` fixed (False: fine-tune a copy of them with the rest; the
            tensor passed in is left as it is).
        bidirectional: a second layer reads each sequence backwards; the read-out
            sees both final states, (N, 2H).
        dropout: the share of the inputs and of the final state zeroed in training.

    ``model(x, lengths (N,))`` -> logits (N, C) from the state at each sequence's
    last real step (and, bidirectional, the backward state at its first); x is
    (N, T) ids with ``vectors``, else (N, T, D).
    """

    def __init__(
        self,
        kind: Kind,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        vectors: Tensor | None = None,
        freeze: bool = True,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embed: nn.Embedding | None = None
        if vectors is not None:
            if vectors.shape[1] != input_size:
                raise ValueError(f"vectors are {vectors.shape[1]}-d, but input_size is {input_size}")
            # a fine-tuned table is a copy: from_pretrained would share (and train) the caller's tensor
            table = vectors if freeze else vectors.clone()
            self.embed = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=0)
        self.rnn = cast(
            nn.RNNBase, recurrent_layer(kind, input_size, hidden_size, bidirectional=bidirectional)
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def _packed(self, x: Tensor, lengths: Tensor) -> nn.utils.rnn.PackedSequence:
        inputs = self.embed(x) if self.embed is not None else x  # (N, T, D)
        return pack_padded_sequence(self.dropout(inputs), lengths, batch_first=True, enforce_sorted=False)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        _, state = self.rnn(self._packed(x, lengths))
        h_n = state[0] if isinstance(state, tuple) else state  # (dirs, N, H); the LSTM's (h_n, c_n)
        last = torch.cat([h_n[-2], h_n[-1]], dim=-1) if self.rnn.bidirectional else h_n[-1]
        return self.head(self.dropout(last))

    def per_step(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(N, T, C) logits after every prefix: the read-out of each step's state (0 past the end).

        Only a one-directional model's step t has read tokens 1..t alone; a
        bidirectional one's backward half has read the whole sequence.
        """
        out, _ = self.rnn(self._packed(x, lengths))
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self.head(h)
