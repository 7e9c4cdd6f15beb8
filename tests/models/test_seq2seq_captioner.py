"""The attentive captioner: a CNN's columns as the memory of chapter 7's attentive decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.pairs import BOS_ID, EOS_ID
from rnncourse.gradcheck import rel_error
from rnncourse.models.seq2seq import AttentionCaptioner, ConvColumns, seq2seq_loss
from rnncourse.scratch.decoding import greedy_search


def test_conv_columns_has_a_column_per_two_pixels_and_sees_only_its_neighbourhood() -> None:
    torch.manual_seed(0)
    columns = ConvColumns(8, channels=4, memory_size=5).double()
    images = torch.rand(2, 8, 24, dtype=torch.float64)
    memory = columns(images)
    assert memory.shape == (2, 12, 5)
    # the first convolution reaches 1 pixel either side, the pooling pairs pixels 2k, 2k+1,
    # the second convolution one pooled column either side: memory column j depends on
    # pixels 2j-3 .. 2j+4 only, so changing pixels 16.. leaves columns 0..5 as they were
    changed = images.clone()
    changed[:, :, 16:] = torch.rand(2, 8, 8, dtype=torch.float64)
    after = columns(changed)
    assert rel_error(after[:, :6].detach().numpy(), memory[:, :6].detach().numpy()) < 1e-12
    assert (after[:, 6:] - memory[:, 6:]).abs().max() > 1e-3 * memory.abs().max()


def test_conv_columns_refuses_images_of_the_wrong_height() -> None:
    with pytest.raises(ValueError, match="even"):
        ConvColumns(7)
    with pytest.raises(ValueError, match="images has shape"):
        ConvColumns(8)(torch.zeros(2, 6, 24))


def test_teacher_forcing_and_the_step_function_agree() -> None:
    """The decoding step gives the same log-probabilities as the teacher-forced forward, word by word."""
    torch.manual_seed(0)
    model = AttentionCaptioner(8, 9, embed_size=6, hidden_size=10, channels=4, memory_size=7).double()
    images = torch.rand(3, 8, 16, dtype=torch.float64)
    tokens = torch.tensor([[BOS_ID, 5, 6, 7], [BOS_ID, 8, 4, 4], [BOS_ID, 6, 6, 5]])
    logits, weights = model(images, tokens)
    assert logits.shape == (3, 4, 9)
    assert weights is not None and weights.shape == (3, 4, 8)
    assert rel_error(weights.sum(-1).detach().numpy(), np.ones((3, 4))) < 1e-12
    step, state = model.step_function(), model.encode(images)
    for t in range(4):
        log_probs, state = step(tokens[:, t].numpy(), state)
        expected = torch.log_softmax(logits[:, t], dim=-1).detach().numpy()
        assert rel_error(log_probs, expected) < 1e-10


def _bars(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 4, 8) of two 4x4 halves, each lit in its top or bottom half; words 4 + (0 top, 1 bottom)."""
    codes = rng.integers(0, 2, size=(n, 2))
    images = np.zeros((n, 4, 8), dtype=np.float32)
    for i, (left, right) in enumerate(codes):
        images[i, 2 * left : 2 * left + 2, :4] = 1.0
        images[i, 2 * right : 2 * right + 2, 4:] = 1.0
    return images, codes + 4


def test_it_learns_to_caption_halves_and_each_word_looks_at_its_half() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = AttentionCaptioner(4, 6, embed_size=8, hidden_size=16, channels=8, memory_size=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        images, words = _bars(32, rng)
        target = torch.from_numpy(np.concatenate([words, np.full((32, 1), EOS_ID)], axis=1))
        tokens_in = torch.cat([torch.full((32, 1), BOS_ID), target[:, :2]], dim=1)
        loss = seq2seq_loss(model(torch.from_numpy(images), tokens_in), (target, torch.full((32,), 3)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    images, words = _bars(200, rng)
    with torch.no_grad():
        encoded = model.encode(torch.from_numpy(images))
    tokens, _ = greedy_search(model.step_function(), encoded, BOS_ID, EOS_ID, 4)
    assert np.mean((tokens[:, :2] == words).all(axis=1)) > 0.95
    assert (tokens[:, 2] == EOS_ID).all()
    with torch.no_grad():
        _, weights = model(
            torch.from_numpy(images),
            torch.from_numpy(np.concatenate([np.full((200, 1), BOS_ID), words], axis=1)),
        )
    assert weights is not None
    left_share = weights[:, :, :2].sum(-1).mean(0)  # the columns of the left half
    # word 1 reads the left half more than word 2 does (the first state holds the mean column
    # too, so attention need not be sharp to be right)
    assert left_share[0] > left_share[1] + 0.15
