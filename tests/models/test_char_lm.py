"""Tests of the character-level language models and their stateful truncated-BPTT loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnncourse.data.char_stream import CharVocab
from rnncourse.gradcheck import rel_error
from rnncourse.models.char_lm import (
    CausalCNN,
    CharLM,
    StreamChunks,
    char_loss,
    evaluate_nats,
    generate,
    nats_to_bits,
    tbptt_step,
    train_tbptt,
)
from rnncourse.nn.regularised import LayerNormLSTM, VariationalLSTM
from rnncourse.training import detach_state


@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_course_layers_give_torch_layers_results(kind: str) -> None:
    torch.manual_seed(0)
    theirs = CharLM(7, 5, kind=kind, embedding_dim=3).double()
    ours = CharLM(7, 5, kind=kind, embedding_dim=3, implementation="course").double()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randint(0, 7, (2, 6))
    logits_t, state_t = theirs(x)
    logits_o, state_o = ours(x)
    assert logits_t.shape == (2, 6, 7)
    assert rel_error(logits_o.detach().numpy(), logits_t.detach().numpy()) < 1e-12
    h_t = state_t[0] if isinstance(state_t, tuple) else state_t
    h_o = state_o[0] if isinstance(state_o, tuple) else state_o
    assert rel_error(h_o.detach().numpy(), h_t.detach().numpy()) < 1e-12


def test_one_hot_input_and_shape_errors() -> None:
    model = CharLM(4, 3, kind="rnn_tanh")
    logits, _ = model(torch.zeros(2, 5, dtype=torch.int64))
    assert logits.shape == (2, 5, 4)
    with pytest.raises(ValueError, match=r"x has shape \(5,\)"):
        model(torch.zeros(5, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64"):
        model(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="kind"):
        CharLM(4, 3, kind="transformer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind must be one of"):
        CharLM(4, 3, kind="rnn")  # type: ignore[arg-type]  # a label, not a kind
    with pytest.raises(ValueError, match="recurrent_dropout needs"):
        CharLM(4, 3, recurrent_dropout=0.1)
    with pytest.raises(ValueError, match="is an LSTM layer"):
        CharLM(4, 3, kind="gru", implementation="layernorm")


def test_mean_and_sum_loss_and_bits() -> None:
    torch.manual_seed(1)
    logits, targets = torch.randn(3, 4, 6), torch.randint(0, 6, (3, 4))
    mean, total = char_loss(logits, targets), char_loss(logits, targets, reduction="sum")
    assert rel_error(total.item(), 12 * mean.item()) < 1e-6
    by_hand = -torch.log_softmax(logits, -1).gather(-1, targets[..., None]).mean()
    assert rel_error(mean.item(), by_hand.item()) < 1e-6
    assert nats_to_bits(math.log(2)) == pytest.approx(1.0, abs=1e-15)
    # A uniform model over V characters scores ln V nats.
    assert char_loss(torch.zeros(2, 3, 6), targets[:2, :3]).item() == pytest.approx(math.log(6), rel=1e-6)


def test_tbptt_step_gradient_stops_at_the_chunk_boundary() -> None:
    torch.manual_seed(2)
    model = CharLM(5, 4, kind="gru", embedding_dim=3).double()
    x, y = torch.randint(0, 5, (2, 12)), torch.randint(0, 5, (2, 12))
    _, state = model(x[:, :6])  # chunk 1: the state is attached to its graph
    expected_state = state.detach().clone()
    # The gradient of chunk 2, computed by hand from a constant initial state.
    model.zero_grad()
    char_loss(model(x[:, 6:], expected_state)[0], y[:, 6:]).backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    weights = {name: p.detach().clone() for name, p in model.named_parameters()}

    class Recorder(torch.optim.SGD):
        """SGD with lr 0 that keeps the gradients it was given."""

        def step(self, closure=None):  # type: ignore[no-untyped-def]
            self.seen = {name: p.grad.clone() for name, p in model.named_parameters()}

    optimizer = Recorder(model.parameters(), lr=0.0)
    result = tbptt_step(model, optimizer, x[:, 6:], y[:, 6:], state, max_norm=None)
    for name in expected:
        assert rel_error(optimizer.seen[name].numpy(), expected[name].numpy()) < 1e-12, name
        assert rel_error(dict(model.named_parameters())[name].detach().numpy(), weights[name].numpy()) == 0
    assert result.state.requires_grad  # the new state is attached until the next boundary
    assert result.grad_norm > 0


def test_without_detach_the_second_backward_fails() -> None:
    torch.manual_seed(3)
    model = CharLM(5, 4, kind="rnn_tanh")
    x, y = torch.randint(0, 5, (2, 8)), torch.randint(0, 5, (2, 8))
    logits, state = model(x[:, :4])
    char_loss(logits, y[:, :4]).backward()
    logits, _ = model(x[:, 4:], state)  # not detached: chunk 1's freed graph is still behind it
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        char_loss(logits, y[:, 4:]).backward()
    assert detach_state(None) is None
    h, c = detach_state((state.clone(), state.clone()))  # type: ignore[misc]
    assert not h.requires_grad and not c.requires_grad


def test_training_learns_a_periodic_text_and_generation_continues_it() -> None:
    torch.manual_seed(4)
    text = "abcde" * 300
    vocab = CharVocab.build(text)
    ids = vocab.encode(text)
    model = CharLM(vocab.size, 16, kind="rnn_tanh", embedding_dim=None)
    before = evaluate_nats(model, ids, 4, 10)
    history = train_tbptt(model, ids, batch_size=4, k=10, epochs=4, lr=0.02, max_norm=1.0)
    assert (
        len(history.step_loss) == len(history.grad_norm) == 4 * 38
    )  # 1499 // 4 = 374 steps per row, 38 chunks
    after = evaluate_nats(model, ids, 4, 10)
    assert before > 1.2 and after < 0.05  # chance is ln 5 = 1.61 nats
    # Without the state, each chunk's first character has no context: worse, but still learned.
    reset = evaluate_nats(model, ids, 4, 10, stateful=False)
    assert after < reset < before
    greedy = generate(model, vocab, "ab", 12, torch.Generator().manual_seed(0), temperature=0)
    assert greedy == "ab" + "cdeab" * 2 + "cd"
    one = generate(model, vocab, "a", 30, torch.Generator().manual_seed(7), temperature=1.5)
    assert one == generate(model, vocab, "a", 30, torch.Generator().manual_seed(7), temperature=1.5)
    assert len(one) == 31 and one.startswith("a")


def test_numpy_generator_draws_reproducibly() -> None:
    torch.manual_seed(5)
    vocab = CharVocab.build("abcd")
    model = CharLM(vocab.size, 6, embedding_dim=3)
    one = generate(model, vocab, "ab", 20, np.random.default_rng(3), temperature=1.0)
    assert one == generate(model, vocab, "ab", 20, np.random.default_rng(3), temperature=1.0)
    assert len(one) == 22 and one.startswith("ab") and set(one) <= set("abcd")
    assert generate(model, vocab, "ab", 20, np.random.default_rng(4)) != one  # another seed, another text
    with pytest.raises(ValueError, match="prompt"):
        generate(model, vocab, "", 5, np.random.default_rng(0))


def test_max_steps_and_an_optimizer_of_ones_own() -> None:
    torch.manual_seed(6)
    ids = CharVocab.build("abc").encode("abc" * 100)
    model = CharLM(3, 5, kind="gru", embedding_dim=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    before = [p.detach().clone() for p in model.parameters()]
    history = train_tbptt(model, ids, batch_size=2, k=5, epochs=3, max_steps=7, optimizer=optimizer)
    assert len(history.step_loss) == 7 and history.steps[-1] == 7
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))  # lr 0: nothing moved
    with pytest.raises(ValueError, match="too few for 2 rows"):
        StreamChunks(ids[:2], 2, 5)  # two rows need at least 3 ids (an input and its target each)


@pytest.mark.parametrize(
    ("implementation", "layer_type"), [("variational", VariationalLSTM), ("layernorm", LayerNormLSTM)]
)
def test_regularised_layers_and_dropout(implementation: str, layer_type: type) -> None:
    torch.manual_seed(7)
    V, E, H = 11, 5, 7
    options = {"dropout": 0.2, "recurrent_dropout": 0.2} if implementation == "variational" else {}
    model = CharLM(V, H, embedding_dim=E, num_layers=2, implementation=implementation, **options)  # type: ignore[arg-type]
    assert isinstance(model.rnn, layer_type) and model.rnn.num_layers == 2
    x = torch.randint(0, V, (3, 6))
    logits, (h_n, c_n) = model(x)
    assert logits.shape == (3, 6, V) and h_n.shape == c_n.shape == (2, 3, H)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])  # no masks in eval mode


def test_dropout_between_torch_layers_and_on_inputs_and_outputs() -> None:
    torch.manual_seed(8)
    model = CharLM(9, 6, embedding_dim=4, num_layers=2, dropout=0.5)
    assert model.drop.p == 0.5 and model.rnn.dropout == 0.5
    x = torch.randint(0, 9, (4, 5))
    model.eval()
    clean = model(x)[0]
    model.train()
    assert (model(x)[0] - clean).abs().max() > 1e-3


def test_causal_cnn_never_sees_the_future_and_sees_its_receptive_field() -> None:
    torch.manual_seed(0)
    model = CausalCNN(10, embed=4, channels=8, layers=3, kernel=2).double()
    assert model.receptive_field == 8  # 1 + 1 * (1 + 2 + 4)
    x = torch.randint(0, 10, (1, 20))
    changed = x.clone()
    changed[0, 12] = (x[0, 12] + 1) % 10
    logits, state = model(x)
    assert state is None and logits.shape == (1, 20, 10)
    diff = (logits - model(changed)[0]).abs().sum(dim=2)[0]
    assert diff[:12].max() == 0.0  # earlier steps cannot see step 12
    assert diff[12:20].min() > 0.0  # steps 12..19 all see it (12 + 8 - 1 = 19)
    far = x.clone()
    far[0, 0] = (x[0, 0] + 1) % 10
    assert (logits - model(far)[0]).abs().sum(dim=2)[0, 8:].max() == 0.0  # beyond the receptive field
