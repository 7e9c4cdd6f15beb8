"""Sequence to sequence in torch: the encoder-decoder GRU, with or without attention, and the captioner.

Shapes: N batch, S source steps, T target steps, E embedding size, H hidden
units, ``dirs`` 2 for a bidirectional encoder, V vocabulary sizes.

Encoder. Embeds the source ids (N, S) and runs a GRU (bidirectional or
not) over them, honouring each source's length; its outputs (N, S, dirs*H)
are the *memory* an attentive decoder reads, and its final states, the
forward direction's at the last real token and the backward direction's at
the first, concatenated (N, dirs*H), are the *summary* of the source.

Bridge. ``s_0 = tanh(W_b summary + b_b)`` (N, H): the decoder's first state.
A bidirectional encoder's summary has twice the decoder's size; the bridge
maps it, rather than dropping one direction.

Decoder, one step (teacher forcing feeds the true previous token ``y_{t-1}``):

    c_t = attention(s_{t-1}, memory, mask)      (N, dirs*H)   with attention
    c_t = summary                               (N, dirs*H)   without: the fixed summary
    s_t = GRUCell([embed(y_{t-1}); c_t], s_{t-1})              (N, H)
    logits_t = W_o [s_t; c_t] + b_o                            (N, V)

Without attention every step sees the same fixed-size summary: the
bottleneck that attention removes by choosing, at every step, a new mix of
the source's states.

Dropout (``dropout=p`` > 0, training mode only) zeroes a share p of the
embedded tokens of both sides and of ``[s_t; c_t]`` before the output layer:
the places where it is safe in a recurrent network (chapter 8's practice
page), never the recurrent state itself. With p = 0 (the default) no dropout
layer exists and no random number is drawn.

Loss. :func:`masked_cross_entropy` is the mean over the *real* target tokens
(those before and including ``<eos>``): padding neither counts nor dilutes.

Captioning (:class:`CaptionModel`) is the same decoder with an image in place
of the source: fixed features f (N, F) set the first state of an LSTM decoder,
which then writes the caption word by word (:func:`caption`).
:class:`AttentionCaptioner` goes further: a small CNN (:class:`ConvColumns`)
turns the image into a sequence of column features, the memory that the
attentive :class:`Decoder` above reads, so that each word can look at its own
part of the image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.checks import check_lengths, check_shape
from rnncourse.data.pairs import BOS, EOS, PAD_ID, PairVocabulary, encode_pairs
from rnncourse.nn.attention import AdditiveAttention, MultiplicativeAttention
from rnncourse.nn.recurrent import recurrent_layer
from rnncourse.nn.sampling import sample_next
from rnncourse.scratch.decoding import greedy_search

ATTENTION_KINDS = (None, "additive", "multiplicative")


def _dropout(p: float) -> nn.Module:
    """``nn.Dropout(p)``, or the identity when p is 0 (so that no random number is drawn)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {p}")
    return nn.Dropout(p) if p > 0 else nn.Identity()


def lengths_mask(lengths: Tensor, size: int) -> Tensor:
    """(N, size) bool, True at the first ``lengths[n]`` positions of row n."""
    return torch.arange(size, device=lengths.device)[None, :] < lengths[:, None]


class Encoder(nn.Module):
    """Embedding and GRU over padded sources.

    Args:
        vocab_size: V_src; embed_size: E; hidden_size: H; bidirectional: two directions.
        dropout: the share of embedded tokens zeroed in training.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dropout = _dropout(dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD_ID)
        self.rnn = recurrent_layer("gru", embed_size, hidden_size, bidirectional=bidirectional)
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, src: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Memory (N, S, dirs*H), zero at padding, and summary (N, dirs*H) for src (N, S), lengths (N,)."""
        N, S = check_shape("src", src, {"N": None, "S": None})
        check_lengths(lengths.cpu().numpy(), N, S)
        packed = pack_padded_sequence(
            self.dropout(self.embedding(src)), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, h_n = self.rnn(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=S)
        summary = torch.cat(list(h_n), dim=-1)  # (dirs, N, H) -> (N, dirs*H): forward then backward
        return memory, summary


class Decoder(nn.Module):
    """A GRU decoder that reads a context at every step: attention's, or the fixed summary.

    Args:
        vocab_size: V_tgt; embed_size: E; hidden_size: H; memory_size: dirs*H of the encoder.
        attention: None, "additive" or "multiplicative".
        dropout: the share of embedded tokens and of ``[s_t; c_t]`` zeroed in training.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        memory_size: int,
        attention: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dropout = _dropout(dropout)
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}")
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD_ID)
        self.cell = nn.GRUCell(embed_size + memory_size, hidden_size)
        self.out = nn.Linear(hidden_size + memory_size, vocab_size)
        self.attention: nn.Module | None = None
        if attention == "additive":
            self.attention = AdditiveAttention(hidden_size, memory_size, hidden_size)
        elif attention == "multiplicative":
            self.attention = MultiplicativeAttention(hidden_size, memory_size)

    def step(
        self, tokens: Tensor, state: Tensor, memory: Tensor, mask: Tensor, summary: Tensor
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """One step: tokens (N,) y_{t-1}, state (N, H) s_{t-1} -> logits (N, V), s_t (N, H), weights (N, S) or None."""
        weights = None
        if self.attention is None:
            context = summary
        else:
            context, weights = self.attention(state, memory, mask)
        state = self.cell(torch.cat([self.dropout(self.embedding(tokens)), context], dim=-1), state)
        return self.out(self.dropout(torch.cat([state, context], dim=-1))), state, weights

    def forward(
        self, tgt_in: Tensor, state: Tensor, memory: Tensor, mask: Tensor, summary: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher forcing over tgt_in (N, T) = <bos> y_1 .. y_{T-1}: logits (N, T, V), weights (N, T, S) or None."""
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, step_weights = self.step(tgt_in[:, t], state, memory, mask, summary)
            logits.append(step_logits)
            if step_weights is not None:
                weights.append(step_weights)
        return torch.stack(logits, dim=1), (torch.stack(weights, dim=1) if weights else None)


@dataclass
class Encoded:
    """What the decoder needs from the encoder: state (N, H), memory (N, S, M), mask (N, S), summary (N, M)."""

    state: Tensor
    memory: Tensor
    mask: Tensor
    summary: Tensor

    def select(self, index: Tensor) -> Encoded:
        """The rows ``index`` (K,) of every field: for beam search's hypotheses."""
        return Encoded(self.state[index], self.memory[index], self.mask[index], self.summary[index])


class Seq2Seq(nn.Module):
    """Encoder, bridge and decoder.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes; embed_size: E; hidden_size: H.
        attention: None (fixed summary), "additive" or "multiplicative".
        bidirectional: a bidirectional encoder (its summary is bridged to H).
        dropout: the share of embedded tokens (both sides) and of the decoder's
            ``[s_t; c_t]`` zeroed in training (0: none).
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        embed_size: int = 32,
        hidden_size: int = 64,
        attention: str | None = "additive",
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(src_vocab, embed_size, hidden_size, bidirectional, dropout)
        self.bridge = nn.Linear(self.encoder.output_size, hidden_size)
        self.decoder = Decoder(
            tgt_vocab, embed_size, hidden_size, self.encoder.output_size, attention, dropout
        )

    def encode(self, src: Tensor, src_lengths: Tensor) -> Encoded:
        """Encode src (N, S) with lengths (N,): the decoder's first state s_0 = tanh(W_b summary + b_b) and the rest."""
        memory, summary = self.encoder(src, src_lengths)
        state = torch.tanh(self.bridge(summary))
        return Encoded(state, memory, lengths_mask(src_lengths, src.shape[1]), summary)

    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced logits (N, T, V_tgt) and attention weights (N, T, S) or None."""
        enc = self.encode(src, src_lengths)
        return self.decoder(tgt_in, enc.state, enc.memory, enc.mask, enc.summary)

    def step_function(self) -> Callable[[np.ndarray, Encoded], tuple[np.ndarray, Encoded]]:
        """A step for :mod:`rnncourse.scratch.decoding`: tokens (K,) and an :class:`Encoded` -> log-probs (K, V), next."""
        return decoder_step_function(self.decoder)


def decoder_step_function(decoder: Decoder) -> Callable[[np.ndarray, Encoded], tuple[np.ndarray, Encoded]]:
    """One step of ``decoder`` as :mod:`rnncourse.scratch.decoding` calls it: tokens (K,), Encoded -> log-probs (K, V), next."""

    @torch.no_grad()
    def step(tokens: np.ndarray, enc: Encoded) -> tuple[np.ndarray, Encoded]:
        logits, state, _ = decoder.step(
            torch.as_tensor(tokens, dtype=torch.long), enc.state, enc.memory, enc.mask, enc.summary
        )
        log_probs = torch.log_softmax(logits.double(), dim=-1).numpy()
        return log_probs, Encoded(state, enc.memory, enc.mask, enc.summary)

    return step


def masked_cross_entropy(logits: Tensor, targets: Tensor, lengths: Tensor) -> Tensor:
    """Mean cross-entropy over the real target tokens.

    ``L = sum_{n, t < lengths[n]} -log p(y_{n,t}) / sum_n lengths[n]``: every
    real token weighs the same, wherever it sits and however much padding its
    batch needed.

    Args:
        logits: (N, T, V); targets: (N, T) ids (anything at padding); lengths: (N,) real tokens, 1..T.
    """
    N, T, _ = check_shape("logits", logits, {"N": None, "T": None, "V": None})
    check_shape("targets", targets, {"N": N, "T": T})
    mask = lengths_mask(lengths, T)
    per_token = nn.functional.cross_entropy(
        logits.transpose(1, 2), targets.masked_fill(~mask, 0), reduction="none"
    )
    return (per_token * mask).sum() / mask.sum()


def teacher_forcing_batch(
    src: Tensor, src_lengths: Tensor, tgt: Tensor, tgt_lengths: Tensor
) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor, Tensor]]:
    """A pair batch as ``rnncourse.training.fit`` reads it: the model's inputs, then the target.

    The decoder reads ``tgt[:, :-1]`` (``<bos> y_1 ..``) and is scored on
    ``tgt[:, 1:]`` (``y_1 .. <eos>``), the target shifted by one, up to each
    row's ``tgt_lengths``: ``(src, src_lengths, tgt[:, :-1], (tgt[:, 1:], tgt_lengths))``.
    """
    return src, src_lengths, tgt[:, :-1], (tgt[:, 1:], tgt_lengths)


def pair_batches(
    pairs: Sequence[tuple[str, str]], source: PairVocabulary, target: PairVocabulary
) -> Callable[[Tensor], tuple[Tensor, Tensor, Tensor, tuple[Tensor, Tensor]]]:
    """The batch maker ``training.fit`` reads: rows (B,) of ``pairs`` -> a :func:`teacher_forcing_batch`.

    The pairs are encoded once, padded to the longest of all; each batch is
    cut to its own longest source (B, S_max) and target (B, T_max + 1), so
    that a batch of short verses does not run the network over padding.
    """
    src, src_len, tgt, tgt_len = (torch.from_numpy(a) for a in encode_pairs(pairs, source, target))

    def batch(rows: Tensor) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor, Tensor]]:
        longest_src, longest_tgt = int(src_len[rows].max()), int(tgt_len[rows].max())
        return teacher_forcing_batch(
            src[rows, :longest_src], src_len[rows], tgt[rows, : longest_tgt + 1], tgt_len[rows]
        )

    return batch


def seq2seq_loss(output: tuple[Tensor, Tensor | None], target: tuple[Tensor, Tensor]) -> Tensor:
    """:func:`masked_cross_entropy` of the model's output ``(logits, weights)`` on ``(targets, lengths)``."""
    return masked_cross_entropy(output[0], *target)


class CaptionModel(nn.Module):
    """Image features -> the first state of an LSTM decoder -> a caption, word by word.

        h_0 = tanh(W_h f + b_h),  c_0 = W_c f + b_c       (N, H) each, from features f (N, F)
        h_t, c_t = LSTM(embed(y_{t-1}), (h_{t-1}, c_{t-1}))
        logits_t = W_o h_t + b_o                           (N, V)

    The image enters once, as the initial state (Vinyals et al. 2015 fed it
    as the first input instead; either way the decoder must carry it in its
    state for the whole caption).

    Args:
        feature_size: F; vocab_size: V; embed: E; hidden: H.

    ``forward(features (N, F), tokens_in (N, T))`` -> logits (N, T, V) (teacher forcing).
    """

    def __init__(self, feature_size: int, vocab_size: int, embed: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.to_h, self.to_c = nn.Linear(feature_size, hidden), nn.Linear(feature_size, hidden)
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = recurrent_layer("lstm", embed, hidden)
        self.head = nn.Linear(hidden, vocab_size)

    def initial_state(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """(h_0, c_0), each (1, N, H), from features (N, F)."""
        return torch.tanh(self.to_h(features))[None], self.to_c(features)[None]

    def forward(self, features: Tensor, tokens_in: Tensor) -> Tensor:
        out, _ = self.lstm(self.embed(tokens_in), self.initial_state(features))
        return self.head(out)


@torch.no_grad()
def caption(
    model: CaptionModel,
    features: np.ndarray,
    vocab: PairVocabulary,
    max_len: int = 8,
    temperature: float | None = None,
    generator: torch.Generator | None = None,
) -> list[list[str]]:
    """Captions for (N, F) features, ``max_len`` tokens at most: greedy (``temperature`` None)
    or sampled at ``temperature`` with ``generator``; each cut at ``<eos>``."""
    if temperature is not None and generator is None:
        raise ValueError("sampling needs a torch.Generator")
    model.eval()
    state = model.initial_state(torch.from_numpy(features))
    token = torch.full((len(features), 1), vocab.index[BOS], dtype=torch.int64)
    rows: list[list[int]] = [[] for _ in range(len(features))]
    for _ in range(max_len):
        out, state = model.lstm(model.embed(token), state)
        logits = model.head(out[:, -1])  # (N, V)
        if temperature is None:
            token = logits.argmax(dim=-1, keepdim=True)
        else:
            assert generator is not None
            drawn = sample_next(logits, generator, temperature=temperature)
            assert isinstance(drawn, Tensor)
            token = drawn.reshape(-1, 1)
        for row, t in zip(rows, token[:, 0].tolist()):
            row.append(t)
    return [vocab.decode(row) for row in rows]


def translate(
    model: Seq2Seq,
    sources: Sequence[str],
    src_vocab: PairVocabulary,
    tgt_vocab: PairVocabulary,
    max_len: int = 30,
) -> list[list[str]]:
    """Greedy outputs of a trained ``model`` for ``sources`` (N texts), as N lists of target words
    (``<eos>`` and what follows dropped), decoded by :func:`rnncourse.scratch.decoding.greedy_search`."""
    model.eval()
    src, src_len, _, _ = encode_pairs([(s, "") for s in sources], src_vocab, tgt_vocab)
    with torch.no_grad():
        encoded = model.encode(torch.from_numpy(src), torch.from_numpy(src_len))
    tokens, _ = greedy_search(
        model.step_function(), encoded, tgt_vocab.index[BOS], tgt_vocab.index[EOS], max_len=max_len
    )
    return [tgt_vocab.decode(row.tolist()) for row in tokens]


class ConvColumns(nn.Module):
    """A small CNN that reads an image as a sequence of columns: the encoder of :class:`AttentionCaptioner`.

        a = maxpool2x2(relu(conv3x3(x))),  b = relu(conv3x3(a))         (N, C, H/2, W/2)
        memory[n, j] = W_m b[n, :, :, j] + b_m                             (N, W/2, M)

    Column j of the memory stands for the image's pixel columns 2j and 2j+1,
    and sees the eight columns 2j-3 .. 2j+4 (the second convolution works at
    half the resolution, so its reach doubles): about one 8-pixel digit. The
    decoder's attention chooses, at every word, which bands to read, as Xu et
    al. (2015) attended over a CNN's grid of regions.

    Args:
        height: H, the images' height (even, at least 2); channels: C; memory_size: M.

    ``forward(images (N, H, W))`` -> memory (N, W // 2, M).
    """

    def __init__(self, height: int, channels: int = 32, memory_size: int = 64) -> None:
        super().__init__()
        if height < 2 or height % 2:
            raise ValueError(f"the image height must be even and at least 2, got {height}")
        self.height = height
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.to_memory = nn.Linear(channels * (height // 2), memory_size)

    def forward(self, images: Tensor) -> Tensor:
        check_shape("images", images, {"N": None, "H": self.height, "W": None})
        if images.shape[2] < 2:
            raise ValueError(f"the images must be at least 2 pixels wide, got {images.shape[2]}")
        a = nn.functional.max_pool2d(torch.relu(self.conv1(images[:, None])), 2)  # (N, C, H/2, W/2)
        b = torch.relu(self.conv2(a))  # (N, C, H/2, W/2)
        columns = b.permute(0, 3, 1, 2).flatten(2)  # (N, W/2, C * H/2)
        return self.to_memory(columns)


class AttentionCaptioner(nn.Module):
    """CNN columns -> the attentive GRU :class:`Decoder` of translation -> a caption.

        memory = ConvColumns(image)                      (N, J, M), J = W // 2 columns
        s_0 = tanh(W_b mean_j memory_j + b_b)            (N, H)
        then the decoder's step: c_t = attention(s_{t-1}, memory), s_t, logits_t

    The attention weights (N, T, J) say which columns each word read. Decoding
    uses :mod:`rnncourse.scratch.decoding` through :meth:`step_function`.

    Args:
        height: the images' height; vocab_size: V; embed_size: E; hidden_size: H;
        channels, memory_size: the CNN's (see :class:`ConvColumns`).

    ``forward(images (N, height, W), tokens_in (N, T))`` -> (logits (N, T, V), weights (N, T, W // 2)).
    """

    def __init__(
        self,
        height: int,
        vocab_size: int,
        embed_size: int = 16,
        hidden_size: int = 64,
        channels: int = 16,
        memory_size: int = 32,
    ) -> None:
        super().__init__()
        self.encoder = ConvColumns(height, channels, memory_size)
        self.bridge = nn.Linear(memory_size, hidden_size)
        self.decoder = Decoder(vocab_size, embed_size, hidden_size, memory_size, "additive")

    def encode(self, images: Tensor) -> Encoded:
        """The decoder's first state, the column memory, an all-true mask and the mean column."""
        memory = self.encoder(images)
        summary = memory.mean(dim=1)
        mask = torch.ones(memory.shape[:2], dtype=torch.bool, device=memory.device)
        return Encoded(torch.tanh(self.bridge(summary)), memory, mask, summary)

    def forward(self, images: Tensor, tokens_in: Tensor) -> tuple[Tensor, Tensor | None]:
        enc = self.encode(images)
        return self.decoder(tokens_in, enc.state, enc.memory, enc.mask, enc.summary)

    def step_function(self) -> Callable[[np.ndarray, Encoded], tuple[np.ndarray, Encoded]]:
        """A step for :mod:`rnncourse.scratch.decoding` (see :func:`decoder_step_function`)."""
        return decoder_step_function(self.decoder)
