"""Chapter 8, hardware: is a GPU "about 10x faster" than a CPU for training an RNN? Per shape.

    .venv/bin/python bench/ch08_applications_gpu.py            # CPU, and CUDA when a GPU is present
    .venv/bin/python bench/ch08_applications_gpu.py --store    # also write rnncourse/results/ch08_applications_gpu.json
    .venv/bin/python bench/ch08_applications_gpu.py --quick    # two small shapes, for the tests

Times one training step (forward, backward, Adam) of ``torch.nn.LSTM`` for
each shape (N sequences, T steps, H hidden units) on the CPU with one thread
and with every core, and on the first CUDA device when torch finds one; prints
a table with the GPU's speed-up per shape. Without a GPU it says so and
reports the CPU alone: nothing is estimated.

Why the answer depends on the shape: an LSTM step is a (N, H) x (H, 4H)
product followed by elementwise gates, and step t cannot start before step
t - 1 is done. With small N and H each step is a tiny product that leaves
most of a GPU idle while the launch of each kernel costs a fixed few
microseconds, so the GPU's advantage appears only when N * H is large.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import torch

from rnncourse.experiments.ch08_applications_practice import time_recurrent

OUT = Path(__file__).resolve().parents[1] / "rnncourse" / "results" / "ch08_applications_gpu.json"
SHAPES = [(1, 100, 128), (64, 100, 32), (64, 100, 128), (64, 100, 512), (256, 100, 128)]
QUICK_SHAPES = [(4, 10, 16), (8, 10, 32)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small shapes")
    parser.add_argument("--store", action="store_true", help="write the JSON result file")
    args = parser.parse_args()
    shapes = QUICK_SHAPES if args.quick else SHAPES
    cores = os.cpu_count() or 1
    runs: dict[str, list] = {}
    torch.set_num_threads(1)
    runs["cpu, 1 thread"] = time_recurrent(shapes)
    torch.set_num_threads(cores)
    runs[f"cpu, {cores} threads"] = time_recurrent(shapes)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if gpu is not None:
        runs[f"cuda: {gpu}"] = time_recurrent(shapes, device="cuda")
    else:
        print(
            "No GPU was found (torch.cuda.is_available() is False): CPU timings only, no speed-up measured."
        )

    names = list(runs)
    print(
        f"{'N':>5} {'T':>5} {'H':>6} "
        + " ".join(f"{n[:22]:>24}" for n in names)
        + "   (ms per training step)"
    )
    for i, (N, T, H) in enumerate(shapes):
        row = " ".join(f"{1000 * float(runs[n][i]['seconds']):24.2f}" for n in names)
        speedup = ""
        if gpu is not None:
            speedup = f"   GPU speed-up over 1 CPU thread: {runs[names[0]][i]['seconds'] / runs[names[-1]][i]['seconds']:.1f}x"
        print(f"{N:5d} {T:5d} {H:6d} {row}{speedup}")
    if args.store and not args.quick:
        result = {
            "command": "python bench/ch08_applications_gpu.py --store",
            "what": "seconds per training step (forward, backward, Adam) of torch.nn.LSTM(64, H), best of 3",
            "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "cores": cores,
            "gpu": gpu,
            "runs": runs,
        }
        OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print("wrote", OUT)


if __name__ == "__main__":
    main()
