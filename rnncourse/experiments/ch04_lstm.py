"""Chapter 4's experiments: gradients through time, the forget-gate bias, bidirectional padding.

1. ``gradient_through_time``: at initialisation, a loss on the last state only;
   how large is its gradient with respect to each earlier state? For the LSTM
   both the full gradient dL/dc_t and the cell path alone (dL/dc_T ⊙ f_T ⊙ ... ⊙
   f_{t+1}, the constant-error-carousel picture) are measured; for the tanh RNN
   dL/dh_t. Run with the reference step functions, so every number is the
   chain rule of the chapter's equations.
2. ``train_adding``: a torch.nn.LSTM on the adding problem (``models.sequence``,
   trained with ``training.fit``) with the forget gate's bias set to a chosen value (torch's default draws it around 0;
   Keras's ``unit_forget_bias=True`` sets it to 1); the loss curve.
   ``python -m rnncourse.experiments.ch04_lstm`` runs the longer version for
   several seeds and stores ``rnncourse/results/ch04_lstm_forget_bias.json``.
3. ``bidirectional_padding``: the reverse direction of a bidirectional layer
   on a padded batch, reversed per length (right) and with the whole padded
   array reversed (wrong), against the unpadded sequence run alone.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnncourse.data.adding import BASELINE_MSE, adding_problem_torch
from rnncourse.kinds import gate_rows
from rnncourse.models.sequence import SequenceModel
from rnncourse.scratch.lstm import lstm_step_backward, lstm_step_forward
from rnncourse.scratch.recurrent import RecurrentLayer, init_params
from rnncourse.scratch.rnn import rnn_step_backward, rnn_step_forward
from rnncourse.scratch.stacked import Bidirectional
from rnncourse.training import FreshBatches, fit_steps

# ---------------------------------------------------------------------------
# 1. Gradient norms through time
# ---------------------------------------------------------------------------


def gradient_through_time(
    kind: str,
    T: int = 100,
    N: int = 32,
    D: int = 8,
    H: int = 32,
    forget_bias: float | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Mean norm of the gradient reaching each step's state from a loss on the last state.

    Weights are torch's initialisation, U(-1/sqrt(H), 1/sqrt(H)); inputs are
    standard normal; the loss is ``sum(u ⊙ h_T)`` (and for the LSTM, the cell
    gradient is measured) with a fixed random direction u.

    Args:
        kind: ``"lstm"`` or ``"rnn_tanh"``.
        T, N, D, H: steps, batch, inputs, hidden units.
        forget_bias: if given, the LSTM's forget-gate bias is set to this value
            (its W rows are kept): 0-ish is torch's default, 1 Keras's.
        seed: for weights, inputs and u.

    Returns:
        ``"state"``: (T,) the mean over the batch of ||dL/dc_t|| (LSTM) or
        ||dL/dh_t|| (RNN), index t for the state after step t+1;
        for the LSTM also ``"cell_path"``: (T,) ||dL/dc_T ⊙ f_T ⊙ ... ⊙ f_{t+2}||,
        the part that flows along the cell state alone, and ``"forget"``: (T,) the mean f_t.
    """
    rng = np.random.default_rng(seed)
    params = init_params("lstm" if kind == "lstm" else "rnn_tanh", D, H, rng)  # type: ignore[arg-type]
    if forget_bias is not None:
        params["b"][gate_rows("lstm", "f", H)] = forget_bias
    x = rng.normal(size=(N, T, D))
    u = rng.normal(size=(N, H))
    h = np.zeros((N, H))
    if kind == "rnn_tanh":
        rnn_caches = []
        for t in range(T):
            h, rnn_cache = rnn_step_forward(x[:, t], h, params["W_xh"], params["W_hh"], params["b_h"])
            rnn_caches.append(rnn_cache)
        norms, dh = np.zeros(T), u
        for t in reversed(range(T)):
            norms[t] = np.linalg.norm(dh, axis=1).mean()
            dh = rnn_step_backward(dh, rnn_caches[t])[1]
        return {"state": norms}
    if kind != "lstm":
        raise ValueError(f"kind must be 'lstm' or 'rnn_tanh', got {kind!r}")
    c = np.zeros((N, H))
    caches = []
    for t in range(T):
        h, c, step = lstm_step_forward(x[:, t], h, c, params["W_xh"], params["W_hh"], params["b"])
        caches.append(step)
    state, cell_path, forget = np.zeros(T), np.zeros(T), np.zeros(T)
    dh_t, dc_t = u, np.zeros((N, H))
    along_cells = None
    for t in reversed(range(T)):
        cache = caches[t]
        # The total gradient of c_t: from c_{t+1} plus through h_t = o_t tanh(c_t).
        dc_total = dc_t + dh_t * cache.o * (1 - cache.tanh_c**2)
        along_cells = dc_total if along_cells is None else along_cells * caches[t + 1].f
        state[t], cell_path[t] = (np.linalg.norm(a, axis=1).mean() for a in (dc_total, along_cells))
        forget[t] = cache.f.mean()
        _, dh_t, dc_t, *_ = lstm_step_backward(dh_t, dc_t, cache)
    return {"state": state, "cell_path": cell_path, "forget": forget}


def steps_to_vanish(norms: np.ndarray, factor: float = 1e-6) -> int | None:
    """How many steps back from the last the gradient first falls below ``factor`` times its value there."""
    below = np.flatnonzero(norms[::-1] < factor * norms[-1])
    return int(below[0]) if below.size else None


# ---------------------------------------------------------------------------
# 2. The forget-gate bias on the adding problem
# ---------------------------------------------------------------------------


def set_forget_bias_(lstm: nn.RNNBase, value: float) -> None:
    """Set the forget gate's bias of a one-layer ``torch.nn.LSTM`` to ``value``, in place.

    torch adds ``bias_ih`` and ``bias_hh``: the whole value goes into the first, the second's rows are zeroed.
    """
    rows = gate_rows("lstm", "f", lstm.hidden_size)
    with torch.no_grad():
        lstm.get_parameter("bias_ih_l0")[rows] = value
        lstm.get_parameter("bias_hh_l0")[rows] = 0.0


def train_adding(
    forget_bias: float | None,
    seed: int,
    T: int = 50,
    hidden: int = 32,
    steps: int = 300,
    batch: int = 64,
    lr: float = 1e-2,
    eval_every: int = 25,
) -> dict[str, Any]:
    """Train an LSTM regressor with Adam on fresh batches; the test MSE every ``eval_every`` steps.

    The model is ``rnncourse.models.sequence.SequenceModel("lstm", 2, hidden)``, trained by
    ``rnncourse.training.fit`` with the global gradient norm clipped at 1.

    Args:
        forget_bias: the forget gate's bias, or None for torch's default initialisation.
        seed: seeds torch (weights) and the data (batch k is ``adding_problem(batch, T, seed * 100_003 + k)``).
        T, hidden, steps, batch, lr, eval_every: the task and the training.

    Returns:
        ``steps`` (list: 0 and every multiple of ``eval_every`` up to ``steps``), ``test_mse``
        (list, on 1,000 held-out sequences), ``final_mse``.
    """
    torch.manual_seed(seed)
    model = SequenceModel("lstm", 2, hidden)
    if forget_bias is not None:
        set_forget_bias_(model.rnn, forget_bias)
    x_test, y_test = adding_problem_torch(1000, T, seed=10**9 + seed)

    def test_mse(model: nn.Module) -> float:
        with torch.no_grad():
            return float(nn.functional.mse_loss(model(x_test), y_test))

    xs, losses = [0], [test_mse(model)]
    if steps > 0:
        history = fit_steps(
            model,
            FreshBatches(lambda step: adding_problem_torch(batch, T, seed=seed * 100_003 + step)),
            nn.functional.mse_loss,
            torch.optim.Adam(model.parameters(), lr=lr),
            steps,
            eval_every,
            {"test_mse": test_mse},
            clip_norm=1.0,
        )
        # a last, shorter stretch of steps is trained but not reported
        for step, mse in zip(history.steps, history.metrics["test_mse"]):
            if step % eval_every == 0:
                xs.append(step)
                losses.append(mse)
    return {"steps": xs, "test_mse": losses, "final_mse": losses[-1]}


def steps_to_reach(curve: dict[str, Any], target: float) -> int | None:
    """The first evaluated step whose test MSE is below ``target``, or None."""
    for step, mse in zip(curve["steps"], curve["test_mse"]):
        if mse < target:
            return int(step)
    return None


BIASES: dict[str, float | None] = {"torch default (about 0)": None, "forget bias 1 (Keras)": 1.0}


def run_forget_bias(seeds: list[int], **kwargs: Any) -> dict[str, Any]:
    """``train_adding`` for every bias of ``BIASES`` and every seed."""
    runs = {label: [train_adding(bias, seed, **kwargs) for seed in seeds] for label, bias in BIASES.items()}
    return {"seeds": seeds, "settings": kwargs, "baseline_mse": BASELINE_MSE, "runs": runs}


# ---------------------------------------------------------------------------
# 3. Bidirectional layers and padding
# ---------------------------------------------------------------------------


def bidirectional_padding(
    seed: int = 0, T: int = 8, length: int = 3, D: int = 3, H: int = 4
) -> dict[str, np.ndarray]:
    """The reverse half of a bidirectional LSTM on a padded sequence, right and wrong.

    One sequence of ``length`` real steps, padded to T with pad vectors that are
    not zero (as an embedding of ``<pad>`` is not).

    Returns:
        ``alone``: (length, H) the reverse states of the real sequence run alone;
        ``per_length``: (T, H) the layer's reverse states on the padded batch
        (each sequence reversed within its length: the course's ``Bidirectional``);
        ``whole_array``: (T, H) reverse states when the padded array is flipped
        whole, so the backward direction reads the T - length pads first.
    """
    rng = np.random.default_rng(seed)
    layer = Bidirectional("lstm", D, H, rng)
    real = rng.normal(size=(1, length, D))
    pad = np.tile(rng.normal(size=(1, 1, D)), (1, T - length, 1))
    padded = np.concatenate([real, pad], axis=1)
    lengths = np.array([length])
    alone = layer.forward(real)[0][0, :, H:]
    per_length = layer.forward(padded, None, lengths)[0][0, :, H:]
    reverse: RecurrentLayer = layer.reverse_layer
    flipped = reverse.forward(padded[:, ::-1].copy())[0][:, ::-1]
    return {"alone": alone, "per_length": per_length, "whole_array": flipped[0]}


# ---------------------------------------------------------------------------
# The stored, longer run
# ---------------------------------------------------------------------------

LONG_RUN: dict[str, Any] = {
    "seeds": list(range(10)),
    "T": 100,
    "hidden": 32,
    "steps": 2000,
    "batch": 64,
    "eval_every": 50,
}


def main(out: Path | None = None) -> None:
    """Run ``LONG_RUN`` and store it as ``rnncourse/results/ch04_lstm_forget_bias.json``."""
    torch.set_num_threads(1)
    settings = {k: v for k, v in LONG_RUN.items() if k != "seeds"}
    start = time.process_time()
    result = run_forget_bias(LONG_RUN["seeds"], **settings)
    result["command"] = "python -m rnncourse.experiments.ch04_lstm"
    result["data"] = (
        "rnncourse.data.adding.adding_problem: fresh batches per step, 1,000 held-out sequences per seed"
    )
    result["cpu_seconds"] = round(time.process_time() - start)
    result["torch"] = torch.__version__
    path = out or Path(__file__).resolve().parents[1] / "results" / "ch04_lstm_forget_bias.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} in {result['cpu_seconds']} CPU seconds")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
