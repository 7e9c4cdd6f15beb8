"""Tests of the encoder-decoder: shapes, masking, the loss's normalisation, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.pairs import BOS_ID, EOS_ID, PairVocabulary, encode_pairs, words
from rnncourse.gradcheck import rel_error
from rnncourse.models.seq2seq import (
    Seq2Seq,
    masked_cross_entropy,
    pair_batches,
    seq2seq_loss,
    teacher_forcing_batch,
    translate,
)
from rnncourse.scratch.decoding import beam_search, greedy_search
from rnncourse.training import FreshBatches, fit


def _batch(seed: int, N: int = 4, S: int = 6, T: int = 5, V: int = 9):
    g = torch.Generator().manual_seed(seed)
    src_lengths = torch.tensor([S, 3, 1, 4][:N])
    tgt_lengths = torch.tensor([T, 2, 4, 1][:N])
    src = torch.randint(4, V, (N, S), generator=g)
    src[torch.arange(S)[None] >= src_lengths[:, None]] = 0
    tgt = torch.randint(4, V, (N, T + 1), generator=g)
    tgt[:, 0] = BOS_ID
    return src, src_lengths, tgt, tgt_lengths


def test_masked_cross_entropy_is_the_mean_over_real_tokens() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    targets = torch.randint(0, 5, (3, 4), generator=g)
    lengths = torch.tensor([4, 1, 2])
    log_p = torch.log_softmax(logits, -1)
    real = [-log_p[n, t, targets[n, t]].item() for n in range(3) for t in range(int(lengths[n]))]
    assert rel_error(masked_cross_entropy(logits, targets, lengths).item(), float(np.mean(real))) < 1e-12


@pytest.mark.parametrize("attention", [None, "additive", "multiplicative"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_of_the_source_changes_nothing(attention, bidirectional: bool) -> None:
    torch.manual_seed(0)
    model = Seq2Seq(9, 9, 8, 10, attention, bidirectional).double()
    src, src_lengths, tgt, _ = _batch(1)
    logits, weights = model(src, src_lengths, tgt[:, :-1])
    assert logits.shape == (4, 5, 9)
    longer = torch.cat([src, torch.full((4, 3), 7)], dim=1)  # more padding, with non-pad ids in it
    logits2, weights2 = model(longer, src_lengths, tgt[:, :-1])
    assert rel_error(logits.detach().numpy(), logits2.detach().numpy()) < 1e-10
    if attention is not None:
        assert weights is not None and weights.shape == (4, 5, 6)
        assert torch.all(weights2[:, :, 6:] == 0) and torch.allclose(
            weights.sum(-1), torch.ones(4, 5, dtype=torch.float64)
        )


def test_a_short_copy_task_is_learned_and_decoded() -> None:
    """Copy 3 tokens: with attention a tiny model learns it in 150 steps; greedy and beam agree with the target."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Seq2Seq(8, 8, 16, 32, "additive")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def batch(n: int):
        body = rng.integers(4, 8, size=(n, 3))
        src = torch.as_tensor(np.concatenate([body, np.full((n, 1), EOS_ID)], 1))
        tgt = torch.as_tensor(np.concatenate([np.full((n, 1), BOS_ID), body, np.full((n, 1), EOS_ID)], 1))
        return src, torch.full((n,), 4), tgt, torch.full((n,), 4)

    history = fit(
        model,
        FreshBatches(lambda step: teacher_forcing_batch(*batch(32))),
        None,
        seq2seq_loss,
        optimizer,
        epochs=1,
        clip_norm=1.0,
        progress=False,
        seed=None,
        steps_per_epoch=150,
    )
    losses = history.step_loss
    assert len(losses) == 150 and losses[-1] < 0.1 * losses[0]
    src, src_lengths, tgt, _ = batch(16)
    model.eval()
    enc = model.encode(src, src_lengths)
    tokens, _ = greedy_search(model.step_function(), enc, BOS_ID, EOS_ID, 6)
    assert np.mean(np.all(tokens[:, :4] == tgt[:, 1:].numpy(), axis=1)) > 0.9
    best = beam_search(model.step_function(), model.encode(src[:1], src_lengths[:1]), BOS_ID, EOS_ID, 3, 6)[0]
    assert list(best.tokens) == tgt[0, 1:].tolist()


def test_teacher_forcing_batch_shifts_the_target_by_one() -> None:
    src, src_lengths, tgt, tgt_lengths = _batch(2)
    inputs_src, inputs_lengths, tgt_in, (tgt_out, lengths) = teacher_forcing_batch(
        src, src_lengths, tgt, tgt_lengths
    )
    assert inputs_src is src and inputs_lengths is src_lengths and lengths is tgt_lengths
    assert torch.equal(tgt_in[:, 1:], tgt_out[:, :-1]) and torch.all(tgt_in[:, 0] == BOS_ID)
    assert tgt_in.shape == tgt_out.shape == (4, 5)
    torch.manual_seed(0)
    model = Seq2Seq(9, 9, 8, 10).double()
    output = model(src, src_lengths, tgt_in)
    expected = masked_cross_entropy(output[0], tgt_out, tgt_lengths)
    assert seq2seq_loss(output, (tgt_out, tgt_lengths)).item() == expected.item()


def test_translate_decodes_a_trained_model_into_words() -> None:
    """A copy task over word pairs: after training, greedy translation returns the source's words."""
    pairs = [(f"w{i} w{j}", f"w{i} w{j}") for i in range(4) for j in range(4)] * 4
    vocab = PairVocabulary.from_texts([s for s, _ in pairs], words)
    src, src_len, tgt, tgt_len = (torch.from_numpy(a) for a in encode_pairs(pairs, vocab, vocab))
    torch.manual_seed(0)
    model = Seq2Seq(len(vocab), len(vocab), 16, 32, "additive")
    history = fit(
        model,
        FreshBatches(lambda step: teacher_forcing_batch(src, src_len, tgt, tgt_len)),
        None,
        seq2seq_loss,
        torch.optim.Adam(model.parameters(), lr=1e-2),
        epochs=1,
        clip_norm=1.0,
        progress=False,
        seed=None,
        steps_per_epoch=100,
    )
    assert history.step_loss[-1] < 0.1 * history.step_loss[0]
    assert translate(model, ["w1 w2", "w3 w0"], vocab, vocab, max_len=5) == [["w1", "w2"], ["w3", "w0"]]
    assert translate(model, ["w1 w2"], vocab, vocab, max_len=1) == [["w1"]]  # cut at max_len


def test_clear_errors() -> None:
    model = Seq2Seq(9, 9, 8, 10)
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(9, 9, attention="dot")
    with pytest.raises(ValueError, match="lengths"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.tensor([4, 1]), torch.zeros(2, 2, dtype=torch.long))


def test_dropout_acts_in_training_only_and_zero_draws_nothing() -> None:
    """With p > 0 two training passes differ and eval mode is deterministic; p = 0 leaves torch's
    random stream untouched, so runs made before the option existed are unchanged."""
    src, src_lengths, tgt, _ = _batch(2)
    torch.manual_seed(0)
    model = Seq2Seq(9, 9, 8, 10, "additive", dropout=0.5).double()
    plain = Seq2Seq(9, 9, 8, 10, "additive").double()
    plain.load_state_dict(model.state_dict())  # dropout adds no weights: the same state_dict
    model.train()
    first, second = model(src, src_lengths, tgt[:, :-1])[0], model(src, src_lengths, tgt[:, :-1])[0]
    assert rel_error(first.detach().numpy(), second.detach().numpy()) > 1e-3
    model.eval()
    evaluated = model(src, src_lengths, tgt[:, :-1])[0].detach().numpy()
    assert rel_error(evaluated, plain(src, src_lengths, tgt[:, :-1])[0].detach().numpy()) < 1e-12
    torch.manual_seed(5)
    plain.train()
    plain(src, src_lengths, tgt[:, :-1])
    after = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(3))
    with pytest.raises(ValueError, match="dropout must be in"):
        Seq2Seq(9, 9, dropout=1.0)


def test_pair_batches_cut_each_batch_to_its_own_longest_pair() -> None:
    pairs = [("a b", "x"), ("a b c d e", "x y z w"), ("c", "y z")]
    vocab = PairVocabulary.from_texts([text for pair in pairs for text in pair], words)
    src, src_len, tgt, tgt_len = (torch.from_numpy(a) for a in encode_pairs(pairs, vocab, vocab))
    make = pair_batches(pairs, vocab, vocab)
    short = make(torch.tensor([0, 2]))  # sources of 2 and 1 words, targets of 1 and 2 (+ <bos>/<eos>)
    s, s_len, decoder_in, (scored, t_len) = short
    assert s.shape == (2, int(src_len[[0, 2]].max())) and s.shape[1] < src.shape[1]
    assert torch.equal(s, src[[0, 2], : s.shape[1]]) and torch.equal(s_len, src_len[[0, 2]])
    longest = int(tgt_len[[0, 2]].max())
    assert torch.equal(decoder_in, tgt[[0, 2], :longest]) and torch.equal(
        scored, tgt[[0, 2], 1 : longest + 1]
    )
    assert torch.equal(t_len, tgt_len[[0, 2]])
    whole = make(torch.arange(3))  # the longest pair sets the width of a batch holding it
    assert whole[0].shape == src.shape and whole[2].shape[1] == tgt.shape[1] - 1
