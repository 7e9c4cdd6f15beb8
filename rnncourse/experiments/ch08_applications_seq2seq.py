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
``train_captioner``             ``rnncourse.models.seq2seq.CaptionModel``, teacher forcing
``abc_corpus``                  ABC tunes as one text, and a character bigram baseline
``piano_roll``                  notes as a (pitch, time) image
==============================  ===========================================================

Every model here is small and trains in seconds to minutes on a CPU: the
results show the ideas at work, they are far from what these tasks reach
with real data and compute. The models are ``rnncourse.models``' (``seq2seq``:
``Seq2Seq``, ``CaptionModel``; ``char_lm``: ``CharLM``), trained with
``rnncourse.training.fit``. ``python -m rnncourse.experiments.ch08_applications_seq2seq``
makes the runs too long for the page.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from rnncourse.data.captions import EmojiImage, load_image
from rnncourse.data.char_stream import CharVocab
from rnncourse.data.dialogue import dialogue_pairs
from rnncourse.data.midi import Note
from rnncourse.data.music import Tune, abc_tunes
from rnncourse.data.pairs import BOS, EOS, PairVocabulary, bible_pairs, encode_pairs, words
from rnncourse.evaluation.bleu import corpus_bleu
from rnncourse.models.char_lm import CharLM, evaluate_nats, generate, nats_to_bits, train_tbptt
from rnncourse.models.seq2seq import (
    CaptionModel,
    Seq2Seq,
    masked_cross_entropy,
    seq2seq_loss,
    teacher_forcing_batch,
)
from rnncourse.scratch.decoding import greedy_search
from rnncourse.training import ShuffledBatches, fit

__all__ = [
    "RetrievalModel",
    "abc_corpus",
    "bigram_bits_per_char",
    "bleu",
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


def _teacher_forced(
    model: nn.Module,
    batches: ShuffledBatches,
    loss_fn: Callable[[Any, Any], Tensor],
    lr: float,
    epochs: int,
) -> list[float]:
    """Adam with the gradient norm clipped at 1 for ``epochs`` passes over ``batches``; each epoch's mean loss.

    ``rnncourse.training.fit`` without validation: the last weights are kept.
    """
    history = fit(
        model,
        batches,
        None,
        loss_fn,
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs,
        clip_norm=1.0,
        progress=False,
        seed=None,
        restore_best=False,
    )
    return history.train_loss


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

    def trimmed(rows: Tensor) -> tuple[Any, ...]:
        """The pairs ``rows``, cut to their longest source and target."""
        longest_src, longest_tgt = int(src_len[rows].max()), int(tgt_len[rows].max())
        return teacher_forcing_batch(
            src[rows, :longest_src], src_len[rows], tgt[rows, : longest_tgt + 1], tgt_len[rows]
        )

    batches = ShuffledBatches(len(pairs), batch_size, trimmed, torch.Generator().manual_seed(seed))
    losses = _teacher_forced(model, batches, seq2seq_loss, lr, epochs)
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


def _caption_loss(logits: Tensor, target: tuple[Tensor, Tensor]) -> Tensor:
    """:func:`masked_cross_entropy` of a caption's logits on (words, lengths)."""
    return masked_cross_entropy(logits, *target)


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

    def trimmed(rows: Tensor) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
        """The captions ``rows`` cut to their longest: features, ``<bos> w_1 ..`` and (``w_1 .. <eos>``, lengths)."""
        tokens = tgt_t[rows, : int(len_t[rows].max()) + 1]
        return feats[rows], tokens[:, :-1], (tokens[:, 1:], len_t[rows])

    batches = ShuffledBatches(len(captions), batch_size, trimmed, torch.Generator().manual_seed(seed))
    losses = _teacher_forced(model, batches, _caption_loss, lr, epochs)
    return model, vocab, losses


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


# -- the stored runs: ``python -m rnncourse.experiments.ch08_applications_seq2seq`` -----------

RESULT = Path(__file__).resolve().parents[1] / "results" / "ch08_applications_seq2seq.json"
SEED = 0


def pair_task(pairs: Sequence[tuple[str, str]], epochs: int) -> dict[str, Any]:
    """Retrieval against ``Seq2Seq`` on pairs, the last 10% for testing: BLEU, diversity, examples."""
    train, test = split_in_order(pairs, 0.1)
    references = [words(t) for _, t in test]
    retrieval = RetrievalModel(train)
    retrieved = [retrieval.reply(s) for s, _ in test]
    start = time.process_time()
    model, src_vocab, tgt_vocab, losses = train_seq2seq(train, epochs=epochs, seed=SEED)
    generated = translate(model, [s for s, _ in test], src_vocab, tgt_vocab)
    generated_text = [" ".join(g) for g in generated]
    return {
        "pairs": {"train": len(train), "test": len(test)},
        "vocabulary": {"source": len(src_vocab), "target": len(tgt_vocab)},
        "epochs": epochs,
        "train_loss": [round(v, 4) for v in losses],
        "bleu": {
            "retrieval": round(bleu([words(r) for r in retrieved], references), 2),
            "seq2seq": round(bleu(generated, references), 2),
        },
        "diversity": {"retrieval": reply_diversity(retrieved), "seq2seq": reply_diversity(generated_text)},
        "examples": [
            {"source": s, "reference": t, "retrieval": r, "seq2seq": g}
            for (s, t), r, g in list(zip(test, retrieved, generated_text))[:8]
        ],
        "cpu_seconds": round(time.process_time() - start, 1),
    }


#: The header a stored tune is sampled from, and the sampler's settings.
MUSIC_HEADER, MUSIC_SAMPLE_SEED, MUSIC_TEMPERATURE = "M:6/8\nL:1/8\nK:D\n", 1, 0.8


def music_run(quick: bool = False) -> dict[str, Any]:
    """O'Neill's tunes, the last 10% for testing: character bigrams against an LSTM(256),
    and a tune sampled from the trained LSTM (seeded) for the page to show and play."""
    tunes = abc_tunes("oneills1850")[: 40 if quick else None]
    train_tunes, test_tunes = split_in_order(tunes, 0.1)
    train_text, test_text = abc_corpus(train_tunes), abc_corpus(test_tunes)
    vocab = CharVocab.build(train_text + test_text)
    torch.manual_seed(SEED)
    lm = CharLM(vocab.size, 256, kind="lstm", embedding_dim=32)
    start = time.process_time()
    music_epochs = 1 if quick else 6
    history = train_tbptt(lm, vocab.encode(train_text), batch_size=32, k=64, epochs=music_epochs, lr=3e-3)
    sample = generate(
        lm, vocab, MUSIC_HEADER, 400, torch.Generator().manual_seed(MUSIC_SAMPLE_SEED), MUSIC_TEMPERATURE
    )
    return {
        "data": f"music21 10.5.1 corpus, oneills1850: {len(train_tunes)} tunes train, {len(test_tunes)} test",
        "characters": {"train": len(train_text), "test": len(test_text)},
        "model": "char_lm.CharLM(V, 256, 'lstm', embedding_dim=32), truncated BPTT B=32 k=64, Adam 3e-3",
        "epochs": music_epochs,
        "test_bpc": {
            "bigram": round(bigram_bits_per_char(train_text, test_text), 4),
            "lstm": round(nats_to_bits(evaluate_nats(lm, vocab.encode(test_text), 16, 64)), 4),
        },
        "train_loss_every_50": [round(v, 4) for v in history.step_loss[::50]],
        "sample": {
            "header": MUSIC_HEADER,
            "seed": MUSIC_SAMPLE_SEED,
            "temperature": MUSIC_TEMPERATURE,
            "text": sample,
        },
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def stored_runs(quick: bool = False) -> None:
    """The runs too long for the page (about 10 minutes on one core), written to ``RESULT``.

    * ``translation``: English -> French Bible verses of up to 15 words
      (``rnncourse.data.pairs.bible_pairs``), the last 10% for testing; retrieval
      baseline against chapter 7's ``Seq2Seq`` with attention, corpus BLEU.
    * ``chat``: the chatterbot-corpus pairs (``rnncourse.data.dialogue``), the
      last 10% for testing; retrieval against ``Seq2Seq``: BLEU against the
      reference replies, and how many distinct replies each gives.
    * ``music``: O'Neill's tunes as ABC text (``rnncourse.data.music``), the
      last 10% for testing; a character bigram baseline against an LSTM
      (``rnncourse.models.char_lm``) trained with truncated BPTT.
    * ``checks``: short runs the pages repeat, to show that they agree.

    ``quick``: one epoch on a few pairs and tunes, printed only.
    """
    epochs = 1 if quick else 15
    limit = 200 if quick else None
    result: dict[str, Any] = {
        "command": "python -m rnncourse.experiments.ch08_applications_seq2seq",
        "seed": SEED,
        "torch": torch.__version__,
    }

    bible = bible_pairs(max_words=15)[:limit]
    result["translation"] = {
        "data": "bible_pairs(max_words=15): WEB English -> Louis Segond French",
        **pair_task(bible, epochs),
    }
    print("translation", result["translation"]["bleu"], flush=True)
    chat = dialogue_pairs()[:limit]
    result["chat"] = {"data": "chatterbot-corpus 1.3.3, every English topic", **pair_task(chat, epochs)}
    print("chat", result["chat"]["bleu"], result["chat"]["diversity"], flush=True)

    result["music"] = music_run(quick)
    print("music", result["music"]["test_bpc"], flush=True)

    # the short runs the page repeats
    _, _, _, bible_check = train_seq2seq(bible[:300], epochs=2, seed=SEED)
    _, _, _, chat_check = train_seq2seq(chat[:300], epochs=2, seed=SEED)
    result["checks"] = {"translation_300_pairs_2_epochs": bible_check, "chat_300_pairs_2_epochs": chat_check}
    if quick:
        print(result["checks"])
        return
    RESULT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", RESULT, file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch08_applications_seq2seq [--quick]``: the stored runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one epoch on a few pairs and tunes, print only")
    parser.add_argument(
        "--music-only", action="store_true", help="redo only the music run, keep the rest of the stored file"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.music_only:
        result = json.loads(RESULT.read_text(encoding="utf-8"))
        result["music"] = music_run(args.quick)
        print("music", result["music"]["test_bpc"], flush=True)
        if not args.quick:
            RESULT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print("wrote", RESULT, file=sys.stderr)
        return
    stored_runs(args.quick)


if __name__ == "__main__":
    main()
