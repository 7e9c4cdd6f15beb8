"""The adding problem (Hochreiter and Schmidhuber 1997) on a CPU: tanh RNN, LSTM and GRU at T = 10..200.

Run from the repository root (about 10 to 15 minutes of CPU time on one core):

    python bench/ch03_vanishing_adding.py            # writes rnncourse/results/ch03_vanishing_adding.json
    python bench/ch03_vanishing_adding.py --quick    # one seed, short budgets, prints only: a smoke test

Every run: one recurrent layer of 32 units and a linear read-out of the last
state, Adam, fresh batches of 64 sequences per step, gradient clipping at
global norm 1, a budget of 2,000 steps, the test MSE on 500 fixed sequences
every 50 steps, stopped early once it falls below 0.005. Two seeds per row
(weights and training data). "Solved" means a test MSE below 0.01, against
the 1/6 of always predicting 1 (``rnncourse.data.adding``).

Two tables: the three cells at the four lengths with torch's default
initialisation, and the remedies for the vanilla RNN (orthogonal W_hh; the
IRNN, ReLU units with W_hh = I and zero biases, at a learning rate of 1e-3 as
it needs a smaller one) at T = 50 and 100.

Each finished run is appended to ``/tmp/ch03_vanishing_adding.partial.jsonl``
and a rerun skips the runs found there, so an interrupted run can resume
(``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rnncourse.data.adding import BASELINE_MSE, SOLVED_MSE
from rnncourse.experiments.ch03_vanishing import TEST_SEED, TEST_SIZE, train_adding

OUT = Path(__file__).resolve().parents[1] / "rnncourse" / "results" / "ch03_vanishing_adding.json"
LENGTHS = (10, 50, 100, 200)
SEEDS = (0, 1)
HIDDEN = 32
BATCH = 64
MAX_STEPS = 2000
EVAL_EVERY = 50
STOP_AT = 0.005
CLIP = 1.0

# (row name, cell, initialisation, learning rate)
CELLS = (
    ("tanh RNN", "rnn_tanh", "default", 1e-2),
    ("LSTM", "lstm", "default", 1e-2),
    ("GRU", "gru", "default", 1e-2),
)
REMEDIES = (
    ("tanh RNN, orthogonal W_hh", "rnn_tanh", "orthogonal", 1e-2),
    ("IRNN (ReLU, W_hh = I)", "rnn_relu", "identity", 1e-3),
)
REMEDY_LENGTHS = (50, 100)


PARTIAL = Path("/tmp/ch03_vanishing_adding.partial.jsonl")


def _done() -> dict[tuple[str, int, int], dict[str, Any]]:
    if not PARTIAL.exists():
        return {}
    records = [json.loads(line) for line in PARTIAL.read_text().splitlines() if line.strip()]
    return {(r["row"], r["length"], r["seed"]): r for r in records}


def run_rows(
    rows: tuple[tuple[str, str, str, float], ...], lengths: tuple[int, ...], seeds, budget: int
) -> list[dict[str, Any]]:
    results = []
    done = _done()
    for name, kind, init, lr in rows:
        for length in lengths:
            for seed in seeds:
                if (name, length, seed) in done and done[(name, length, seed)]["max_steps"] == budget:
                    results.append(done[(name, length, seed)])
                    continue
                run = train_adding(
                    kind,  # type: ignore[arg-type]
                    length,
                    hidden_size=HIDDEN,
                    max_steps=budget,
                    batch_size=BATCH,
                    lr=lr,
                    seed=seed,
                    init=init,  # type: ignore[arg-type]
                    clip=CLIP,
                    eval_every=EVAL_EVERY,
                    stop_at=STOP_AT,
                )
                record = {"row": name} | run.as_dict()
                record.pop("grad_norm")  # one per step: too long to store, not shown
                results.append(record)
                with PARTIAL.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                solved = "-" if run.solved_at is None else run.solved_at
                print(
                    f"{name:28s} T={length:3d} seed={seed} mse={run.final_mse:.4f} solved_at={solved} {run.seconds:.0f}s",
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="ignore the runs stored by an interrupted run")
    parser.add_argument("--quick", action="store_true", help="one seed, 200 steps, T = 10 and 50, print only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.fresh:
        PARTIAL.unlink(missing_ok=True)
    started = time.process_time()
    seeds = SEEDS[:1] if args.quick else SEEDS
    budget = 200 if args.quick else MAX_STEPS
    lengths = (10, 50) if args.quick else LENGTHS
    runs = run_rows(CELLS, lengths, seeds, budget)
    runs += run_rows(REMEDIES, (50,) if args.quick else REMEDY_LENGTHS, seeds, budget)
    seconds = time.process_time() - started
    print(f"CPU time {seconds:.0f} s")
    if args.quick:
        return
    result = {
        "command": "python bench/ch03_vanishing_adding.py",
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
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
