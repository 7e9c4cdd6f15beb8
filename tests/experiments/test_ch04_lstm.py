"""Chapter 4's experiments: the gradient measurement is the chain rule, the training is seeded."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.experiments import ch04_lstm as exp
from rnncourse.gradcheck import rel_error
from rnncourse.scratch.lstm import lstm_step_forward
from rnncourse.scratch.recurrent import init_params


def test_lstm_gradient_norms_match_finite_differences() -> None:
    # dL/dc_k for L = sum(u * h_T), perturbing c_k (and h_k = o_k tanh(c_k), which reads it).
    T, N, D, H = 6, 2, 3, 4
    result = exp.gradient_through_time("lstm", T=T, N=N, D=D, H=H, seed=3)
    rng = np.random.default_rng(3)  # the function's draws, in its order
    params = init_params("lstm", D, H, rng)
    weights = (params["W_xh"], params["W_hh"], params["b"])
    x, u = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))

    def states_after(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, c = np.zeros((N, H)), np.zeros((N, H))
        for t in range(k):
            h, c, cache = lstm_step_forward(x[:, t], h, c, *weights)
        return h, c, cache.o

    def loss(k: int, c_k: np.ndarray) -> float:
        o_k = states_after(k)[2]
        h, c = o_k * np.tanh(c_k), c_k
        for t in range(k, T):
            h, c, _ = lstm_step_forward(x[:, t], h, c, *weights)
        return float(np.sum(u * h))

    for k in (1, 3, T):
        c_k = states_after(k)[1]
        grad = np.zeros((N, H))
        for index in np.ndindex(N, H):
            step = np.zeros((N, H))
            step[index] = 1e-6
            grad[index] = (loss(k, c_k + step) - loss(k, c_k - step)) / 2e-6
        measured = result["state"][k - 1]
        assert abs(np.linalg.norm(grad, axis=1).mean() - measured) < 1e-6 * measured, k


def test_cell_path_is_the_product_of_forget_gates_and_equals_the_total_at_the_last_step() -> None:
    result = exp.gradient_through_time("lstm", T=20, forget_bias=3.0, seed=1)
    assert result["cell_path"][-1] == result["state"][-1]
    assert np.all(np.diff(result["cell_path"]) > 0)  # forget gates < 1: shrinks going back
    assert result["forget"].min() > 0.9  # sigma(3) is about 0.95


def test_rnn_gradient_vanishes_and_open_forget_gates_keep_the_lstm_gradient() -> None:
    rnn = exp.gradient_through_time("rnn_tanh", T=60, seed=0)["state"]
    lstm = exp.gradient_through_time("lstm", T=60, forget_bias=3.0, seed=0)["state"]
    assert rnn[0] < 1e-10 * rnn[-1] and lstm[0] > 0.1 * lstm[-1]
    assert exp.steps_to_vanish(rnn) is not None and exp.steps_to_vanish(lstm) is None


def test_training_is_reproducible_and_sets_the_forget_bias() -> None:
    first = exp.train_adding(1.0, seed=0, T=10, hidden=4, steps=20, batch=8, eval_every=10)
    again = exp.train_adding(1.0, seed=0, T=10, hidden=4, steps=20, batch=8, eval_every=10)
    assert first == again and first["steps"] == [0, 10, 20]
    shorter = exp.train_adding(1.0, seed=0, T=10, hidden=4, steps=25, batch=8, eval_every=10)
    assert shorter["steps"] == [0, 10, 20]  # the last 5 steps are trained but not reported


def test_bidirectional_padding_right_and_wrong() -> None:
    pad = exp.bidirectional_padding(seed=2, T=6, length=2)
    assert rel_error(pad["per_length"][:2], pad["alone"]) < 1e-12
    assert rel_error(pad["whole_array"][:2], pad["alone"]) > 1e-3
    assert np.all(pad["per_length"][2:] == 0)  # outputs at padding are zero


def test_the_chat_split_keeps_every_prompt_in_one_part() -> None:
    split = exp.chat_split(seed=0)
    prompts = {name: {prompt for prompt, _ in pairs} for name, pairs in split.items()}
    assert not (prompts["train"] & prompts["test"]) and not (prompts["train"] & prompts["validation"])
    assert not (prompts["validation"] & prompts["test"])
    everything = sum(len(p) for p in prompts.values())
    assert abs(len(prompts["train"]) / everything - 0.7) < 0.01
    assert split != exp.chat_split(seed=1) and split == exp.chat_split(seed=0)


def test_the_forget_gate_trace_watches_every_unit_at_every_evaluation() -> None:
    trace = exp.forget_gate_trace(seed=0, T=10, hidden=4, steps=20, eval_every=10, probe=8)
    assert trace["steps"] == [0, 10, 20]
    assert np.array(trace["unit_forget"]).shape == (3, 4)
    assert all(0 < f < 1 for row in trace["unit_forget"] for f in row)
    assert set(trace["state"]) >= {"rnn.weight_ih_l0", "rnn.weight_hh_l0"}


def test_unigram_nats_is_the_smoothed_frequency_of_each_held_out_character() -> None:
    # counts + 1 = (3, 2, 1) out of 6: the held-out 0 and 1 cost log 2 and log 3 nats
    nats = exp.unigram_nats(np.array([0, 0, 1]), np.array([0, 1]), size=3)
    assert abs(nats - (np.log(2) + np.log(3)) / 2) < 1e-12


def test_the_text_lstm_is_seeded_and_learns_more_than_character_frequencies() -> None:
    vocab, train_ids, held_ids = exp.text_data()
    unigram = exp.unigram_nats(train_ids, held_ids[: exp.TEXT_EVAL_CHARS], vocab.size)
    first = exp.train_text("lstm", steps=100, samples=20)
    again = exp.train_text("lstm", steps=100, samples=20)
    assert first["held_out_nats"] == again["held_out_nats"] and first["samples"] == again["samples"]
    assert first["steps"] == [0, 100]
    assert abs(first["held_out_nats"][0] - np.log(vocab.size)) < 0.1  # untrained: near uniform
    assert first["held_out_nats"][-1] < unigram - 0.1  # 100 steps already beat the frequencies
    assert all(sample.startswith(exp.TEXT_PROMPT) for sample in first["samples"].values())


def test_train_text_names_the_models_it_knows() -> None:
    with pytest.raises(ValueError, match="lstm"):
        exp.train_text("gru", steps=1)


def test_the_forget_bias_summary_counts_each_seed_against_the_target() -> None:
    def curve(*mse: float) -> dict:
        return {"steps": [0, 100, 200, 300][: len(mse)], "test_mse": list(mse), "final_mse": mse[-1]}

    stored = {
        "seeds": [0, 1, 2],
        "runs": {
            "a": [curve(1.0, 0.2, 0.005, 0.001), curve(1.0, 0.2, 0.2, 0.2), curve(1.0, 0.009, 0.002, 0.003)],
            "b": [curve(1.0, 0.2, 0.2, 0.2)] * 3,
        },
    }
    summary = exp.summarise_forget_bias(stored)
    assert summary["a"]["reach"] == [200, None, 100] and summary["a"]["solved"] == 2
    assert summary["a"]["median_steps"] == 150.0 and summary["a"]["median_final_mse"] == 0.003
    assert summary["b"] == {
        "reach": [None] * 3,
        "solved": 0,
        "seeds": 3,
        "median_steps": None,
        "final_mse": [0.2] * 3,
        "median_final_mse": 0.2,
    }
    assert exp.summarise_forget_bias(stored, target=0.25)["b"]["reach"] == [100] * 3
    with pytest.raises(ValueError, match="seeds"):
        exp.summarise_forget_bias({"seeds": [0, 1], "runs": {"a": stored["runs"]["a"]}})


def test_earlier_counts_a_seed_that_never_solved_as_later_than_any_step() -> None:
    assert exp.seeds_solved_earlier([100, None, 300, 200], [200, None, None, 200]) == 2
    assert exp.seeds_solved_earlier([None], [5000]) == 0
    with pytest.raises(ValueError, match="pair"):
        exp.seeds_solved_earlier([1, 2], [1])


def test_the_long_forget_bias_run_trains_both_biases_at_the_longer_length() -> None:
    quick = exp.stored_run("forget_bias_long", quick=True)  # 20 steps, the first seed
    assert quick["settings"]["T"] == 2 * exp.LONG_RUN["T"]
    assert quick["settings"]["hidden"] < exp.LONG_RUN["hidden"]
    assert set(quick["runs"]) == set(exp.BIASES) and quick["seeds"] == exp.LONGER_RUN["seeds"][:1]
    for label, (run,) in quick["runs"].items():
        assert run["steps"] == [0, 10, 20], label
        assert 0.05 < run["test_mse"][-1] < 2.0  # an adding-problem MSE, not yet solved
    # the same seed starts from other forget biases only: the curves differ
    assert quick["runs"]["torch default (about 0)"][0] != quick["runs"]["forget bias 1 (Keras)"][0]
