"""Chapter 8's sentiment experiments: tokens, n-gram features, the generated set, the stored claims."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.reviews import Reviews
from rnncourse.experiments import ch08_applications_sentiment as sx
from rnncourse.models.classifiers import RecurrentClassifier
from rnncourse.results import load


def test_review_tokens_split_punctuation_and_negation_like_glove() -> None:
    assert sx.review_tokens("It isn't GOOD, really.") == ["it", "is", "n't", "good", ",", "really", "."]


def test_ngrams_are_binarised_and_kept_from_twice_seen() -> None:
    texts = ["not good , not bad", "not good at all", "bad"]
    pairs = sx.Ngrams(texts, order=2, min_count=2)
    kept = set(pairs.index)
    assert kept == {("not",), ("good",), ("bad",), ("not", "good")}  # each seen in two texts at least
    assert sorted(pairs.index.values()) == list(range(1, pairs.size))  # ids from 1, 0 pads
    ids, counts = pairs.encode(["not good , not good", "unseen words"])
    # the first text holds "not", "good", "not good" once each (binarised); the second nothing: padding
    assert counts.tolist() == [3, 1] and ids[1].tolist() == [0, 0, 0]
    names = {i: g for g, i in pairs.index.items()}
    assert {names[int(i)] for i in ids[0]} == {("not",), ("good",), ("not", "good")}


def test_generated_set_is_seeded_and_sized() -> None:
    a = sx.generated_set(30, 10, 20, seed=4)
    b = sx.generated_set(30, 10, 20, seed=4)
    assert [len(part.texts) for part in a] == [30, 10, 20]
    assert all(x.texts == y.texts for x, y in zip(a, b))
    assert a[0].texts != sx.generated_set(30, 10, 20, seed=5)[0].texts


def test_showcase_picks_a_negation_a_contrast_and_a_negated_contrast() -> None:
    texts = [
        "the plot is dull , but the cast is never weak .",  # 3rd kind
        "the film is witty , but the plot is awful .",  # 2nd kind
        "the film is great .",
        "the film is not great .",  # 1st kind
    ]
    shown = sx.showcase(Reviews(texts, np.zeros(4, dtype=np.int64)))
    assert shown == [texts[3], texts[1], texts[0]]


def test_the_mean_of_vectors_trains_a_copy_of_them() -> None:
    vectors = torch.randn(6, 3)
    before = vectors.clone()
    model = sx.MeanOfVectors(vectors)
    model(torch.tensor([[1, 2, 0]]), torch.tensor([2])).sum().backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert torch.equal(vectors, before)
    assert not torch.equal(model.inner.embedding.weight, before)


def test_heatmaps_need_a_one_directional_model() -> None:
    vectors = torch.zeros(5, 3)
    both = RecurrentClassifier("gru", 3, 2, 2, vectors, bidirectional=True)
    with pytest.raises(ValueError, match="one-directional"):
        sx.confidence_steps(both, None, ["a"])  # type: ignore[arg-type]


def test_stored_run_recurrent_model_wins_only_where_order_decides() -> None:
    """The page's claims, on the stored run: on the generated set the BiGRU is near perfect and every
    non-recurrent model far behind; the order-free ones near chance."""
    stored = load(sx.RESULT_NAME)
    generated = stored["generated"]["trained on it"]
    assert generated[sx.BIGRU]["test_accuracy"] > 0.95
    for name in sx.ORDER_FREE:
        assert generated[name]["test_accuracy"] < 0.65, name
    assert generated[sx.NBSVM_PAIRS]["test_accuracy"] < generated[sx.BIGRU]["test_accuracy"] - 0.1
    reviews = stored["reviews"]
    assert all(0.6 < reviews[name]["test_accuracy"] < 0.9 for name in reviews)
