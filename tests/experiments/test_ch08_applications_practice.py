"""Chapter 8's practice experiments: data windows, the regularised layers, initialisation, timing."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnncourse.experiments.ch08_applications_practice import (
    CausalCNN,
    CharData,
    CharLM,
    LayerNormLSTM,
    VariationalLSTM,
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


def test_variational_lstm_without_dropout_is_torchs_lstm() -> None:
    torch.manual_seed(0)
    ours = VariationalLSTM(5, 7).double()
    theirs = nn.LSTM(5, 7, batch_first=True).double()
    with torch.no_grad():
        theirs.weight_ih_l0.copy_(ours.weight_ih)
        theirs.weight_hh_l0.copy_(ours.weight_hh)
        theirs.bias_ih_l0.copy_(ours.bias)
        theirs.bias_hh_l0.zero_()
    x = torch.randn(3, 6, 5, dtype=torch.float64)
    assert rel_error(ours(x).detach().numpy(), theirs(x)[0].detach().numpy()) < 1e-12


def test_variational_masks_are_the_same_at_every_step() -> None:
    # With W_hh = 0 and a forget gate shut (bias -1e4), h_t depends on x_t alone; a constant
    # input then gives the same h_t at every step exactly when the input mask does not change.
    torch.manual_seed(0)
    layer = VariationalLSTM(16, 4, dropout=0.5).double()
    with torch.no_grad():
        layer.weight_hh.zero_()
        layer.bias.zero_()
        layer.bias[4:8] = -1e4
    x = torch.randn(8, 1, 16, dtype=torch.float64).expand(8, 10, 16)
    layer.train()
    out = layer(x)
    assert torch.allclose(out, out[:, :1].expand_as(out), rtol=0, atol=1e-12)
    layer.eval()
    assert not torch.allclose(layer(x), out)  # the masks changed something in training
    # per-step dropout, for contrast, would change h_t from step to step
    step_dropped = nn.functional.dropout(x, 0.5, training=True)
    assert not torch.allclose(step_dropped, step_dropped[:, :1].expand_as(step_dropped))
    with pytest.raises(ValueError):
        VariationalLSTM(3, 3, dropout=1.0)


def test_layernorm_lstm_ignores_the_batch_and_has_gradients() -> None:
    torch.manual_seed(0)
    layer = LayerNormLSTM(3, 4).double()
    x = torch.randn(5, 6, 3, dtype=torch.float64)
    alone = layer(x[:1])
    assert rel_error(alone.detach().numpy(), layer(x)[:1].detach().numpy()) < 1e-12
    small = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: layer(inp).sum(), (small,))


def test_normalisation_over_the_batch_depends_on_the_batch() -> None:
    assert norm_depends_on_batch(nn.BatchNorm1d(16), 16) > 0.1
    assert norm_depends_on_batch(nn.LayerNorm(16), 16) == 0.0


def test_causal_cnn_never_sees_the_future_and_sees_its_receptive_field() -> None:
    torch.manual_seed(0)
    model = CausalCNN(10, embed=4, channels=8, layers=3, kernel=2).double()
    assert model.receptive_field == 8  # 1 + 1 * (1 + 2 + 4)
    x = torch.randint(0, 10, (1, 20))
    changed = x.clone()
    changed[0, 12] = (x[0, 12] + 1) % 10
    diff = (model(x) - model(changed)).abs().sum(dim=2)[0]
    assert diff[:12].max() == 0.0  # earlier steps cannot see step 12
    assert diff[12:20].min() > 0.0  # steps 12..19 all see it (12 + 8 - 1 = 19)
    far = x.clone()
    far[0, 0] = (x[0, 0] + 1) % 10
    assert (model(x) - model(far)).abs().sum(dim=2)[0, 8:].max() == 0.0  # beyond the receptive field


def test_char_lm_kinds_and_parameter_count() -> None:
    V, E, H = 11, 5, 7
    lstm = CharLM(V, E, H)
    # embedding + LSTM (4H rows, input and recurrent weights, two biases) + head
    assert count_parameters(lstm) == V * E + 4 * H * (E + H + 2) + H * V + V
    x = torch.randint(0, V, (2, 6))
    for kind in ("lstm", "gru", "variational", "layernorm"):
        model = CharLM(V, E, H, layers=2, kind=kind, dropout=0.1)  # type: ignore[arg-type]
        assert model(x).shape == (2, 6, V)
    with pytest.raises(ValueError):
        CharLM(V, kind="lstm", recurrent_dropout=0.1)
    with pytest.raises(ValueError):
        CharLM(V, kind="transformer")  # type: ignore[arg-type]


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
    model = CharLM(data.vocab_size, 8, 32)
    history = train_char_model(model, data, epochs=3, lr=1e-2, scheduler="warmup_cosine")
    assert history.val_loss[-1] < history.val_loss[0] < math.log(data.vocab_size) + 0.5
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
