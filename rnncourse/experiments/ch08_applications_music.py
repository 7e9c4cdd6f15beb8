"""Chapter 8, music: a character model of ABC tunes against a character bigram baseline.

==============================  ===========================================================
name                            what it is for
==============================  ===========================================================
``abc_corpus``                  ABC tunes as one text
``bigram_bits_per_char``        the baseline: a character bigram model, add-one smoothing
``piano_roll``                  notes as a (pitch, time) image
``music_run``                   the stored run: bigrams against an LSTM(256), and a sample
==============================  ===========================================================

The model is chapter 2's ``rnncourse.models.char_lm.CharLM``, trained with
truncated BPTT (``train_tbptt``). ``python -m
rnncourse.experiments.ch08_applications_music`` makes the run too long for
the page and stores it in ``rnncourse/results/ch08_applications_music.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnncourse.data.char_stream import CharVocab
from rnncourse.data.midi import Note
from rnncourse.data.music import Tune, abc_tunes
from rnncourse.data.splits import split_in_order
from rnncourse.models.char_lm import CharLM, evaluate_nats, generate, nats_to_bits, train_tbptt

__all__ = ["abc_corpus", "bigram_bits_per_char", "music_run", "piano_roll"]

RESULT = Path(__file__).resolve().parents[1] / "results" / "ch08_applications_music.json"
SEED = 0

#: The header a stored tune is sampled from, and the sampler's settings.
MUSIC_HEADER, MUSIC_SAMPLE_SEED, MUSIC_TEMPERATURE = "M:6/8\nL:1/8\nK:D\n", 1, 0.8


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


# -- the stored run: ``python -m rnncourse.experiments.ch08_applications_music`` ---------------


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


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch08_applications_music [--quick]``: the stored run
    (its training took 73 CPU seconds on one core), written to ``RESULT``; ``--quick`` prints a short run only."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one epoch on 40 tunes, printed only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result: dict[str, Any] = {
        "command": "python -m rnncourse.experiments.ch08_applications_music",
        "seed": SEED,
        "torch": torch.__version__,
        "music": music_run(args.quick),
    }
    print("music", result["music"]["test_bpc"], flush=True)
    if args.quick:
        return
    RESULT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", RESULT, file=sys.stderr)


if __name__ == "__main__":
    main()
