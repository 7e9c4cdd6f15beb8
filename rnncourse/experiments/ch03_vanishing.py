"""Chapter 3's experiments: the adding problem for RNN, LSTM and GRU; exploding gradients and clipping.

``python -m rnncourse.experiments.ch03_vanishing`` is the short rerun the
page does; the full table is ``bench/ch03_vanishing_adding.py``.

Every run is seeded: data from ``rnncourse.data.adding`` (the training
batches from ``seed``, a fixed test set from ``TEST_SEED``), weights from
``torch.manual_seed(seed)``. Training is chaotic enough that the low bits of
the numbers depend on the CPU (OpenBLAS picks its kernels by CPU), so callers
compare against thresholds, never exact values.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rnncourse.data.adding import BASELINE_MSE, SOLVED_MSE, adding_problem_torch
from rnncourse.initialisation import Scheme, init_recurrent_

CellKind = Literal["rnn_tanh", "rnn_relu", "lstm", "gru"]
TEST_SEED = 12345
TEST_SIZE = 500


class AddingModel(nn.Module):
    """A one-layer recurrent network and a linear read-out of its last state: (N, T, 2) -> (N, 1)."""

    def __init__(self, kind: CellKind, hidden_size: int) -> None:
        super().__init__()
        self.kind = kind
        if kind in ("rnn_tanh", "rnn_relu"):
            nonlinearity = "tanh" if kind == "rnn_tanh" else "relu"
            self.recurrent: nn.RNNBase = nn.RNN(2, hidden_size, nonlinearity=nonlinearity, batch_first=True)
        elif kind == "lstm":
            self.recurrent = nn.LSTM(2, hidden_size, batch_first=True)
        elif kind == "gru":
            self.recurrent = nn.GRU(2, hidden_size, batch_first=True)
        else:
            raise ValueError(f"kind must be 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru', got {kind!r}")
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.recurrent(x)  # (N, T, H)
        return self.readout(states[:, -1])  # (N, 1)


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
    solved_at: int | None = None  # first evaluation step with test MSE < SOLVED_MSE
    final_mse: float = float("nan")
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_model(kind: CellKind, hidden_size: int, seed: int, init: Scheme = "default") -> AddingModel:
    """The model with torch's initialisation drawn from ``seed``, then W_hh set by ``init``."""
    torch.manual_seed(seed)
    model = AddingModel(kind, hidden_size)
    if init != "default":
        init_recurrent_(model.recurrent, init, seed=seed, zero_bias=(init == "identity"))
    return model


def train_adding(
    kind: CellKind,
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
        eval_every: steps between test-MSE measurements (on ``TEST_SIZE`` sequences).
        stop_at: stop at the first evaluation with test MSE below this (None: run the budget).
        recurrent_weight: (G H, H) or (H, H) W_hh to start from instead (e.g. an exercise's own
            initialisation); (H, H) is repeated for every gate.
        zero_bias: set every bias of the recurrent layer to 0 (the IRNN's recipe).

    Returns:
        The run, with its curve; ``final_mse`` is the last measured test MSE.
    """
    started = time.process_time()
    model = make_model(kind, hidden_size, seed, init)
    parameters = dict(model.recurrent.named_parameters())
    with torch.no_grad():
        if recurrent_weight is not None:
            W = parameters["weight_hh_l0"]
            block = torch.as_tensor(np.asarray(recurrent_weight), dtype=W.dtype)
            W.copy_(block.repeat(W.shape[0] // block.shape[0], 1))
        if zero_bias:
            parameters["bias_ih_l0"].zero_()
            parameters["bias_hh_l0"].zero_()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    x_test, y_test = adding_problem_torch(TEST_SIZE, length, TEST_SEED)
    run = AddingRun(kind, length, hidden_size, seed, init, lr, batch_size, max_steps, clip)
    for step in range(max_steps + 1):
        if step % eval_every == 0 or step == max_steps:
            with torch.no_grad():
                mse = float(nn.functional.mse_loss(model(x_test), y_test))
            run.steps.append(step)
            run.test_mse.append(mse)
            if run.solved_at is None and mse < SOLVED_MSE:
                run.solved_at = step
            if (stop_at is not None and mse < stop_at) or not math.isfinite(mse):
                break
        if step == max_steps:
            break
        x, y = adding_problem_torch(batch_size, length, seed * 1_000_003 + step)
        loss = nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
        run.grad_norm.append(float(norm))
        optimiser.step()
    run.final_mse = run.test_mse[-1]
    run.seconds = time.process_time() - started
    return run


def input_gradient_norms(
    kind: CellKind, init: Scheme = "default", length: int = 100, hidden_size: int = 32, seed: int = 0
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
    model = AddingModel("rnn_relu", hidden_size)
    init_recurrent_(model.recurrent, "identity", seed=seed, gain=gain, zero_bias=True)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    losses: list[float] = []
    norms: list[float] = []
    first_nonfinite = None
    for step in range(steps):
        x, y = adding_problem_torch(64, length, seed * 1_000_003 + step)
        loss = nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
        losses.append(float(loss.detach()))
        norms.append(float(norm))
        if not (math.isfinite(losses[-1]) and math.isfinite(float(norm))):
            first_nonfinite = step
            break
        optimiser.step()
    return {"loss": losses, "grad_norm": norms, "first_nonfinite": first_nonfinite}


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


if __name__ == "__main__":  # the page's small rerun, printed
    torch.set_num_threads(1)
    for cell in ("rnn_tanh", "lstm", "gru"):
        result = train_adding(cell, 50, max_steps=600, stop_at=SOLVED_MSE)
        print(cell, f"{result.final_mse:.3f}", result.solved_at, f"{result.seconds:.0f}s")
    print("baseline", f"{BASELINE_MSE:.3f}")
