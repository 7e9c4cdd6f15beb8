"""Chapter 3's experiments: the adding problem for RNN, LSTM and GRU; exploding gradients and clipping.

``python -m rnncourse.experiments.ch03_vanishing rerun`` is the short rerun the
page does; ``python -m rnncourse.experiments.ch03_vanishing adding`` makes the
full table, ``rnncourse/results/ch03_vanishing_adding.json``.

The model is ``rnncourse.models.sequence.SequenceModel`` (one recurrent layer,
a linear read-out of the last state); every run trains with
``rnncourse.training.fit`` on a ``FreshBatches`` stream.

Every run is seeded: data from ``rnncourse.data.adding`` (the training
batches from ``seed``, a fixed test set from ``TEST_SEED``), weights from
``torch.manual_seed(seed)``. Training is chaotic enough that the low bits of
the numbers depend on the CPU (OpenBLAS picks its kernels by CPU), so callers
compare against thresholds, never exact values.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnncourse.data.adding import BASELINE_MSE, SOLVED_MSE, adding_problem_torch
from rnncourse.initialisation import Scheme, init_recurrent_
from rnncourse.kinds import Kind
from rnncourse.models.sequence import SequenceModel
from rnncourse.training import FreshBatches, fit_steps

TEST_SEED = 12345
TEST_SIZE = 500


@dataclass
class AddingRun:
    """One training run on the adding problem and what it measured."""

    kind: str
    length: int
    hidden_size: int
    seed: int
    init: str
    lr: float
    batch_size: int
    max_steps: int
    clip: float | None
    steps: list[int] = field(default_factory=list)  # where the test MSE was measured
    test_mse: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # global gradient norm before clipping
    step_loss: list[float] = field(default_factory=list)  # training loss of every step's batch
    solved_at: int | None = None  # first evaluation step with test MSE < SOLVED_MSE
    final_mse: float = float("nan")
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_model(kind: Kind, hidden_size: int, seed: int, init: Scheme = "default") -> SequenceModel:
    """The model (N, T, 2) -> (N, 1) with torch's initialisation drawn from ``seed``, then W_hh set by ``init``."""
    torch.manual_seed(seed)
    model = SequenceModel(kind, 2, hidden_size)
    if init != "default":
        init_recurrent_(model.rnn, init, seed=seed, zero_bias=(init == "identity"))
    return model


def _mse(prediction: Tensor, target: Tensor) -> Tensor:
    return nn.functional.mse_loss(prediction, target)


def _adding_batches(batch_size: int, length: int, seed: int) -> FreshBatches:
    """Fresh batches of the adding problem: batch k from seed ``seed * 1_000_003 + k``."""
    return FreshBatches(lambda step: adding_problem_torch(batch_size, length, seed * 1_000_003 + step))


def train_adding(
    kind: Kind,
    length: int,
    hidden_size: int = 32,
    max_steps: int = 1000,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
    init: Scheme = "default",
    clip: float | None = 1.0,
    eval_every: int = 50,
    stop_at: float | None = None,
    recurrent_weight: np.ndarray | None = None,
    zero_bias: bool = False,
) -> AddingRun:
    """Train with Adam on fresh batches of the adding problem; measure the test MSE as it goes.

    Args:
        kind: the cell.
        length: T.
        hidden_size: H.
        max_steps: the budget of optimiser steps.
        batch_size: sequences per step, each batch drawn fresh (seed ``seed * 1_000_003 + step``).
        lr: Adam's learning rate.
        seed: weights and training data.
        init: the recurrent matrix's initialisation (``rnncourse.initialisation``).
        clip: global-norm clipping threshold, or None for none.
        eval_every: steps between test-MSE measurements (on ``TEST_SIZE`` sequences),
            from step 0 (before training) to ``max_steps``.
        stop_at: stop at the first evaluation with test MSE below this (None: run the budget).
        recurrent_weight: (G H, H) or (H, H) W_hh to start from instead (e.g. an exercise's own
            initialisation); (H, H) is repeated for every gate.
        zero_bias: set every bias of the recurrent layer to 0 (the IRNN's recipe).

    Returns:
        The run, with its curve; ``final_mse`` is the last measured test MSE.
    """
    started = time.process_time()
    model = make_model(kind, hidden_size, seed, init)
    parameters = dict(model.rnn.named_parameters())
    with torch.no_grad():
        if recurrent_weight is not None:
            W = parameters["weight_hh_l0"]
            block = torch.as_tensor(np.asarray(recurrent_weight), dtype=W.dtype)
            W.copy_(block.repeat(W.shape[0] // block.shape[0], 1))
        if zero_bias:
            parameters["bias_ih_l0"].zero_()
            parameters["bias_hh_l0"].zero_()
    x_test, y_test = adding_problem_torch(TEST_SIZE, length, TEST_SEED)
    run = AddingRun(kind, length, hidden_size, seed, init, lr, batch_size, max_steps, clip)

    def test_mse(model: nn.Module) -> float:
        with torch.no_grad():
            return float(_mse(model(x_test), y_test))

    def done(mse: float) -> bool:
        return (stop_at is not None and mse < stop_at) or not math.isfinite(mse)

    run.steps, run.test_mse = [0], [test_mse(model)]
    if max_steps > 0 and not done(run.test_mse[0]):
        history = fit_steps(
            model,
            _adding_batches(batch_size, length, seed),
            _mse,
            torch.optim.Adam(model.parameters(), lr=lr),
            max_steps,
            eval_every,
            {"test_mse": test_mse},
            clip_norm=clip,
            stop=lambda history: done(history.metrics["test_mse"][-1]),
        )
        run.steps += history.steps
        run.test_mse += history.metrics["test_mse"]
        run.grad_norm = history.grad_norm
        run.step_loss = history.step_loss
    run.solved_at = next((s for s, mse in zip(run.steps, run.test_mse) if mse < SOLVED_MSE), None)
    run.final_mse = run.test_mse[-1]
    run.seconds = time.process_time() - started
    return run


def input_gradient_norms(
    kind: Kind, init: Scheme = "default", length: int = 100, hidden_size: int = 32, seed: int = 0
) -> np.ndarray:
    """||dL/dx_t|| for t = 1..T of a fresh (untrained) model on one adding batch: (T,).

    L is the batch's MSE; the norm runs over the batch and both input channels.
    An input whose gradient is 1e-10 of the last one's cannot be learned from,
    whatever the optimiser does with it.
    """
    model = make_model(kind, hidden_size, seed, init)
    x, y = adding_problem_torch(64, length, seed)
    x.requires_grad_(True)
    nn.functional.mse_loss(model(x), y).backward()
    assert x.grad is not None
    return np.asarray(x.grad.norm(dim=(0, 2)).numpy(), dtype=np.float64)


def exploding_run(
    clip: float | None,
    steps: int = 300,
    length: int = 50,
    hidden_size: int = 32,
    gain: float = 1.0,
    lr: float = 3e-3,
    seed: int = 0,
) -> dict[str, Any]:
    """Plain SGD on the adding problem with a ReLU RNN whose W_hh starts at ``gain`` I (an IRNN).

    A ReLU state is not bounded, and with W_hh near the identity a step that
    pushes the largest singular value above 1 makes both the forward pass and
    the gradient grow like sigma^T: without clipping, a few unlucky updates
    feed each other until the loss is inf, then NaN. With clipping the same
    run stays finite.

    Returns:
        ``{"loss": [...], "grad_norm": [...], "first_nonfinite": step or None}``, one
        entry per step (a non-finite loss ends the run).
    """
    torch.manual_seed(seed)
    model = SequenceModel("rnn_relu", 2, hidden_size)
    init_recurrent_(model.rnn, "identity", seed=seed, gain=gain, zero_bias=True)
    history = fit_steps(
        model,
        _adding_batches(64, length, seed),
        _mse,
        torch.optim.SGD(model.parameters(), lr=lr),
        steps,
        steps,
        clip_norm=clip,
    )
    first_nonfinite = len(history.step_loss) - 1 if history.diverged else None
    return {"loss": history.step_loss, "grad_norm": history.grad_norm, "first_nonfinite": first_nonfinite}


def summarise_adding(runs: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (row, T): how many seeds solved it, the median final test MSE, the median step of solving.

    Args:
        runs: the ``runs`` of a stored result (``rnncourse.results.load("ch03_vanishing_adding")``).

    Returns:
        (row, T) -> {"solved": int, "seeds": int, "median_mse": float, "median_solved_at": float | None}.
    """
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["row"], run["length"]), []).append(run)
    summary = {}
    for key, group in groups.items():
        solved = [run["solved_at"] for run in group if run["solved_at"] is not None]
        summary[key] = {
            "solved": len(solved),
            "seeds": len(group),
            "median_mse": float(np.median([run["final_mse"] for run in group])),
            "median_solved_at": float(np.median(solved)) if solved else None,
        }
    return summary


def format_adding_table(summary: dict[tuple[str, int], dict[str, Any]]) -> str:
    """The summary as a text table: one row per model, one column per T, "solved/seeds  median MSE"."""
    rows = list(dict.fromkeys(row for row, _ in summary))
    lengths = sorted({length for _, length in summary})
    header = f"{'model':28s}" + "".join(f"{'T = ' + str(T):>22s}" for T in lengths)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = []
        for T in lengths:
            entry = summary.get((row, T))
            if entry is None:
                cells.append(f"{'':>22s}")
                continue
            at = "" if entry["median_solved_at"] is None else f" @{entry['median_solved_at']:.0f}"
            text = f"{entry['solved']}/{entry['seeds']} {entry['median_mse']:.3f}{at}"
            cells.append(f"{text:>22s}")
        lines.append(f"{row:28s}" + "".join(cells))
    return "\n".join(lines)


def baseline_mse() -> float:
    """The MSE of predicting 1 on the test set (about ``BASELINE_MSE`` = 1/6)."""
    _, y_test = adding_problem_torch(TEST_SIZE, 10, TEST_SEED)
    return float(np.mean((y_test.numpy() - 1.0) ** 2))


# -- the stored table: every cell at four lengths, and the vanilla RNN's remedies ----------

RESULT = Path(__file__).resolve().parents[1] / "results" / "ch03_vanishing_adding.json"
PARTIAL = Path("/tmp/ch03_vanishing_adding.partial.jsonl")
LENGTHS = (10, 50, 100, 200)
SEEDS = (0, 1)
HIDDEN = 32
BATCH = 64
MAX_STEPS = 2000
EVAL_EVERY = 50
STOP_AT = 0.005
CLIP = 1.0

# (row name, cell, initialisation, learning rate)
CELLS: tuple[tuple[str, Kind, Scheme, float], ...] = (
    ("tanh RNN", "rnn_tanh", "default", 1e-2),
    ("LSTM", "lstm", "default", 1e-2),
    ("GRU", "gru", "default", 1e-2),
)
REMEDIES: tuple[tuple[str, Kind, Scheme, float], ...] = (
    ("tanh RNN, orthogonal W_hh", "rnn_tanh", "orthogonal", 1e-2),
    ("IRNN (ReLU, W_hh = I)", "rnn_relu", "identity", 1e-3),
)
REMEDY_LENGTHS = (50, 100)


def _done() -> dict[tuple[str, int, int], dict[str, Any]]:
    """The runs an interrupted table left in ``PARTIAL``, by (row, T, seed)."""
    if not PARTIAL.exists():
        return {}
    records = [json.loads(line) for line in PARTIAL.read_text().splitlines() if line.strip()]
    return {(r["row"], r["length"], r["seed"]): r for r in records}


def run_rows(
    rows: tuple[tuple[str, Kind, Scheme, float], ...],
    lengths: tuple[int, ...],
    seeds: tuple[int, ...],
    budget: int,
) -> list[dict[str, Any]]:
    """``train_adding`` for every row, length and seed (skipping those already in ``PARTIAL``)."""
    results = []
    done = _done()
    for name, kind, init, lr in rows:
        for length in lengths:
            for seed in seeds:
                if (name, length, seed) in done and done[(name, length, seed)]["max_steps"] == budget:
                    results.append(done[(name, length, seed)])
                    continue
                run = train_adding(
                    kind,
                    length,
                    hidden_size=HIDDEN,
                    max_steps=budget,
                    batch_size=BATCH,
                    lr=lr,
                    seed=seed,
                    init=init,
                    clip=CLIP,
                    eval_every=EVAL_EVERY,
                    stop_at=STOP_AT,
                )
                record = {"row": name} | run.as_dict()
                for per_step in ("grad_norm", "step_loss"):  # one per step: too long to store, not shown
                    record.pop(per_step)
                results.append(record)
                with PARTIAL.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                solved = "-" if run.solved_at is None else run.solved_at
                print(
                    f"{name:28s} T={length:3d} seed={seed} mse={run.final_mse:.4f} solved_at={solved} {run.seconds:.0f}s",
                    flush=True,
                )
    return results


def adding_table(quick: bool = False, fresh: bool = False) -> None:
    """The full table (about 10 to 15 minutes of CPU time on one core), written to ``RESULT``.

    Every run: one recurrent layer of 32 units and a linear read-out of the last
    state, Adam, fresh batches of 64 sequences per step, gradient clipping at
    global norm 1, a budget of 2,000 steps, the test MSE on 500 fixed sequences
    every 50 steps, stopped early once it falls below 0.005. Two seeds per row
    (weights and training data). "Solved" means a test MSE below 0.01, against
    the 1/6 of always predicting 1 (``rnncourse.data.adding``). Two tables: the
    three cells at the four lengths with torch's default initialisation, and
    the remedies for the vanilla RNN (orthogonal W_hh; the IRNN, ReLU units
    with W_hh = I and zero biases, at a learning rate of 1e-3 as it needs a
    smaller one) at T = 50 and 100.

    Each finished run is appended to ``PARTIAL`` and a rerun skips the runs
    found there, so an interrupted run can resume (``fresh`` starts over).
    ``quick``: one seed, 200 steps, T = 10 and 50, printed only: a smoke test.
    """
    if fresh:
        PARTIAL.unlink(missing_ok=True)
    started = time.process_time()
    seeds = SEEDS[:1] if quick else SEEDS
    budget = 200 if quick else MAX_STEPS
    runs = run_rows(CELLS, (10, 50) if quick else LENGTHS, seeds, budget)
    runs += run_rows(REMEDIES, (50,) if quick else REMEDY_LENGTHS, seeds, budget)
    seconds = time.process_time() - started
    print(f"CPU time {seconds:.0f} s")
    if quick:
        return
    result = {
        "command": "python -m rnncourse.experiments.ch03_vanishing adding",
        "data": "rnncourse.data.adding.adding_problem_torch: training batches seeded seed * 1_000_003 + step, "
        f"test set of {TEST_SIZE} sequences with seed {TEST_SEED}",
        "seeds": list(SEEDS),
        "settings": {
            "hidden_size": HIDDEN,
            "batch_size": BATCH,
            "max_steps": MAX_STEPS,
            "eval_every": EVAL_EVERY,
            "stop_at": STOP_AT,
            "clip": CLIP,
            "optimizer": "Adam",
            "solved_mse": SOLVED_MSE,
            "baseline_mse": BASELINE_MSE,
        },
        "machine": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "platform": platform.platform(),
            "threads": 1,
        },
        "cpu_seconds": round(seconds, 1),
        "runs": runs,
    }
    RESULT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULT}")


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch03_vanishing {rerun,adding} [--quick] [--fresh]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=["rerun", "adding"], help="the page's short rerun, or the stored table"
    )
    parser.add_argument("--quick", action="store_true", help="adding: one seed, 200 steps, print only")
    parser.add_argument(
        "--fresh", action="store_true", help="adding: ignore the runs of an interrupted table"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.what == "adding":
        adding_table(args.quick, args.fresh)
        return
    for cell in ("rnn_tanh", "lstm", "gru"):
        result = train_adding(cell, 50, max_steps=600, stop_at=SOLVED_MSE)  # type: ignore[arg-type]
        print(cell, f"{result.final_mse:.3f}", result.solved_at, f"{result.seconds:.0f}s")
    print("baseline", f"{BASELINE_MSE:.3f}")


if __name__ == "__main__":
    main()
