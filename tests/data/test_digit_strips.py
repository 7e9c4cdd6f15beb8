"""Digit strips: the images read from scikit-learn's file, and a split with unseen images and combinations."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.data.digit_strips import DIGIT_WORDS, caption_of, load_digits, make_strips, strip_split


def _blocks(images: np.ndarray) -> np.ndarray:
    """(N, 8, 8k) strips -> (N * k, 64) digit images, as rows."""
    N, H, W = images.shape
    return images.reshape(N, H, W // 8, 8).transpose(0, 2, 1, 3).reshape(-1, H * 8)


def test_the_digits_are_the_uci_test_set() -> None:
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    # the UCI set's counts of each digit (its documentation: 178 zeros ... 180 nines)
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # a zero is a ring: its centre is darker than its rim in the mean image
    zero = images[labels == 0].mean(axis=0)
    assert zero[3:5, 3:5].mean() < 0.5 * zero[1:7, 1:7].mean()


def test_caption_of_names_the_digits_in_order() -> None:
    assert caption_of((3, 1, 4)) == "three one four"
    assert caption_of(np.array([0, 9])) == "zero nine"
    assert len(DIGIT_WORDS) == 10


def test_a_strip_shows_the_images_of_its_digits_side_by_side() -> None:
    images, labels = load_digits()
    strips = make_strips(images, labels, np.array([[3, 1, 4], [0, 0, 7]]), 20, np.random.default_rng(0))
    assert strips.images.shape == (20, 8, 24) and strips.digits.shape == (20, 3)
    pool = {tuple(row): int(label) for row, label in zip(images.reshape(-1, 64), labels)}
    shown = [pool[tuple(block)] for block in _blocks(strips.images)]
    assert shown == strips.digits.reshape(-1).tolist()
    assert strips.captions == [caption_of(d) for d in strips.digits]
    assert set(strips.captions) == {"three one four", "zero zero seven"}


def test_make_strips_refuses_what_it_cannot_draw() -> None:
    images, labels = load_digits()
    ones = labels == 1
    with pytest.raises(ValueError, match="no image of the digit"):
        make_strips(images[ones], labels[ones], np.array([[1, 2]]), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-empty"):
        make_strips(images, labels, np.array([1, 2]), 3, np.random.default_rng(0))


def test_test_strips_share_neither_an_image_nor_a_combination_with_training() -> None:
    train, val, test = strip_split(3, 2000, 500, seed=1, val_count=300)
    assert (len(train.captions), len(val.captions), len(test.captions)) == (2000, 300, 500)
    seen_images = {tuple(b) for b in _blocks(train.images)} | {tuple(b) for b in _blocks(val.images)}
    test_images = {tuple(b) for b in _blocks(test.images)}
    assert not seen_images & test_images
    assert not (set(train.captions) | set(val.captions)) & set(test.captions)
    # a fifth of the 1,000 combinations is held out, so the test strips draw from about 200
    assert 150 < len(set(test.captions)) <= 200
    again = strip_split(3, 2000, 500, seed=1, val_count=300)[2]
    assert np.array_equal(again.images, test.images)
    other = strip_split(3, 2000, 500, seed=2, val_count=300)[2]
    assert not np.array_equal(other.images, test.images)


def test_strip_split_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="length"):
        strip_split(0, 10, 10, seed=0)
    with pytest.raises(ValueError, match="strictly between"):
        strip_split(2, 10, 10, seed=0, test_images=1.0)
