"""Chapter 8, sequence to sequence: the runs too long for the page, stored in
``rnncourse/results/ch08_applications_seq2seq.json``.

    .venv/bin/python bench/ch08_applications_seq2seq.py           # ~10 minutes on one core
    .venv/bin/python bench/ch08_applications_seq2seq.py --quick   # a smoke run, nothing stored

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
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from rnncourse.data.char_stream import CharVocab
from rnncourse.data.dialogue import dialogue_pairs
from rnncourse.data.music import abc_tunes
from rnncourse.data.pairs import bible_pairs, words
from rnncourse.experiments.ch08_applications_seq2seq import (
    RetrievalModel,
    abc_corpus,
    bigram_bits_per_char,
    bleu,
    reply_diversity,
    split_in_order,
    train_seq2seq,
    translate,
)
from rnncourse.models.char_lm import CharLM, evaluate_nats, nats_to_bits, train_tbptt

OUT = Path(__file__).resolve().parents[1] / "rnncourse" / "results" / "ch08_applications_seq2seq.json"
SEED = 0


def pair_task(pairs, epochs: int) -> dict:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    epochs = 1 if args.quick else 15
    limit = 200 if args.quick else None
    result: dict = {
        "command": "python bench/ch08_applications_seq2seq.py",
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

    tunes = abc_tunes("oneills1850")[: 40 if args.quick else None]
    train_tunes, test_tunes = split_in_order(tunes, 0.1)
    train_text, test_text = abc_corpus(train_tunes), abc_corpus(test_tunes)
    vocab = CharVocab.build(train_text + test_text)
    torch.manual_seed(SEED)
    lm = CharLM(vocab.size, 256, kind="lstm", embedding_dim=32)
    start = time.process_time()
    history = train_tbptt(
        lm, vocab.encode(train_text), batch_size=32, k=64, epochs=1 if args.quick else 6, lr=3e-3
    )
    result["music"] = {
        "data": f"music21 10.5.1 corpus, oneills1850: {len(train_tunes)} tunes train, {len(test_tunes)} test",
        "characters": {"train": len(train_text), "test": len(test_text)},
        "model": "char_lm.CharLM(V, 256, 'lstm', embedding_dim=32), truncated BPTT B=32 k=64, Adam 3e-3",
        "epochs": 1 if args.quick else 6,
        "test_bpc": {
            "bigram": round(bigram_bits_per_char(train_text, test_text), 4),
            "lstm": round(nats_to_bits(evaluate_nats(lm, vocab.encode(test_text), 16, 64)), 4),
        },
        "train_loss_every_50": [round(v, 4) for v in history.losses[::50]],
        "cpu_seconds": round(time.process_time() - start, 1),
    }
    print("music", result["music"]["test_bpc"], flush=True)

    # the short runs the page repeats
    _, _, _, bible_check = train_seq2seq(bible[:300], epochs=2, seed=SEED)
    _, _, _, chat_check = train_seq2seq(chat[:300], epochs=2, seed=SEED)
    result["checks"] = {"translation_300_pairs_2_epochs": bible_check, "chat_300_pairs_2_epochs": chat_check}
    if args.quick:
        print(result["checks"])
        return
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
