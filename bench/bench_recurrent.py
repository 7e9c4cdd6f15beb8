"""Forward+backward time of the NumPy RNN, LSTM and GRU against torch.nn.

Run from the repository root:

    python bench/bench_recurrent.py            # the full table, a minute or two
    python bench/bench_recurrent.py --quick    # tiny shapes, a few seconds: a smoke test

Each library is measured in its own subprocess. On a small machine NumPy's
BLAS threads and torch's intra-op threads slow each other down when both
are busy in one process, so the NumPy worker never imports torch (it
checks), and the torch worker sets its thread count explicitly. The driver
asks the two workers in turn, case by case, and only one of them works at
any time. Every time is the median of several runs after one warm-up run.

Besides the times, the NumPy worker measures
- the model's own matrix products run alone, at their shapes, interleaved
  with the model's runs (best of as many runs), to express each NumPy
  model's speed as a share of what the BLAS does with those products;
- the peak memory of the NumPy models' forward+backward (tracemalloc, which
  NumPy reports its allocations to) against the size of their caches.

The driver prints the load average and the core count at the start and at
the end, and gives no met/not-met verdict on a busy machine (verdict.py).
bench/README.md explains how to read the output.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from verdict import CAPPED_NOTE, Repeats, busy_reason, format_share, goal_lines, load_line, share

MODELS = ("lstm", "gru", "rnn")
GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # stacked weight blocks: W_xh is (GATES * H, D)
DTYPES = ("float32", "float64")
# (seq_len T, batch N, input D, hidden H)
SHAPES = [(50, 32, 64, 128), (100, 64, 128, 256), (200, 16, 32, 64)]
QUICK_SHAPES = [(5, 4, 8, 16)]
MIDDLE = SHAPES[1]


def matmul_flops(model: str, T: int, N: int, D: int, H: int) -> int:
    """FLOPs of the matrix products of one forward+backward pass.

    Counted as 2 FLOPs (a multiply and an add) per multiply-accumulate. With
    G stacked gate blocks (LSTM 4, GRU 3, RNN 1), every step has
      forward:  x_t W_xh^T (N x D by D x GH) and h_{t-1} W_hh^T (N x H by H x GH);
      backward: dx_t = da W_xh, dW_xh += da^T x_t (each N x GH x D), and
                dh_{t-1} = da W_hh, dW_hh += da^T h_{t-1} (each N x GH x H),
    that is 2 N GH (D + H) in the forward and twice that in the backward:
    6 T N G H (D + H) in all. Elementwise work (nonlinearities, cell update,
    bias sums) is O(T N G H) and not counted: 100% would mean the products
    ran as fast as they do alone (``reference_products``) and everything else
    cost nothing.
    """
    return 6 * T * N * GATES[model] * H * (D + H)


def seconds_of(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def timed(run: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of ``repeats`` runs after one warm-up run."""
    run()  # warm-up: first-touch page faults, BLAS/oneDNN initialisation
    return [seconds_of(run) for _ in range(repeats)]


# ---------------------------------------------------------------------------
# NumPy worker (never imports torch)
# ---------------------------------------------------------------------------


def numpy_problem(model: str, shape: tuple[int, ...], dtype: str, seed: int = 0) -> dict[str, Any]:
    T, N, D, H = shape
    rng = np.random.default_rng(seed)
    G = GATES[model]
    k = 1 / np.sqrt(H)  # torch.nn's default initialisation range
    p = {
        "x": rng.standard_normal((N, T, D)),
        "h0": np.zeros((N, H)),
        "W_xh": rng.uniform(-k, k, (G * H, D)),
        "W_hh": rng.uniform(-k, k, (G * H, H)),
        "b_xh": rng.uniform(-k, k, G * H),
        "b_hh": rng.uniform(-k, k, G * H),
        "dh": rng.standard_normal((N, T, H)),
    }
    if model == "lstm":
        p["c0"] = np.zeros((N, H))
    return {name: a.astype(dtype) for name, a in p.items()}


def numpy_model(model: str, p: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[Any], tuple]]:
    """``forward() -> cache`` and ``backward(cache) -> gradients`` for one model."""
    from rnncourse.scratch.gru import gru_backward, gru_forward
    from rnncourse.scratch.lstm import lstm_backward, lstm_forward
    from rnncourse.scratch.rnn import rnn_backward, rnn_forward

    b = p["b_xh"] + p["b_hh"]  # the LSTM and the RNN only ever use the sum
    x, h0, W_xh, W_hh, dh = p["x"], p["h0"], p["W_xh"], p["W_hh"], p["dh"]
    if model == "lstm":
        return (lambda: lstm_forward(x, h0, p["c0"], W_xh, W_hh, b)[2],
                lambda cache: lstm_backward(dh, cache))  # fmt: skip
    if model == "gru":
        return (lambda: gru_forward(x, h0, W_xh, W_hh, p["b_xh"], p["b_hh"])[1],
                lambda cache: gru_backward(dh, cache))  # fmt: skip
    return (lambda: rnn_forward(x, h0, W_xh, W_hh, b)[1],
            lambda cache: rnn_backward(dh, cache))  # fmt: skip


def cache_nbytes(cache: Any, inputs: dict[str, Any]) -> int:
    """Bytes of the arrays a forward pass allocated and keeps in its cache.

    The caller's own arrays (inputs, weights) are not counted: they exist
    whether or not a cache does. Views count once, by their base.
    """
    owned_by_caller = {id(a) for a in inputs.values()}
    seen: set[int] = set()
    total = 0
    values = list(cache)
    work = getattr(cache, "work", None)
    if work is not None:  # the LSTM/GRU workspace, before the backward consumes it
        values += list(vars(work).values())
    for value in values:
        if not isinstance(value, np.ndarray) or id(value) in owned_by_caller:
            continue
        base = value if value.base is None else value.base
        if id(base) in seen or id(base) in owned_by_caller:
            continue
        seen.add(id(base))
        total += base.nbytes
    return total


def numpy_memory(model: str, shape: tuple[int, ...], dtype: str) -> dict[str, float]:
    """Peak traced memory of forward+backward, and the cache's size, in bytes.

    The baseline is what exists before the forward (inputs, weights,
    upstream gradients); the peak counts everything allocated above it,
    including the gradients the backward returns.
    """
    p = numpy_problem(model, shape, dtype)
    forward, backward = numpy_model(model, p)
    backward(forward())  # imports and one-time allocations, untraced
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        cache = forward()
        cache_bytes = cache_nbytes(cache, p)
        after_forward = tracemalloc.get_traced_memory()[0] - baseline
        grads = backward(cache)
        peak = tracemalloc.get_traced_memory()[1] - baseline
        grad_bytes = sum(g.nbytes for g in grads)
        del cache, grads
    finally:
        tracemalloc.stop()
    return {
        "cache": cache_bytes,
        "after_forward": after_forward,
        "peak": peak,
        "gradients": grad_bytes,
    }


def reference_products(model: str, shape: tuple[int, ...], dtype: str) -> Callable[[], None]:
    """The matrix products of one forward+backward pass alone, each at the model's shapes.

    Every product ``matmul_flops`` counts, in the fastest arrangement the
    equations allow: those of the inputs batched over all T steps at once
    (``x W_xh^T``, ``dx = da W_xh``, ``dW_xh = da^T x``, and ``dW_hh = da^T h``),
    the two that the recurrence makes sequential one step at a time
    (``h_{t-1} W_hh^T`` forward, ``da_t W_hh`` backward), into preallocated
    outputs. A model computes at least these, so it cannot honestly be faster.
    """
    T, N, D, H = shape
    GH = GATES[model] * H
    rng = np.random.default_rng(0)

    def array(*dims: int) -> np.ndarray:
        return rng.standard_normal(dims).astype(dtype)

    x, hs, da = array(T * N, D), array(T * N, H), array(T * N, GH)  # time-major, steps stacked
    W_xh, W_hh, h = array(GH, D), array(GH, H), array(N, H)
    a, dx, dh = np.empty((T * N, GH), dtype), np.empty((T * N, D), dtype), np.empty((N, H), dtype)
    dW_xh, dW_hh = np.empty((GH, D), dtype), np.empty((GH, H), dtype)
    a_steps, da_steps = a.reshape(T, N, GH), da.reshape(T, N, GH)

    def run() -> None:
        np.matmul(x, W_xh.T, out=a)
        for t in range(T):
            np.matmul(h, W_hh.T, out=a_steps[t])
        for t in reversed(range(T)):
            np.matmul(da_steps[t], W_hh, out=dh)
        np.matmul(da, W_xh, out=dx)
        np.matmul(da.T, x, out=dW_xh)
        np.matmul(da.T, hs, out=dW_hh)

    return run


def interleaved(
    model: Callable[[], object], reference: Callable[[], object], repeats: int
) -> tuple[list[float], list[float]]:
    """Seconds of ``repeats`` runs of each, alternating, after one warm-up of each.

    Alternating puts the model and its reference under the same conditions:
    a burst of load from elsewhere hits both, not one of them.
    """
    model(), reference()
    pairs = [(seconds_of(model), seconds_of(reference)) for _ in range(repeats)]
    return [m for m, _ in pairs], [r for _, r in pairs]


# ---------------------------------------------------------------------------
# The workers: one process per library, answering one request per line
# ---------------------------------------------------------------------------


def numpy_request(request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "info":
        return {"version": np.__version__, "torch_imported": "torch" in sys.modules}
    shape = tuple(request["shape"])
    if op == "memory":
        return numpy_memory(request["model"], shape, request["dtype"])
    problem = numpy_problem(request["model"], shape, request["dtype"])
    forward, backward = numpy_model(request["model"], problem)
    reference = reference_products(request["model"], shape, request["dtype"])
    model_s, reference_s = interleaved(lambda: backward(forward()), reference, request["repeats"])
    return {"seconds": model_s, "reference_seconds": reference_s}


def torch_requests(threads: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    import torch

    torch.set_num_threads(threads)
    classes = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "info":
            return {"version": torch.__version__, "threads": torch.get_num_threads()}
        model, (T, N, D, H) = request["model"], request["shape"]
        dtype = getattr(torch, request["dtype"])
        torch.manual_seed(0)
        module = classes[model](D, H, batch_first=True).to(dtype)
        # Gradients of the input and the initial state too, as the NumPy backward computes them.
        x = torch.randn(N, T, D, dtype=dtype, requires_grad=True)
        h0 = torch.zeros(1, N, H, dtype=dtype, requires_grad=True)
        c0 = torch.zeros(1, N, H, dtype=dtype, requires_grad=True)
        state = (h0, c0) if model == "lstm" else h0
        dh = torch.randn(N, T, H, dtype=dtype)

        def run() -> None:
            module.zero_grad(set_to_none=True)
            out, _ = module(x, state)
            out.backward(dh)

        return {"seconds": timed(run, request["repeats"])}

    return answer


def serve(library: str, threads: int) -> None:
    """Answer JSON requests from stdin, one per line, until it closes."""
    answer = numpy_request if library == "numpy" else torch_requests(threads)
    for line in sys.stdin:
        print(json.dumps(answer(json.loads(line))), flush=True)


class Worker:
    """A library's own process. The driver asks one worker at a time, so
    the other one is idle (blocked reading its stdin) while this one measures."""

    def __init__(self, library: str, threads: int) -> None:
        repo = Path(__file__).resolve().parents[1]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, str(Path(__file__).resolve()),
                   "--worker", library, "--threads", str(threads)]  # fmt: skip
        self.library = library
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.library} worker died (exit code {self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


# ---------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------


TABLE = "{:<20} {:<5} {:<8} {:>9} {:>9} {:>11} {:>13} {:>14} {:>9} {:>7}"
MEMORY_TABLE = "{:<5} {:>9} {:>18} {:>9} {:>18} {:>10}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes: a smoke test")
    parser.add_argument("--repeats", type=int, help="timed runs per case (default 7, quick 3)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch intra-op threads (default: all cores)")  # fmt: skip
    parser.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        serve(args.worker, args.threads)
        return
    repeats = args.repeats or (3 if args.quick else 7)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    memory_shape = shapes[0] if args.quick else MIDDLE
    cores = os.cpu_count() or 1

    # Read before anything starts: afterwards the load counts this benchmark's own work.
    load_before = os.getloadavg()
    print(load_line("at the start", load_before, cores))
    numpy_worker, torch_worker = Worker("numpy", args.threads), Worker("torch", args.threads)
    try:
        np_info, torch_info = numpy_worker.ask(op="info"), torch_worker.ask(op="info")
        print(
            f"numpy {np_info['version']} (BLAS threads: its default)"
            f"   torch {torch_info['version']} ({torch_info['threads']} intra-op threads)"
        )
        print(f"times: forward+backward, milliseconds, median of {repeats} runs after a warm-up")
        print(
            "'matmul GFLOP/s': the model's own matrix products run alone at their shapes, best of "
            f"{repeats} runs interleaved with the model's; 'of matmul': the model's share of that"
        )
        print("'spread': interquartile range over median of the repeats, the larger of the two libraries")
        print()
        header = TABLE.format(
            "(T, N, D, H)",
            "model",
            "dtype",
            "numpy ms",
            "torch ms",
            "numpy/torch",
            "numpy GFLOP/s",
            "matmul GFLOP/s",
            "of matmul",
            "spread",
        )
        print(header)
        print("-" * len(header))
        results: dict[tuple, dict[str, float]] = {}
        spreads: dict[str, float] = {}
        capped = False
        for shape in shapes:
            for dtype in DTYPES:
                for model in MODELS:
                    case = dict(op="time", model=model, dtype=dtype, shape=shape, repeats=repeats)
                    # NumPy then torch, case by case, so that a change in the
                    # machine's load hits both sides of a ratio alike.
                    answer = numpy_worker.ask(**case)
                    np_times = Repeats(tuple(answer["seconds"]))
                    reference = Repeats(tuple(answer["reference_seconds"]))
                    torch_times = Repeats(tuple(torch_worker.ask(**case)["seconds"]))
                    spread = max(np_times.spread, torch_times.spread)
                    if shape == MIDDLE:
                        spreads[f"{model} {dtype}"] = spread
                    flops = matmul_flops(model, *shape)
                    results[(model, dtype, shape)] = {
                        "numpy": np_times.median_ms,
                        "torch": torch_times.median_ms,
                        "reference": reference.best_ms,
                    }
                    shown = format_share(np_times.median_ms, reference.best_ms)
                    capped = capped or shown.endswith("*")
                    print(
                        TABLE.format(
                            str(shape),
                            model,
                            dtype,
                            f"{np_times.median_ms:.2f}",
                            f"{torch_times.median_ms:.2f}",
                            f"{np_times.median_ms / torch_times.median_ms:.2f}x",
                            f"{flops / np_times.median_ms / 1e6:.1f}",
                            f"{flops / reference.best_ms / 1e6:.1f}",
                            shown,
                            f"{100 * spread:.0f}%",
                        ),
                        flush=True,
                    )
            print()
        if capped:
            print(CAPPED_NOTE)
            print()

        print(f"memory of NumPy forward+backward, float32, shape {memory_shape} (tracemalloc, MB):")
        print(
            MEMORY_TABLE.format(
                "model", "cache", "kept after forward", "peak", "of which gradients", "peak/cache"
            )
        )
        memory = {}
        for model in MODELS:
            m = numpy_worker.ask(op="memory", model=model, shape=memory_shape, dtype="float32")
            memory[model] = m
            mb = [f"{m[k] / 2**20:.1f}" for k in ("cache", "after_forward", "peak", "gradients")]
            print(MEMORY_TABLE.format(model, *mb, f"{m['peak'] / m['cache']:.2f}x"))
        if numpy_worker.ask(op="info")["torch_imported"]:
            raise SystemExit("the NumPy worker imported torch: its times are not valid")
    finally:
        numpy_worker.close()
        torch_worker.close()

    print()
    print(load_line("at the end", os.getloadavg(), cores) + " (this benchmark's own work included)")
    if not args.quick:
        busy = busy_reason(load_before[0], cores, spreads)
        print_goals(results, memory, busy)


def print_goals(
    results: dict[tuple, dict[str, float]], memory: dict[str, dict[str, float]], busy: str | None
) -> None:
    def ratio(model: str, dtype: str) -> float:
        r = results[(model, dtype, MIDDLE)]
        return r["numpy"] / r["torch"]

    lstm = results[("lstm", "float32", MIDDLE)]
    lstm_share = share(lstm["numpy"], lstm["reference"])[0]
    lstm_memory = memory["lstm"]["peak"] / memory["lstm"]["cache"]
    float64 = [ratio(m, "float64") for m in MODELS]
    goals = [
        ("NumPy LSTM float32 within 2.0x of torch.nn.LSTM",
         ratio("lstm", "float32") <= 2.0, f"{ratio('lstm', 'float32'):.2f}x"),
        ("NumPy GRU float32 faster than torch.nn.GRU",
         ratio("gru", "float32") < 1.0, f"{ratio('gru', 'float32'):.2f}x"),
        ("NumPy float64 no slower than torch float64",
         max(float64) <= 1.0, ", ".join(f"{m} {r:.2f}x" for m, r in zip(MODELS, float64))),
        ("NumPy LSTM float32 at >= 50% of its matrix products' throughput",
         lstm_share >= 0.5, format_share(lstm["numpy"], lstm["reference"])),
        ("peak memory of LSTM forward+backward within 1.5x of its cache",
         lstm_memory <= 1.5, f"{lstm_memory:.2f}x"),
    ]  # fmt: skip
    print(f"goals at the middle shape {MIDDLE}:")
    for line in goal_lines(goals, busy):
        print(line)


if __name__ == "__main__":
    main()
