"""Tests of the character-level language model and its stateful truncated-BPTT loop."""

from __future__ import annotations

import math

import pytest
import torch

from rnncourse.data.char_stream import CharVocab
from rnncourse.gradcheck import rel_error
from rnncourse.models.char_lm import (
    CharLM,
    char_loss,
    detach_state,
    evaluate_nats,
    generate,
    nats_to_bits,
    tbptt_step,
    train_tbptt,
)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
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
    model = CharLM(4, 3, kind="rnn")
    logits, _ = model(torch.zeros(2, 5, dtype=torch.int64))
    assert logits.shape == (2, 5, 4)
    with pytest.raises(ValueError, match=r"x has shape \(5,\)"):
        model(torch.zeros(5, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64"):
        model(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="kind"):
        CharLM(4, 3, kind="transformer")  # type: ignore[arg-type]


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
    model = CharLM(5, 4, kind="rnn")
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
    model = CharLM(vocab.size, 16, kind="rnn", embedding_dim=None)
    before = evaluate_nats(model, ids, 4, 10)
    history = train_tbptt(model, ids, batch_size=4, k=10, epochs=4, lr=0.02, max_norm=1.0)
    assert (
        len(history.losses) == len(history.grad_norms) == 4 * 38
    )  # 1499 // 4 = 374 steps per row, 38 chunks
    after = evaluate_nats(model, ids, 4, 10)
    assert before > 1.2 and after < 0.05  # chance is ln 5 = 1.61 nats
    greedy = generate(model, vocab, "ab", 12, torch.Generator().manual_seed(0), temperature=0)
    assert greedy == "ab" + "cdeab" * 2 + "cd"
    one = generate(model, vocab, "a", 30, torch.Generator().manual_seed(7), temperature=1.5)
    assert one == generate(model, vocab, "a", 30, torch.Generator().manual_seed(7), temperature=1.5)
    assert len(one) == 31 and one.startswith("a")
