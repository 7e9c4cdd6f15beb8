"""Captioned images made of handwritten digits: strips such as 3 1 4 captioned "three one four".

The digits are the 1,797 8x8 images of the UCI "Optical Recognition of
Handwritten Digits" test set (Alpaydin and Kaynak, 1998; UCI licence CC BY
4.0), as scikit-learn ships them in ``sklearn/datasets/data/digits.csv.gz``
(the package, BSD-3, is installed with ``--no-deps`` and never imported:
only the file is read). Each row holds 64 pixel values from 0 to 16 and the
digit.

A strip places ``k`` digit images side by side, (8, 8k), and its caption
names the digits in order. The task is *compositional*: a caption is made of
parts that each describe one region of the image, so a model can caption a
combination it never saw, from images it never saw, if it has learned the
parts. :func:`strip_split` makes that the test: the images are split first
(no test strip reuses a training image) and then the combinations (no test
caption is a training caption), so that a nearest-neighbour captioner, which
can only repeat a training caption, scores no exact match by construction.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from itertools import product

import numpy as np

from rnncourse.data.packaged import data_file

__all__ = ["DIGIT_WORDS", "Strips", "caption_of", "load_digits", "make_strips", "strip_split"]

#: The word of each digit: the captions' vocabulary.
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

SOURCE = (
    "UCI Optical Recognition of Handwritten Digits, test set (Alpaydin and Kaynak 1998), CC BY 4.0, "
    "as shipped in scikit-learn 1.9.1 (sklearn/datasets/data/digits.csv.gz)"
)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Every digit image and its label, in the file's order.

    Returns:
        images (1797, 8, 8) float32 in [0, 1] (pixel values divided by 16), labels (1797,) int64.
    """
    path = data_file("sklearn", "datasets", "data", "digits.csv.gz")
    with gzip.open(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",")
    images = (table[:, :64] / 16.0).reshape(-1, 8, 8).astype(np.float32)
    return images, table[:, 64].astype(np.int64)


def caption_of(digits: tuple[int, ...] | np.ndarray) -> str:
    """``(3, 1, 4)`` -> ``"three one four"``."""
    return " ".join(DIGIT_WORDS[int(d)] for d in digits)


@dataclass(frozen=True)
class Strips:
    """Strips of k digits: images (N, 8, 8k) float32, the digits shown (N, k) int64, and captions."""

    images: np.ndarray
    digits: np.ndarray
    captions: list[str]


def make_strips(
    images: np.ndarray,
    labels: np.ndarray,
    combinations: np.ndarray,
    count: int,
    rng: np.random.Generator,
) -> Strips:
    """``count`` strips, each a combination drawn from ``combinations`` drawn with images from the pool.

    Args:
        images: (M, 8, 8) the pool of digit images; labels: (M,) their digits.
        combinations: (C, k) the digit sequences strips may show.
        count: N, how many strips.
        rng: where the combinations and the images are drawn from.

    Returns:
        N strips; strip n shows ``combinations[c_n]``, each digit an image of that
        digit drawn from the pool.
    """
    if combinations.ndim != 2 or len(combinations) == 0:
        raise ValueError(f"combinations must be a non-empty (C, k) array, got shape {combinations.shape}")
    by_digit = {d: np.flatnonzero(labels == d) for d in range(10)}
    missing = sorted({int(d) for d in np.unique(combinations)} - {d for d, i in by_digit.items() if len(i)})
    if missing:
        raise ValueError(f"the image pool has no image of the digit(s) {missing}")
    chosen = combinations[rng.integers(0, len(combinations), size=count)]  # (N, k)
    picks = np.array(
        [[by_digit[int(d)][rng.integers(len(by_digit[int(d)]))] for d in row] for row in chosen],
        dtype=np.int64,
    ).reshape(chosen.shape)  # (N, k) image rows
    strips = np.concatenate(list(images[picks].transpose(1, 0, 2, 3)), axis=2)  # (N, 8, 8k)
    return Strips(strips.astype(np.float32), chosen.astype(np.int64), [caption_of(c) for c in chosen])


def strip_split(
    length: int,
    train_count: int,
    test_count: int,
    seed: int,
    val_count: int = 0,
    test_combinations: float = 0.2,
    test_images: float = 0.3,
) -> tuple[Strips, Strips, Strips]:
    """Training, validation and test strips; test strips share neither a combination nor an image with the others.

    The images of each digit are split at random (``test_images`` of them for
    testing), then the ``10 ** length`` combinations (``test_combinations`` of
    them for testing); training and validation strips draw (independently)
    training combinations and images, test strips test combinations and images.

    Args:
        length: k, digits per strip.
        train_count, test_count, val_count: strips of each part.
        seed: the split's and the draws' seed.

    Returns:
        (train, val, test) :class:`Strips`.
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    if not (0 < test_combinations < 1 and 0 < test_images < 1):
        raise ValueError("test_combinations and test_images must lie strictly between 0 and 1")
    rng = np.random.default_rng(seed)
    images, labels = load_digits()
    test_image = np.zeros(len(labels), dtype=bool)
    for d in range(10):
        rows = rng.permutation(np.flatnonzero(labels == d))
        test_image[rows[: round(test_images * len(rows))]] = True
    combos = np.array(list(product(range(10), repeat=length)), dtype=np.int64)
    order = rng.permutation(len(combos))
    n_test = max(1, round(test_combinations * len(combos)))
    test_combos, train_combos = combos[order[:n_test]], combos[order[n_test:]]
    train = make_strips(images[~test_image], labels[~test_image], train_combos, train_count, rng)
    test = make_strips(images[test_image], labels[test_image], test_combos, test_count, rng)
    val = make_strips(images[~test_image], labels[~test_image], train_combos, val_count, rng)
    return train, val, test
