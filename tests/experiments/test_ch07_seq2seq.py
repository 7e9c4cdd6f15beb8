"""Chapter 7's experiment helpers: the measurements are right on inputs worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import torch

from rnncourse.experiments import ch07_seq2seq as exp


def test_loss_normalisations_by_hand() -> None:
    values = exp.loss_normalisations((4, 2), T=4, C=5)
    assert abs(values["mean over real tokens"] - math.log(5)) < 1e-12
    assert abs(values["mean over padded positions (D2L's older loss)"] - math.log(5) * 6 / 8) < 1e-12


def test_exact_match_and_accuracy_by_length() -> None:
    task = exp.copy_task(train_size=10, test_size=4, seed=0, max_len=6)
    pairs = [("12", "12"), ("345", "345"), ("67890", "67890"), ("1111", "1111")]
    outputs = [list("12"), list("34"), list("67890"), list("1112")]
    assert exp.exact_match(outputs, pairs, task).tolist() == [True, False, True, False]
    assert exp.accuracy_by_length(outputs, task, pairs, (2, 4, 6)) == [0.5, 0.5]


def test_training_lowers_the_loss_and_decoding_returns_tokens() -> None:
    torch.set_num_threads(1)
    task = exp.date_task(train_size=200, test_size=5, seed=0)
    run = exp.train(task, "multiplicative", steps=40, seed=0, batch_size=16, embed_size=8, hidden_size=16)
    assert np.mean(run.losses[-5:]) < 0.8 * np.mean(run.losses[:5])
    greedy = exp.greedy_outputs(run.model, task, task.test, 12)
    beam = exp.beam_outputs(run.model, task, task.test[:2], 12, beam_size=2, alpha=0.6)
    assert len(greedy) == 5 and all(len(o) <= 12 for o in greedy) and len(beam) == 2
    weights = exp.attention_map(run.model, task, *task.test[0])
    assert weights.shape == (len(task.test[0][1]) + 1, len(task.test[0][0]) + 1)
    assert np.allclose(weights.sum(axis=1), 1.0)
