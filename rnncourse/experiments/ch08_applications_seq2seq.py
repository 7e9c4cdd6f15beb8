"""Chapter 8, sequence-to-sequence applications: translation, chatbots, captioning, music.

==============================  ===========================================================
name                            what it is for
==============================  ===========================================================
``split_in_order``              the last fraction of a list for testing, the rest for training
``RetrievalModel``              the baseline: answer with the target of the nearest source
``train_seq2seq``               chapter 7's ``Seq2Seq`` trained on word pairs
``translate``                   greedy outputs of a trained ``Seq2Seq``, as word lists
``bleu``, ``reply_diversity``   scores of a list of outputs
``icon_features``               icons as fixed features: their pixels, downsampled
``CaptionModel``                image features -> the LSTM decoder's first state -> words
``train_captioner``             teacher forcing with a masked loss
``caption``                     greedy or sampled captions
``abc_corpus``                  ABC tunes as one text, and a character bigram baseline
``piano_roll``                  notes as a (pitch, time) image
==============================  ===========================================================

Every model here is small and trains in seconds to minutes on a CPU: the
results show the ideas at work, they are far from what these tasks reach
with real data and compute.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from rnncourse.data.captions import EmojiImage, load_image
from rnncourse.data.midi import Note
from rnncourse.data.music import Tune
from rnncourse.data.pairs import BOS, EOS, PairVocabulary, encode_pairs, words
from rnncourse.evaluation.bleu import corpus_bleu
from rnncourse.models.seq2seq import Seq2Seq, masked_cross_entropy, train_step
from rnncourse.nn.sampling import sample_next
from rnncourse.scratch.decoding import greedy_search

__all__ = [
    "CaptionModel",
    "RetrievalModel",
    "abc_corpus",
    "bigram_bits_per_char",
    "bleu",
    "caption",
    "icon_features",
    "piano_roll",
    "reply_diversity",
    "split_in_order",
    "train_captioner",
    "train_seq2seq",
    "translate",
]

T = TypeVar("T")

# -- data and baselines ----------------------------------------------------------------------


def split_in_order(items: Sequence[T], test_fraction: float) -> tuple[list[T], list[T]]:
    """(train, test): the last ``test_fraction`` of ``items`` for testing, in order."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    cut = len(items) - max(1, round(test_fraction * len(items)))
    return list(items[:cut]), list(items[cut:])


class RetrievalModel:
    """Answer a source with the target of the most similar training source.

    Similarity is the cosine between bags of lower-cased words weighted by
    inverse document frequency, ``idf(w) = log(N / df(w))``, so that rare
    words count more than "the". A retrieval chatbot can only say what is in
    its training replies, but every reply is fluent and on some topic; it is
    the baseline a generative model must beat.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            raise ValueError("a retrieval model needs at least one pair")
        self.targets = [t for _, t in pairs]
        docs = [Counter(w.lower() for w in words(s)) for s, _ in pairs]
        df = Counter(w for d in docs for w in d)
        self.vocab = {w: i for i, w in enumerate(df)}
        self.idf = np.array([math.log(len(docs) / df[w]) + 1e-3 for w in self.vocab])
        self.matrix = np.stack([self._vector(d) for d in docs])  # (N, W), rows of unit length

    def _vector(self, bag: Counter[str]) -> np.ndarray:
        v = np.zeros(len(self.vocab))
        for w, n in bag.items():
            if w in self.vocab:
                v[self.vocab[w]] = n * self.idf[self.vocab[w]]
        norm = np.linalg.norm(v)
        return v / norm if norm > 0 else v

    def reply(self, source: str) -> str:
        """The target of the training source with the highest cosine (the first on ties)."""
        scores = self.matrix @ self._vector(Counter(w.lower() for w in words(source)))
        return self.targets[int(np.argmax(scores))]


def bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU in [0, 100] of word lists (``rnncourse.evaluation.bleu``, 4-grams, no smoothing)."""
    return 100 * corpus_bleu([list(h) for h in hypotheses], [list(r) for r in references])


def reply_diversity(replies: Sequence[str]) -> tuple[float, str, float]:
    """(distinct replies / replies, the most frequent reply, its share): the generic-reply measure."""
    counts = Counter(replies)
    top, n = counts.most_common(1)[0]
    return len(counts) / len(replies), top, n / len(replies)


# -- translation and generative chat: chapter 7's model ---------------------------------------


def train_seq2seq(
    pairs: Sequence[tuple[str, str]],
    epochs: int,
    embed: int = 64,
    hidden: int = 128,
    batch_size: int = 32,
    lr: float = 3e-3,
    min_count: int = 1,
    seed: int = 0,
) -> tuple[Seq2Seq, PairVocabulary, PairVocabulary, list[float]]:
    """Train ``Seq2Seq`` (additive attention) on word pairs with teacher forcing.

    Returns:
        The model, the source and target vocabularies (built from ``pairs``),
        and the mean training loss (nats per target token) of each epoch.
    """
    torch.manual_seed(seed)
    src_vocab = PairVocabulary.from_texts([s for s, _ in pairs], words, min_count)
    tgt_vocab = PairVocabulary.from_texts([t for _, t in pairs], words, min_count)
    src, src_len, tgt, tgt_len = (torch.from_numpy(a) for a in encode_pairs(pairs, src_vocab, tgt_vocab))
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embed, hidden, attention="additive")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        total = 0.0
        for batch in order.split(batch_size):
            longest_src, longest_tgt = int(src_len[batch].max()), int(tgt_len[batch].max())
            total += len(batch) * train_step(
                model,
                opt,
                src[batch, :longest_src],
                src_len[batch],
                tgt[batch, : longest_tgt + 1],
                tgt_len[batch],
            )
        losses.append(total / len(pairs))
    return model, src_vocab, tgt_vocab, losses


def translate(
    model: Seq2Seq,
    sources: Sequence[str],
    src_vocab: PairVocabulary,
    tgt_vocab: PairVocabulary,
    max_len: int = 30,
) -> list[list[str]]:
    """Greedy outputs for ``sources``, as lists of target words (``<eos>`` and after dropped)."""
    model.eval()
    dummy = [(s, "") for s in sources]
    src, src_len, _, _ = encode_pairs(dummy, src_vocab, tgt_vocab)
    with torch.no_grad():
        encoded = model.encode(torch.from_numpy(src), torch.from_numpy(src_len))
    tokens, _ = greedy_search(
        model.step_function(), encoded, tgt_vocab.index[BOS], tgt_vocab.index[EOS], max_len=max_len
    )
    return [tgt_vocab.decode(row.tolist()) for row in tokens]


# -- image captioning ------------------------------------------------------------------------


def icon_features(records: Sequence[EmojiImage], size: int = 12) -> np.ndarray:
    """Fixed image features: each icon downsampled to ``size`` x ``size`` RGB and flattened.

    Returns:
        (N, 3 * size * size) float32 in [0, 1]. No network computes them: the
        simplest fixed features, which keep the colours and the rough shape.
    """
    return np.stack([load_image(r.path, size).reshape(-1) for r in records]).astype(np.float32)


class CaptionModel(nn.Module):
    """Image features -> the first state of an LSTM decoder -> a caption, word by word.

        h_0 = tanh(W_h f + b_h),  c_0 = W_c f + b_c       (N, H) each, from features f (N, F)
        h_t, c_t = LSTM(embed(y_{t-1}), (h_{t-1}, c_{t-1}))
        logits_t = W_o h_t + b_o                           (N, V)

    The image enters once, as the initial state (Vinyals et al. 2015 fed it
    as the first input instead; either way the decoder must carry it in its
    state for the whole caption).

    ``forward(features (N, F), tokens_in (N, T))`` -> logits (N, T, V) (teacher forcing).
    """

    def __init__(self, feature_size: int, vocab_size: int, embed: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.to_h, self.to_c = nn.Linear(feature_size, hidden), nn.Linear(feature_size, hidden)
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def initial_state(self, features: Tensor) -> tuple[Tensor, Tensor]:
        return torch.tanh(self.to_h(features))[None], self.to_c(features)[None]  # (1, N, H) each

    def forward(self, features: Tensor, tokens_in: Tensor) -> Tensor:
        out, _ = self.lstm(self.embed(tokens_in), self.initial_state(features))
        return self.head(out)


def train_captioner(
    features: np.ndarray,
    captions: Sequence[str],
    epochs: int,
    hidden: int = 128,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
) -> tuple[CaptionModel, PairVocabulary, list[float]]:
    """Teacher forcing: the decoder reads ``<bos> w_1 .. w_m`` and is scored on ``w_1 .. w_m <eos>``,
    with a loss masked to the real tokens (``masked_cross_entropy``).

    Returns:
        The model, the caption vocabulary and the mean training loss of each epoch.
    """
    torch.manual_seed(seed)
    vocab = PairVocabulary.from_texts(captions, words)
    _, _, tgt, tgt_len = encode_pairs([("", c) for c in captions], vocab, vocab)
    tgt_t, len_t = torch.from_numpy(tgt), torch.from_numpy(tgt_len)
    feats = torch.from_numpy(features)
    model = CaptionModel(features.shape[1], len(vocab), hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for batch in torch.randperm(len(captions), generator=g).split(batch_size):
            longest = int(len_t[batch].max())
            tokens = tgt_t[batch, : longest + 1]
            logits = model(feats[batch], tokens[:, :-1])
            loss = masked_cross_entropy(logits, tokens[:, 1:], len_t[batch])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(batch)
        losses.append(total / len(captions))
    return model, vocab, losses


@torch.no_grad()
def caption(
    model: CaptionModel,
    features: np.ndarray,
    vocab: PairVocabulary,
    max_len: int = 8,
    temperature: float | None = None,
    generator: torch.Generator | None = None,
) -> list[list[str]]:
    """Captions for (N, F) features: greedy (``temperature`` None) or sampled at ``temperature``."""
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
            if generator is None:
                raise ValueError("sampling needs a torch.Generator")
            drawn = sample_next(logits, generator, temperature=temperature)
            assert isinstance(drawn, Tensor)
            token = drawn.reshape(-1, 1)
        for row, t in zip(rows, token[:, 0].tolist()):
            row.append(t)
    return [vocab.decode(row) for row in rows]


# -- music -------------------------------------------------------------------------------------


def abc_corpus(tunes: Sequence[Tune]) -> str:
    """The tunes' ABC texts (metre, unit length, key, melody) separated by blank lines."""
    return "\n".join(t.text() for t in tunes)


def bigram_bits_per_char(train: str, test: str) -> float:
    """Bits per character on ``test`` of a character bigram model with add-one smoothing fitted on ``train``.

    ``p(b | a) = (count(a b) + 1) / (count(a) + V)`` over the V characters of both texts:
    the baseline a recurrent character model must beat.
    """
    chars = sorted(set(train) | set(test))
    V = len(chars)
    pair = Counter(zip(train, train[1:]))
    single = Counter(train[:-1])
    total = sum(-math.log2((pair[(a, b)] + 1) / (single[a] + V)) for a, b in zip(test, test[1:]))
    return total / (len(test) - 1)


def piano_roll(notes: Sequence[Note], steps_per_beat: int = 4) -> tuple[np.ndarray, int]:
    """Notes as an image: rows are pitches (lowest first), columns time steps of 1/steps_per_beat beat.

    Returns:
        (P, S) array of 0/1 (1 where a note sounds) and the MIDI pitch of row 0.
        An empty or all-rest melody gives a (1, S) array of zeros and pitch 60.
    """
    pitches = [n.pitch for n in notes if n.pitch is not None]
    low, high = (min(pitches), max(pitches)) if pitches else (60, 60)
    length = round(sum(n.beats for n in notes) * steps_per_beat)
    roll = np.zeros((high - low + 1, max(length, 1)))
    t = 0.0
    for n in notes:
        start, stop = round(t * steps_per_beat), round((t + n.beats) * steps_per_beat)
        if n.pitch is not None:
            roll[n.pitch - low, start:stop] = 1
        t += n.beats
    return roll, low
