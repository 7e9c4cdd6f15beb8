"""The sequence classifiers: bag of words, mean of embeddings, recurrent over padded sequences."""

from __future__ import annotations

import math

import pytest
import torch

from rnncourse.gradcheck import rel_error
from rnncourse.models.classifiers import (
    BagOfWords,
    MeanEmbeddingClassifier,
    RecurrentClassifier,
    nb_log_count_ratio,
)


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
    with pytest.raises(ValueError, match=r"scale must have shape \(6,\)"):
        BagOfWords(6, scale=torch.ones(5))


def test_nb_log_count_ratio_counts_each_feature_once_per_text() -> None:
    # texts (ids, 0 pads): positive [1, 1, 2], [1, 3]; negative [2, 3], [3]
    ids = torch.tensor([[1, 1, 2], [1, 3, 0], [2, 3, 0], [3, 0, 0]])
    labels = torch.tensor([1, 1, 0, 0])
    r = nb_log_count_ratio(ids, labels, vocab_size=5, alpha=1.0)
    # by hand: p = 1 + (features 1..4 present in positive texts) = [3, 2, 2, 1], |p| = 8;
    #          q = 1 + (present in negative texts)                = [1, 2, 3, 1], |q| = 7
    p = torch.tensor([3.0, 2.0, 2.0, 1.0]) / 8
    q = torch.tensor([1.0, 2.0, 3.0, 1.0]) / 7
    assert r.shape == (5,) and r[0] == 0.0
    assert torch.allclose(r[1:], torch.log(p / q), atol=1e-6)
    assert r[1] > 0 > r[3]  # 1 is typical of positive texts, 3 of negative ones


def test_bag_of_words_scale_multiplies_each_weight() -> None:
    scale = torch.tensor([0.0, 2.0, -1.0, 0.5])
    model = BagOfWords(4, scale=scale)
    with torch.no_grad():
        model.weight.weight[:, 0] = torch.tensor([0.0, 1.0, 3.0, -2.0])
    ids = torch.tensor([[1, 2, 3], [3, 0, 0]])
    score = model(ids, torch.tensor([3, 1]))[:, 1]
    assert score.tolist() == pytest.approx([2.0 - 3.0 - 1.0, -1.0])
    plain = BagOfWords(4)
    plain.load_state_dict(model.state_dict() | {"scale": torch.ones(4)})
    assert plain(ids, torch.tensor([3, 1]))[:, 1].tolist() == pytest.approx([1.0 + 3.0 - 2.0, -2.0])


def test_bidirectional_classifier_reads_both_ways_and_fine_tunes() -> None:
    torch.manual_seed(2)
    vectors = torch.randn(10, 4)
    model = RecurrentClassifier(
        "gru", 4, 3, 2, vectors=vectors, freeze=False, bidirectional=True, dropout=0.5
    )
    assert model.embed is not None and model.embed.weight.requires_grad
    assert model.head.in_features == 6
    model.eval()  # dropout off
    ids = torch.tensor([[2, 3, 4, 0], [5, 6, 7, 8]])
    lengths = torch.tensor([3, 4])
    batch = model(ids, lengths)
    # by hand: the forward GRU's last state and the backward GRU's state after reading back to word 1
    x = model.embed(ids[:1, :3])
    forward_gru = torch.nn.GRU(4, 3, batch_first=True)
    backward_gru = torch.nn.GRU(4, 3, batch_first=True)
    params = dict(model.rnn.named_parameters())
    with torch.no_grad():
        for name, p in forward_gru.named_parameters():
            p.copy_(params[name])
            dict(backward_gru.named_parameters())[name].copy_(params[name + "_reverse"])
    _, h_forward = forward_gru(x)
    _, h_backward = backward_gru(x.flip(1))
    expected = model.head(torch.cat([h_forward[0, 0], h_backward[0, 0]]))
    assert torch.allclose(batch[0], expected, atol=1e-5)
    model.train()
    torch.manual_seed(3)
    assert not torch.allclose(model(ids, lengths), batch)  # dropout acts in training
    # fine-tuning trains a copy: the caller's vectors stay as they were
    before = vectors.clone()
    model(ids, lengths).sum().backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert model.embed is not None and not torch.equal(model.embed.weight, before)
    assert torch.equal(vectors, before)
