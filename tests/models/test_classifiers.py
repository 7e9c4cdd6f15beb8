"""The sequence classifiers: bag of words, mean of embeddings, recurrent over padded sequences."""

from __future__ import annotations

import math

import pytest
import torch

from rnncourse.gradcheck import rel_error
from rnncourse.models.classifiers import BagOfWords, MeanEmbeddingClassifier, RecurrentClassifier


def test_bag_of_words_is_logistic_regression_on_counts() -> None:
    model = BagOfWords(6)
    with torch.no_grad():
        model.weight.weight[:, 0] = torch.tensor([0.0, 0.5, -1.0, 2.0, 0.25, 3.0])
        model.bias.fill_(0.1)
    ids = torch.tensor([[1, 1, 3, 0], [2, 4, 0, 0]])
    logits = model(ids, torch.tensor([3, 2]))
    assert logits.shape == (2, 2) and torch.all(logits[:, 0] == 0)
    assert logits[:, 1].tolist() == pytest.approx([0.5 + 0.5 + 2.0 + 0.1, -1.0 + 0.25 + 0.1])
    p = torch.softmax(logits, dim=1)[:, 1]
    assert p[0].item() == pytest.approx(1 / (1 + math.exp(-3.1)))
    assert torch.all(BagOfWords(6).weight.weight == 0)  # starts at zero


def test_mean_embedding_leaves_padding_out_and_freezes() -> None:
    table = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    table[0] = 0.0
    torch.manual_seed(0)
    model = MeanEmbeddingClassifier(table, num_classes=2, freeze=True)
    ids = torch.tensor([[1, 3, 0, 0], [2, 0, 0, 0]])
    means = torch.stack([(table[1] + table[3]) / 2, table[2]])
    expected = means @ model.head.weight.T + model.head.bias
    assert rel_error(model(ids).detach().numpy(), expected.detach().numpy()) < 1e-6
    assert not model.embedding.weight.requires_grad
    assert MeanEmbeddingClassifier(table, freeze=False).embedding.weight.requires_grad


def test_recurrent_classifier_reads_each_review_up_to_its_length() -> None:
    torch.manual_seed(0)
    vectors = torch.randn(10, 4)
    model = RecurrentClassifier("lstm", 4, 3, 2, vectors=vectors)
    ids = torch.tensor([[2, 3, 4, 0, 0], [5, 6, 7, 8, 9]])
    lengths = torch.tensor([3, 5])
    batch = model(ids, lengths)
    alone = model(ids[:1, :3], lengths[:1])
    assert torch.allclose(batch[0], alone[0], atol=1e-6)
    steps = model.per_step(ids, lengths)
    assert torch.allclose(steps[0, 2], batch[0], atol=1e-6) and torch.allclose(
        steps[1, 4], batch[1], atol=1e-6
    )
    assert model.embed is not None and not model.embed.weight.requires_grad  # frozen


def test_recurrent_classifier_on_features_ignores_padding() -> None:
    torch.manual_seed(1)
    model = RecurrentClassifier("gru", 3, 5, 4)
    x = torch.randn(2, 6, 3)
    lengths = torch.tensor([4, 6])
    padded = x.clone()
    padded[0, 4:] = 100.0  # whatever sits past the end must not matter
    assert model(x, lengths).shape == (2, 4)
    assert torch.allclose(model(x, lengths), model(padded, lengths), atol=1e-6)
    assert torch.allclose(model(x, lengths)[0], model(x[:1, :4], lengths[:1])[0], atol=1e-6)


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="vectors are 4-d"):
        RecurrentClassifier("lstm", 5, 3, 2, vectors=torch.zeros(10, 4))
