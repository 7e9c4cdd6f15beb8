"""Chapter 8, captioning: digit strips that a captioner can generalise on, and emoji icons that it cannot.

==============================  ===========================================================
name                            what it is for
==============================  ===========================================================
``digit_vocabulary``            the ten digit words and the four special tokens
``train_strip_captioner``       ``AttentionCaptioner`` on strips, early stopping on exact match
``strip_captions``              greedy captions of strips
``caption_scores``              exact match and digit accuracy of captions
``nearest_strip_captions``      the baseline: the nearest training strip's caption
``strip_attention``             one strip's caption and its attention over the columns
``attention_on_digits``         how much of each word's attention falls on its own digit
``word_f1``                     word-overlap F1 of two captions (the emoji icons' score)
``icon_features``               icons as fixed features: their pixels, downsampled
``train_captioner``             ``CaptionModel`` on those features, teacher forcing
``icon_run``                    the emoji captioner trained until it fits its icons
==============================  ===========================================================

The digit strips (``rnncourse.data.digit_strips``) are split so that every
test strip shows a digit combination no training strip shows, drawn with
digit images no training strip uses: the nearest training strip's caption is
then wrong by construction, and only a model that reads each digit where it
is can be right. The emoji icons (``rnncourse.data.captions``) are the real
but hard case: one short unique name per icon. ``python -m
rnncourse.experiments.ch08_applications_captioning`` makes the stored run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnncourse.data.captions import EmojiImage, emoji_captions, load_image
from rnncourse.data.digit_strips import DIGIT_WORDS, SOURCE, Strips, strip_split
from rnncourse.data.pairs import BOS_ID, EOS_ID, PairVocabulary, encode_pairs, words
from rnncourse.data.splits import split_in_order
from rnncourse.models.seq2seq import (
    AttentionCaptioner,
    CaptionModel,
    caption,
    masked_cross_entropy,
    seq2seq_loss,
)
from rnncourse.scratch.decoding import greedy_search
from rnncourse.training import ShuffledBatches, fit

__all__ = [
    "attention_on_digits",
    "caption_scores",
    "digit_vocabulary",
    "icon_run",
    "mean_word_f1",
    "nearest_strip_captions",
    "strip_attention",
    "strip_captions",
    "train_strip_captioner",
    "word_f1",
]

RESULT = Path(__file__).resolve().parents[1] / "results" / "ch08_applications_captioning.json"
SEED = 0

#: The stored run's strips: three digits each; training, validation and test strips.
STRIP_LENGTH, STRIP_TRAIN, STRIP_VAL, STRIP_TEST = 3, 20_000, 1_000, 1_000
#: The stored run's emoji captioner: epochs and LSTM size, enough to fit the training icons.
ICON_EPOCHS, ICON_HIDDEN = 30, 256


# -- digit strips ----------------------------------------------------------------------------


def digit_vocabulary() -> PairVocabulary:
    """The captions' words: ``<pad> <unk> <bos> <eos>`` and the ten digit names."""
    return PairVocabulary.from_texts(DIGIT_WORDS, words)


def _caption_batches(strips: Strips, vocab: PairVocabulary) -> Callable[[Tensor], tuple[Any, ...]]:
    """Rows -> (images, ``<bos> w_1 .. w_k``, (``w_1 .. w_k <eos>``, lengths)) for ``fit``."""
    _, _, tgt, tgt_len = encode_pairs([("", c) for c in strips.captions], vocab, vocab)
    images, tokens, lengths = (
        torch.from_numpy(strips.images),
        torch.from_numpy(tgt),
        torch.from_numpy(tgt_len),
    )

    def batch(rows: Tensor) -> tuple[Any, ...]:
        return images[rows], tokens[rows, :-1], (tokens[rows, 1:], lengths[rows])

    return batch


def strip_captions(model: AttentionCaptioner, strips: Strips, vocab: PairVocabulary) -> list[str]:
    """Greedy captions of every strip, as strings of words."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        encoded = model.encode(torch.from_numpy(strips.images))
    tokens, _ = greedy_search(model.step_function(), encoded, BOS_ID, EOS_ID, strips.digits.shape[1] + 2)
    model.train(was_training)
    return [" ".join(vocab.decode(row)) for row in tokens.tolist()]


def caption_scores(captions: Sequence[str], strips: Strips) -> dict[str, float]:
    """Exact match (the whole caption right) and digit accuracy (word k right, over every k of every strip)."""
    if len(captions) != len(strips.captions):
        raise ValueError(f"{len(captions)} captions for {len(strips.captions)} strips")
    exact = [c == t for c, t in zip(captions, strips.captions)]
    digits = [
        sum(a == b for a, b in zip(c.split(), t.split())) / len(t.split())
        for c, t in zip(captions, strips.captions)
    ]
    return {"exact match": float(np.mean(exact)), "digit accuracy": float(np.mean(digits))}


def nearest_strip_captions(train: Strips, test: Strips) -> list[str]:
    """The baseline: the caption of the nearest training strip in pixel space (Euclidean distance)."""
    a = train.images.reshape(len(train.images), -1).astype(np.float64)
    b = test.images.reshape(len(test.images), -1).astype(np.float64)
    distances = (b**2).sum(1)[:, None] - 2 * b @ a.T + (a**2).sum(1)[None, :]
    return [train.captions[int(i)] for i in distances.argmin(axis=1)]


def train_strip_captioner(
    train: Strips,
    val: Strips,
    epochs: int,
    patience: int = 3,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
) -> tuple[AttentionCaptioner, PairVocabulary, dict[str, list[float]]]:
    """``AttentionCaptioner`` trained with teacher forcing and the masked loss, Adam, gradients clipped at 1.

    Early stopping on the validation strips' exact match (``patience`` epochs),
    best weights restored. Returns the model, the vocabulary and the curves
    (``train_loss`` per word, ``val_exact_match`` per epoch).
    """
    torch.manual_seed(seed)
    vocab = digit_vocabulary()
    model = AttentionCaptioner(train.images.shape[1], len(vocab))

    def val_exact_match(model: nn.Module) -> float:
        assert isinstance(model, AttentionCaptioner)
        return caption_scores(strip_captions(model, val, vocab), val)["exact match"]

    history = fit(
        model,
        ShuffledBatches(
            len(train.captions),
            batch_size,
            _caption_batches(train, vocab),
            torch.Generator().manual_seed(seed),
        ),
        None,
        seq2seq_loss,
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs,
        clip_norm=1.0,
        patience=patience,
        progress=False,
        seed=None,
        metrics={"val exact match": val_exact_match},
        monitor="val exact match",
        mode="max",
    )
    model.eval()
    return (
        model,
        vocab,
        {"train_loss": history.train_loss, "val_exact_match": history.metrics["val exact match"]},
    )


def strip_attention(
    model: AttentionCaptioner, image: np.ndarray, vocab: PairVocabulary
) -> tuple[list[str], np.ndarray]:
    """The greedy caption of one strip (H, W) and its attention weights, (words + 1, W // 2): a row per output token
    (the last row is ``<eos>``'s), a column per image column pair; each row sums to 1."""
    model.eval()
    with torch.no_grad():
        encoded = model.encode(torch.from_numpy(image)[None])
        tokens, _ = greedy_search(model.step_function(), encoded, BOS_ID, EOS_ID, image.shape[1] // 8 + 2)
        row = tokens[0].tolist()
        length = row.index(EOS_ID) + 1 if EOS_ID in row else len(row)
        _, weights = model(torch.from_numpy(image)[None], torch.tensor([[BOS_ID, *row[: length - 1]]]))
    assert weights is not None
    return [*vocab.decode(row), "<eos>"], weights[0].numpy()


def attention_on_digits(model: AttentionCaptioner, strips: Strips, vocab: PairVocabulary) -> float:
    """The mean attention weight that word k of the true caption puts on the columns of digit k.

    Teacher forcing on the true captions gives weights (N, k + 1, J) over the
    J = 4k memory columns, four per 8-pixel digit; the share of word k on
    columns 4k .. 4k + 3, averaged over the k words and the N strips. Uniform
    attention would give 1 / k.
    """
    _, _, tgt, _ = encode_pairs([("", c) for c in strips.captions], vocab, vocab)
    k = strips.digits.shape[1]
    model.eval()
    with torch.no_grad():
        _, weights = model(torch.from_numpy(strips.images), torch.from_numpy(tgt[:, :k]))
    assert weights is not None
    per_digit = weights.reshape(len(tgt), k, k, -1).sum(
        -1
    )  # (N, word, digit): weight on each digit's columns
    return float(per_digit.diagonal(dim1=1, dim2=2).mean())


# -- emoji icons, the real but hard case -------------------------------------------------------


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
    with a loss masked to the real tokens (``masked_cross_entropy``); Adam, gradient norm clipped
    at 1, no validation (the last weights are kept).

    Args:
        features: (N, F) float32 image features; captions: N texts.

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
    history = fit(
        model,
        batches,
        None,
        _caption_loss,
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs,
        clip_norm=1.0,
        progress=False,
        seed=None,
        restore_best=False,
    )
    return model, vocab, history.train_loss


def word_f1(hypothesis: Sequence[str], reference: Sequence[str]) -> float:
    """Overlap of two bags of words: ``2 * common / (|h| + |r|)``; 0 for nothing in common."""
    common = sum((Counter(hypothesis) & Counter(reference)).values())
    return 2 * common / (len(hypothesis) + len(reference)) if common else 0.0


def mean_word_f1(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """The mean of :func:`word_f1` over pairs of captions."""
    return float(np.mean([word_f1(h, r) for h, r in zip(hypotheses, references, strict=True)]))


def icon_run(epochs: int, hidden: int, seed: int = SEED, limit: int | None = None) -> dict[str, Any]:
    """The emoji captioner (pixel features -> LSTM decoder) against the nearest training icon.

    The icons are shuffled with ``seed`` and the last 10% kept for testing;
    the captioner trains ``epochs`` epochs (no early stopping: the point is to
    see it fit its own icons) and is scored by word-overlap F1 on its training
    icons and on the test icons, greedy decoding.
    """
    start = time.process_time()
    icons = emoji_captions()
    order = np.random.default_rng(seed).permutation(len(icons))
    icons = [icons[i] for i in order][:limit]
    train, test = split_in_order(icons, 0.1)
    f_train, f_test = icon_features(train), icon_features(test)
    # standardised with the training icons' statistics: raw pixels are mostly the same white
    # background, and icons that start the decoder from near-identical states are hard to tell apart
    mean, std = f_train.mean(axis=0), f_train.std(axis=0) + 1e-3
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    distances = ((f_test[:, None, :] - f_train[None, :, :]) ** 2).sum(axis=2)
    nearest = [words(train[i].caption) for i in distances.argmin(axis=1)]
    model, vocab, losses = train_captioner(
        f_train, [r.caption for r in train], epochs, hidden=hidden, seed=seed
    )
    train_refs, test_refs = [words(r.caption) for r in train], [words(r.caption) for r in test]
    on_train, on_test = caption(model, f_train, vocab), caption(model, f_test, vocab)
    return {
        "icons": {"train": len(train), "test": len(test)},
        "epochs": epochs,
        "hidden": hidden,
        "train_loss": [round(v, 4) for v in losses],
        "word_f1": {
            "nearest icon, test": mean_word_f1(nearest, test_refs),
            "captioner, training icons": mean_word_f1(on_train, train_refs),
            "captioner, test": mean_word_f1(on_test, test_refs),
        },
        "exact match": {
            "captioner, training icons": float(np.mean([h == r for h, r in zip(on_train, train_refs)])),
            "captioner, test": float(np.mean([h == r for h, r in zip(on_test, test_refs)])),
        },
        "examples": [
            {"name": r.caption, "captioner": " ".join(h), "nearest": " ".join(n)}
            for r, h, n in list(zip(test, on_test, nearest))[:8]
        ],
        "cpu_seconds": round(time.process_time() - start, 1),
    }


# -- the stored run --------------------------------------------------------------------------


def strip_run(train_count: int, epochs: int, seed: int = SEED) -> dict[str, Any]:
    """Strips of :data:`STRIP_LENGTH` digits: the captioner against the nearest training strip, on the test strips."""
    start = time.process_time()
    train, val, test = strip_split(STRIP_LENGTH, train_count, STRIP_TEST, seed, val_count=STRIP_VAL)
    model, vocab, curves = train_strip_captioner(train, val, epochs, seed=seed)
    captions, nearest = strip_captions(model, test, vocab), nearest_strip_captions(train, test)
    shown, weights = strip_attention(model, test.images[0], vocab)
    return {
        "strips": {"length": STRIP_LENGTH, "train": train_count, "val": STRIP_VAL, "test": STRIP_TEST},
        "split": (
            "the digit images split 70/30 and the 1,000 three-digit combinations 80/20 at random; "
            "training and validation strips use training images and combinations, test strips "
            "the others"
        ),
        "epochs_run": len(curves["train_loss"]),
        "train_loss": [round(v, 4) for v in curves["train_loss"]],
        "val_exact_match": curves["val_exact_match"],
        "test": {"captioner": caption_scores(captions, test), "nearest strip": caption_scores(nearest, test)},
        "attention on the word's digit": attention_on_digits(model, test, vocab),
        "examples": [
            {"caption": t, "captioner": c, "nearest": n}
            for t, c, n in list(zip(test.captions, captions, nearest))[:8]
        ],
        "attention": {"words": shown, "weights": np.round(weights, 4).tolist()},
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def stored_run(quick: bool = False) -> dict[str, Any]:
    """Both runs, written to ``RESULT`` (``quick``: a few strips and icons, printed only)."""
    result: dict[str, Any] = {
        "command": "python -m rnncourse.experiments.ch08_applications_captioning",
        "seed": SEED,
        "torch": torch.__version__,
        "digits_data": SOURCE,
    }
    result["strips"] = strip_run(500 if quick else STRIP_TRAIN, 1 if quick else 30)
    print("strips", result["strips"]["test"], result["strips"]["cpu_seconds"], flush=True)
    result["icons"] = icon_run(1 if quick else ICON_EPOCHS, ICON_HIDDEN, limit=200 if quick else None)
    print("icons", result["icons"]["word_f1"], result["icons"]["cpu_seconds"], flush=True)
    if not quick:
        RESULT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print("wrote", RESULT, file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch08_applications_captioning [--quick]``: the stored run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few strips and icons, one epoch, print only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    stored_run(args.quick)


if __name__ == "__main__":
    main()
