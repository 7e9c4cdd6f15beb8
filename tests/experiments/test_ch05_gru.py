"""Chapter 5's experiment code: parameter counts, equal budgets, short seeded runs, the timings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.experiments import ch05_gru as experiment


@pytest.mark.parametrize(("label", "gates"), [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_count_matches_torch(label: str, gates: int) -> None:
    task = experiment.make_task("counting")
    model = experiment.build_model(label, task, seed=0)
    assert model.kind == {"rnn": "rnn_tanh"}.get(label, label)
    H = model.rnn.hidden_size
    count = sum(p.numel() for p in model.parameters())
    assert count == experiment.model_params(label, task.input_size, H, task.output_size)
    # Spelled out: G blocks of (H D + H H + 2 H), plus the read-out H * 5 + 5.
    assert experiment.model_params(label, 5, 7, 3) == gates * (7 * 5 + 49 + 14) + 24


def test_widths_for_a_budget_give_nearly_equal_counts() -> None:
    for task in ("adding", "counting"):
        t = experiment.make_task(task)
        counts = [
            experiment.model_params(
                k,
                t.input_size,
                experiment.hidden_for_budget(k, t.input_size, t.output_size, 3000),
                t.output_size,
            )
            for k in experiment.LABELS
        ]
        assert all(abs(c - 3000) / 3000 < 0.06 for c in counts), counts
    # The GRU gets a wider layer than the LSTM at the same budget.
    assert experiment.hidden_for_budget("gru", 2, 1, 3000) > experiment.hidden_for_budget("lstm", 2, 1, 3000)


def test_a_short_run_is_seeded_and_learns() -> None:
    torch.set_num_threads(1)
    a = experiment.train("gru", "counting", steps=60, seed=3, eval_every=20)
    b = experiment.train("gru", "counting", steps=60, seed=3, eval_every=20)
    c = experiment.train("gru", "counting", steps=60, seed=4, eval_every=20)
    assert a.steps == [0, 20, 40, 60] and a.losses == b.losses and a.losses != c.losses
    assert a.losses[-1] < 0.7 * a.losses[0]
    assert 0 <= a.extras["counts_to"] <= experiment.COUNT_TEST_MAX


def test_batches_have_the_task_shapes() -> None:
    adding = experiment.make_task("adding").sample(1, 0)
    assert tuple(adding.x.shape) == (64, 100, 2) and tuple(adding.y.shape) == (64, 1) and adding.mask is None
    counting = experiment.make_task("counting").sample(1, 0)
    assert counting.x.shape[0] == 32 and counting.x.shape[2] == 5 and counting.mask is not None
    assert torch.equal(
        counting.x.argmax(-1)[counting.mask][:1], torch.tensor([1])
    )  # every string starts with ^
    alphabet, train_ids, held_out = experiment.char_corpus()
    assert len(alphabet) > 40 and len(train_ids) > 9 * len(held_out) * 0.99
    assert np.array_equal(np.unique(np.concatenate([train_ids, held_out])), np.arange(len(alphabet)))


def test_timings_are_positive_for_both_backends() -> None:
    torch.set_num_threads(1)
    assert experiment.time_epoch_torch("gru", "counting", repeats=1) > 0
    assert experiment.time_epoch_numpy("lstm", "counting", repeats=1) > 0


def test_unknown_task_and_label_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        experiment.make_task("translation")
    with pytest.raises(ValueError, match="kind must be one of"):
        experiment.model_params("transformer", 2, 3, 1)


def test_an_evaluation_comes_at_the_last_step_too() -> None:
    torch.set_num_threads(1)
    run = experiment.train("rnn", "adding", steps=25, seed=1, eval_every=10)
    assert run.kind == "rnn" and run.steps == [0, 10, 20, 25] and len(run.losses) == 4


def test_the_quick_comparison_runs_every_label_on_every_task_and_stores_nothing(
    capsys, monkeypatch, tmp_path
) -> None:
    torch.set_num_threads(1)
    monkeypatch.setattr(experiment, "RESULT", tmp_path / "ch05_gru_comparison.json")
    experiment.comparison(quick=True)
    out = capsys.readouterr().out
    for task in experiment.TASKS:
        for label in experiment.LABELS:
            assert f"{task} {label} {{" in out
    assert "quick run: nothing stored" in out and not (tmp_path / "ch05_gru_comparison.json").exists()


def test_the_data_size_sweep_keeps_each_runs_best_held_out_loss() -> None:
    torch.set_num_threads(1)
    sweep = experiment.data_size_sweep(sizes=(500, None), steps=4, seeds=(1,), labels=("gru",), eval_every=2)
    rows = sweep["rows"]
    assert [row["train_chars"] for row in rows] == [500, len(experiment.char_corpus()[1])]
    for row in rows:
        assert row["steps"] == [0, 2, 4] and row["best_loss"] == min(row["losses"])
        assert row["losses"][row["steps"].index(row["best_step"])] == row["best_loss"]
    # the text is cut: windows of 500 characters differ from windows of the whole text
    assert rows[0]["losses"][1:] != rows[1]["losses"][1:]
    with pytest.raises(ValueError, match="too short for windows"):
        experiment.train("gru", "charlm", 2, seed=1, train_chars=10)


def test_forget_bias_label_is_the_same_lstm_with_its_forget_bias_at_one() -> None:
    task = experiment.make_task("adding")
    plain, biased = experiment.build_model("lstm", task, 0), experiment.build_model("lstm_fb1", task, 0)
    H = plain.rnn.hidden_size
    total = (biased.rnn.bias_ih_l0 + biased.rnn.bias_hh_l0).detach()
    assert torch.all(total[H : 2 * H] == 1.0)
    assert torch.equal(plain.rnn.weight_hh_l0, biased.rnn.weight_hh_l0)  # the same draws otherwise
    assert experiment.kind_of("lstm_fb1") == "lstm" and experiment.kind_of("rnn") == "rnn_tanh"
