"""Chapter 8's captioning experiments: the scores, the baseline, a short training, and the stored run's claims."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.captions import emoji_captions, load_image
from rnncourse.data.digit_strips import Strips, caption_of, strip_split
from rnncourse.experiments import ch08_applications_captioning as cap
from rnncourse.models.seq2seq import caption
from rnncourse.results import load


def _strips(digits: list[list[int]], images: np.ndarray | None = None) -> Strips:
    d = np.array(digits)
    if images is None:
        images = np.zeros((len(d), 8, 8 * d.shape[1]), dtype=np.float32)
    return Strips(images, d, [caption_of(row) for row in d])


def test_caption_scores_count_whole_captions_and_single_digits() -> None:
    strips = _strips([[3, 1, 4], [1, 5, 9]])
    scores = cap.caption_scores(["three one four", "one five eight"], strips)
    assert scores == {"exact match": 0.5, "digit accuracy": pytest.approx((1 + 2 / 3) / 2)}
    # a caption too short scores the words it has right in their places: 1/3 and 1/3
    assert cap.caption_scores(["three", "nine five"], strips)["digit accuracy"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="captions for"):
        cap.caption_scores(["three one four"], strips)


def test_word_f1_by_hand() -> None:
    assert cap.word_f1(["red", "heart"], ["red", "heart"]) == 1.0
    assert cap.word_f1(["flag", "japan"], ["flag", "china"]) == 0.5
    assert cap.word_f1(["a", "a", "b"], ["a", "c"]) == pytest.approx(2 * 1 / 5)
    assert cap.word_f1(["x"], ["y"]) == 0.0


def test_the_nearest_strip_repeats_a_training_caption() -> None:
    rng = np.random.default_rng(0)
    train = _strips([[1, 2], [3, 4], [5, 6]], rng.random((3, 8, 16)).astype(np.float32))
    test = _strips([[9, 9], [9, 9]], train.images[[2, 0]] + 0.01)
    assert cap.nearest_strip_captions(train, test) == ["five six", "one two"]
    # on the real split, no test caption is a training caption: its exact match is 0 by construction
    train, _, test = strip_split(3, 500, 200, seed=3)
    assert cap.caption_scores(cap.nearest_strip_captions(train, test), test)["exact match"] == 0.0


def test_a_short_training_reads_unseen_digits_better_than_the_nearest_strip() -> None:
    torch.manual_seed(0)
    train, val, test = strip_split(3, 6000, 300, seed=1, val_count=200)
    model, vocab, curves = cap.train_strip_captioner(train, val, epochs=4, seed=1)
    assert curves["train_loss"][-1] < 0.5 * curves["train_loss"][0]
    ours = cap.caption_scores(cap.strip_captions(model, test, vocab), test)
    nearest = cap.caption_scores(cap.nearest_strip_captions(train, test), test)
    assert ours["exact match"] > 0.4 and ours["digit accuracy"] > nearest["digit accuracy"] + 0.1
    # each word looks mostly at its own digit (uniform attention would give 1/3)
    assert cap.attention_on_digits(model, test, vocab) > 0.5
    words, weights = cap.strip_attention(model, test.images[0], vocab)
    assert len(words) == weights.shape[0] and weights.shape[1] == 12 and words[-1] == "<eos>"
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5)


def test_the_stored_run_supports_the_page() -> None:
    stored = load("ch08_applications_captioning")
    strips = stored["strips"]
    assert strips["test"]["captioner"]["exact match"] >= 0.8
    assert strips["test"]["nearest strip"]["exact match"] == 0.0
    assert (
        strips["test"]["captioner"]["digit accuracy"]
        > strips["test"]["nearest strip"]["digit accuracy"] + 0.2
    )
    assert strips["attention on the word's digit"] > 0.6
    weights = np.array(strips["attention"]["weights"])
    assert weights.shape == (len(strips["attention"]["words"]), 12)
    icons = stored["icons"]["word_f1"]
    # the emoji captioner fits its icons, and on new icons does no better than the nearest icon
    assert icons["captioner, training icons"] > 0.9
    assert abs(icons["captioner, test"] - icons["nearest icon, test"]) < 0.05


def test_captioner_fits_distinct_features_and_samples() -> None:
    # four "images", each a one-hot feature vector, with captions of different lengths
    features = np.eye(4, dtype=np.float32)
    captions = ["red heart", "blue car", "a small green tree", "sun"]
    model, vocab, losses = cap.train_captioner(
        features, captions, epochs=150, hidden=32, batch_size=4, lr=1e-2
    )
    assert losses[-1] < 0.1 * losses[0]
    assert [" ".join(c) for c in caption(model, features, vocab)] == captions
    sampled = caption(model, features, vocab, temperature=0.5, generator=torch.Generator().manual_seed(0))
    assert len(sampled) == 4 and all(isinstance(w, str) for c in sampled for w in c)
    with pytest.raises(ValueError):
        caption(model, features, vocab, temperature=1.0)


def test_icon_features_are_downsampled_pixels() -> None:
    icons = emoji_captions()[:3]
    features = cap.icon_features(icons, size=6)
    assert features.shape == (3, 3 * 6 * 6) and features.dtype == np.float32
    assert features.min() >= 0.0 and features.max() <= 1.0
    assert np.array_equal(features[1], load_image(icons[1].path, 6).reshape(-1).astype(np.float32))
