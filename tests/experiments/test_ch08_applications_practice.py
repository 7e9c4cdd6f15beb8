"""Chapter 8's practice experiments: data windows, normalisation, initialisation, training, timing.

The regularised layers are tested in ``tests/nn/test_regularised.py``, the
character models in ``tests/models/test_char_lm.py``.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnncourse.experiments.ch08_applications_practice import (
    CharData,
    bits_per_char,
    char_batches,
    char_data,
    count_parameters,
    gradient_reach,
    keras_init_,
    norm_depends_on_batch,
    time_recurrent,
    train_char_model,
)
from rnncourse.gradcheck import rel_error
from rnncourse.models.char_lm import CharLM


def test_char_data_is_split_in_order() -> None:
    data = char_data("hamlet", n_train=3000, n_val=500, n_test=500)
    assert len(data.train) == 3000 and len(data.val) == 500 and len(data.test) == 500
    text = "".join(data.chars[i] for i in data.train[:9].tolist())
    assert text == "BERNARDO:"  # the play's first line
    assert data.chars[0] == "\0" and int(data.train.min()) >= 1  # 0 is only for characters unseen in training
    with pytest.raises(ValueError):
        char_data("hamlet", n_train=10**7)


def test_char_batches_shift_targets_by_one() -> None:
    ids = torch.arange(50)
    batches = char_batches(ids, seq_len=8, batch_size=4)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 8), (2, 8)]  # 49 // 8 = 6 windows
    x, y = batches[0]
    assert torch.equal(y, x + 1)
    assert torch.equal(x[:, 0], torch.tensor([0, 8, 16, 24]))  # windows do not overlap
    shuffled = char_batches(ids, 8, 4, shuffle=True, seed=1)
    assert sorted(torch.cat([b[0][:, 0] for b in shuffled]).tolist()) == [0, 8, 16, 24, 32, 40]
    assert torch.equal(shuffled[0][0], char_batches(ids, 8, 4, shuffle=True, seed=1)[0][0])
    with pytest.raises(ValueError):
        char_batches(ids[:5], 8, 4)


def test_normalisation_over_the_batch_depends_on_the_batch() -> None:
    assert norm_depends_on_batch(nn.BatchNorm1d(16), 16) > 0.1
    assert norm_depends_on_batch(nn.LayerNorm(16), 16) == 0.0


def test_count_parameters_counts_the_trainable_numbers() -> None:
    V, E, H = 11, 5, 7
    lstm = CharLM(V, H, embedding_dim=E)
    # embedding + LSTM (4H rows, input and recurrent weights, two biases) + head
    assert count_parameters(lstm) == V * E + 4 * H * (E + H + 2) + H * V + V
    assert lstm.embedding is not None
    lstm.embedding.weight.requires_grad_(False)
    assert count_parameters(lstm) == 4 * H * (E + H + 2) + H * V + V


def test_keras_initialisation() -> None:
    torch.manual_seed(0)
    D, H = 6, 5
    lstm = keras_init_(nn.LSTM(D, H))
    w_hh = lstm.weight_hh_l0.detach().double()
    assert rel_error((w_hh.T @ w_hh).numpy(), torch.eye(H, dtype=torch.float64).numpy()) < 1e-6
    bound = math.sqrt(6 / (D + 4 * H))
    assert lstm.weight_ih_l0.abs().max() <= bound
    bias = lstm.bias_ih_l0.detach()
    assert (
        torch.equal(bias[H : 2 * H], torch.ones(H))
        and bias[:H].abs().max() == 0
        and bias[2 * H :].abs().max() == 0
    )
    assert lstm.bias_hh_l0.abs().max() == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forget_bias_keeps_the_gradient_reaching_further_back(seed: int) -> None:
    torch.manual_seed(seed)
    default = nn.LSTM(16, 32, batch_first=True)
    torch.manual_seed(seed)
    keras = keras_init_(nn.LSTM(16, 32, batch_first=True))
    reach_t, forget_t = gradient_reach(default, steps=40, seed=seed)
    reach_k, forget_k = gradient_reach(keras, steps=40, seed=seed)
    assert reach_t.shape == (40,)
    assert abs(forget_t - 0.5) < 0.05 and abs(forget_k - 1 / (1 + math.exp(-1))) < 0.05
    assert reach_k[-20] > 10 * reach_t[-20]  # 20 steps back the Keras-initialised LSTM still hears the input


def test_training_lowers_the_loss_and_knows_its_schedules() -> None:
    data = char_data("hamlet", n_train=4000, n_val=1000, n_test=1000)
    torch.manual_seed(0)
    model = CharLM(data.vocab_size, 32, embedding_dim=8)
    history = train_char_model(model, data, epochs=3, lr=1e-2, scheduler="warmup_cosine")
    assert history.val_loss[-1] < history.val_loss[0] < math.log(data.vocab_size) + 0.5
    # restore_best: the model ends with the best epoch's weights; bits are nats / ln 2
    best = min(history.val_loss)
    assert bits_per_char(model, data.val) == pytest.approx(best / math.log(2), rel=1e-5)
    assert history.lr == pytest.approx([0.5e-2, 1e-2, 0.05 * 1e-2])  # one epoch of warm-up, then the cosine
    with pytest.raises(ValueError):
        train_char_model(model, data, epochs=1, scheduler="sometimes")


def test_time_recurrent_reports_every_shape() -> None:
    records = time_recurrent([(2, 3, 4), (1, 2, 8)], repeats=1, input_size=3)
    assert [(r["N"], r["T"], r["H"]) for r in records] == [(2, 3, 4), (1, 2, 8)]
    assert all(float(r["seconds"]) > 0 and r["device"] == "cpu" for r in records)
    assert float(records[0]["chars_per_s"]) == pytest.approx(6 / float(records[0]["seconds"]))


def test_chardata_vocab_size() -> None:
    data = CharData("\0ab", torch.tensor([1, 2]), torch.tensor([1]), torch.tensor([2]))
    assert data.vocab_size == 3


def test_gpu_timings_quick_prints_a_row_per_shape_and_says_when_there_is_no_gpu(capsys) -> None:
    from rnncourse.experiments.ch08_applications_practice import GPU_QUICK_SHAPES, main

    threads = torch.get_num_threads()
    try:
        main(["gpu", "--quick"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "(ms per training step)" in out and "cpu, 1 thread" in out
    for N, T, H in GPU_QUICK_SHAPES:
        assert any(line.split()[:3] == [str(N), str(T), str(H)] for line in out.splitlines()), out
    if not torch.cuda.is_available():
        assert "No GPU was found" in out


def test_timings_of_a_busy_machine_are_refused() -> None:
    from rnncourse.experiments.ch08_applications_practice import busy_reason

    assert busy_reason(0.1, 2) is None
    reason = busy_reason(12.0, 2)
    assert reason is not None and "not stored" in reason and "12.00 on 2 cores" in reason
