"""Chapter 3's experiments: the adding-problem runs, exploding gradients, the stored table's summary."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnncourse.data.adding import BASELINE_MSE, SOLVED_MSE
from rnncourse.experiments import ch03_vanishing as experiments


def test_a_run_is_seeded_and_measured_at_every_evaluation() -> None:
    torch.set_num_threads(1)
    a = experiments.train_adding("gru", 10, max_steps=70, eval_every=30, seed=2)
    b = experiments.train_adding("gru", 10, max_steps=70, eval_every=30, seed=2)
    assert a.steps == [0, 30, 60, 70] and a.test_mse == b.test_mse and a.final_mse == a.test_mse[-1]
    assert len(a.grad_norm) == 70 and all(n > 0 for n in a.grad_norm)
    assert a.test_mse[0] > 0.5 * BASELINE_MSE  # an untrained model is no better than the baseline
    assert a.test_mse[-1] < a.test_mse[0]
    assert a.as_dict()["kind"] == "gru" and a.seconds > 0


def test_stop_at_ends_the_run_at_the_first_evaluation_below_it() -> None:
    torch.set_num_threads(1)
    full = experiments.train_adding("lstm", 10, max_steps=200, eval_every=20, seed=0)
    threshold = full.test_mse[3] * 1.0001  # reached at step 60 in the full run, if not before
    stopped = experiments.train_adding("lstm", 10, max_steps=200, eval_every=20, seed=0, stop_at=threshold)
    first = next(i for i, mse in enumerate(full.test_mse) if mse < threshold)
    assert stopped.steps == full.steps[: first + 1] and stopped.test_mse == full.test_mse[: first + 1]
    solved = next((s for s, mse in zip(full.steps, full.test_mse) if mse < SOLVED_MSE), None)
    assert full.solved_at == solved


def test_an_own_recurrent_weight_and_zero_biases_are_used() -> None:
    run = experiments.train_adding(
        "rnn_relu", 10, max_steps=0, recurrent_weight=np.zeros((32, 32)), zero_bias=True
    )
    # W_hh = 0 and zero biases: the state is relu(W_xh x_t) of the last step, the same for any history
    assert run.steps == [0] and math.isfinite(run.final_mse) and run.grad_norm == []
    model = experiments.make_model("rnn_tanh", 8, seed=0, init="orthogonal")
    W = model.rnn.weight_hh_l0.detach().double()
    assert torch.allclose(W @ W.T, torch.eye(8, dtype=torch.float64), atol=1e-5)


def test_clipping_keeps_the_irnn_finite_and_without_it_the_run_explodes() -> None:
    torch.set_num_threads(1)
    unclipped = experiments.exploding_run(clip=None, steps=100)
    clipped = experiments.exploding_run(clip=1.0, steps=100)
    step = unclipped["first_nonfinite"]
    assert step is not None and len(unclipped["loss"]) == step + 1
    assert not (math.isfinite(unclipped["loss"][-1]) and math.isfinite(unclipped["grad_norm"][-1]))
    assert clipped["first_nonfinite"] is None and len(clipped["loss"]) == 100
    assert all(math.isfinite(v) for v in clipped["loss"])


def test_input_gradients_vanish_for_the_tanh_rnn_not_for_the_lstm_with_orthogonal_start() -> None:
    rnn = experiments.input_gradient_norms("rnn_tanh", length=60)
    assert rnn.shape == (60,) and rnn[0] < 1e-3 * rnn[-1]


def test_summary_and_table_of_stored_runs() -> None:
    runs = [
        {"row": "GRU", "length": 50, "solved_at": 300, "final_mse": 0.004},
        {"row": "GRU", "length": 50, "solved_at": 500, "final_mse": 0.006},
        {"row": "tanh RNN", "length": 50, "solved_at": None, "final_mse": 0.17},
    ]
    summary = experiments.summarise_adding(runs)
    assert summary[("GRU", 50)] == {"solved": 2, "seeds": 2, "median_mse": 0.005, "median_solved_at": 400.0}
    assert summary[("tanh RNN", 50)]["median_solved_at"] is None
    table = experiments.format_adding_table(summary)
    assert "2/2 0.005 @400" in table and "0/1 0.170" in table
    assert experiments.baseline_mse() == pytest.approx(BASELINE_MSE, abs=0.03)


def test_main_refuses_an_unknown_run() -> None:
    with pytest.raises(SystemExit):
        experiments.main(["everything"])
