"""Tests of temperature, top-k and nucleus sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import rel_error
from rnncourse.nn.sampling import next_token_probs, sample_next

P = np.array([0.5, 0.25, 0.15, 0.07, 0.03])  # already sorted, to read the expected values by eye
LOGITS = np.log(P)


def test_temperature_one_is_softmax_and_zero_is_greedy() -> None:
    assert rel_error(next_token_probs(LOGITS), P) < 1e-14
    assert next_token_probs(LOGITS, temperature=0).tolist() == [1.0, 0, 0, 0, 0]
    sharp = next_token_probs(LOGITS, temperature=0.5)
    assert rel_error(sharp, P**2 / np.sum(P**2)) < 1e-14
    flat = next_token_probs(LOGITS, temperature=1e6)
    assert rel_error(flat, np.full(5, 0.2)) < 1e-5


def test_top_k_and_top_p_keep_the_right_tokens() -> None:
    assert rel_error(next_token_probs(LOGITS, top_k=2), np.array([2, 1, 0, 0, 0]) / 3) < 1e-14
    # 0.5 + 0.25 = 0.75 < 0.8, so the nucleus for p = 0.8 needs the third token too
    assert rel_error(next_token_probs(LOGITS, top_p=0.8), np.array([0.5, 0.25, 0.15, 0, 0]) / 0.9) < 1e-14
    assert rel_error(next_token_probs(LOGITS, top_p=0.75), np.array([2, 1, 0, 0, 0]) / 3) < 1e-14
    assert next_token_probs(LOGITS, top_p=0.1).tolist() == [1.0, 0, 0, 0, 0]  # the first is always kept
    both = next_token_probs(LOGITS, top_k=3, top_p=0.99)  # top-k first, then the nucleus of what is left
    assert rel_error(both, np.array([0.5, 0.25, 0.15, 0, 0]) / 0.9) < 1e-14


def test_rows_are_independent_and_unsorted_input_works() -> None:
    logits = np.stack([LOGITS, LOGITS[::-1]])
    probs = next_token_probs(logits, top_k=1)
    assert probs.tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 1]]


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_samples_follow_the_distribution_and_are_reproducible(kind: str) -> None:
    def generator() -> np.random.Generator | torch.Generator:
        return np.random.default_rng(5) if kind == "numpy" else torch.Generator().manual_seed(5)

    logits = np.tile(LOGITS, (20000, 1))
    first = np.asarray(sample_next(logits, generator(), top_k=4))
    again = np.asarray(sample_next(logits, generator(), top_k=4))
    np.testing.assert_array_equal(first, again)
    assert first.shape == (20000,) and first.dtype == np.int64
    frequencies = np.bincount(first, minlength=5) / first.size
    expected = np.append(P[:4], 0) / P[:4].sum()
    assert np.abs(frequencies - expected).max() < 0.015  # 3 standard errors of a frequency near 0.5 is 0.011
    assert frequencies[4] == 0


def test_torch_logits_give_a_torch_sample_and_bad_arguments_fail() -> None:
    ids = sample_next(torch.tensor([[0.0, 10.0, 0.0]]), torch.Generator().manual_seed(0), temperature=0)
    assert isinstance(ids, torch.Tensor) and ids.tolist() == [1]
    with pytest.raises(ValueError, match="top_k"):
        next_token_probs(LOGITS, top_k=0)
    with pytest.raises(ValueError, match="top_p"):
        next_token_probs(LOGITS, top_p=1.5)
    with pytest.raises(ValueError, match="temperature"):
        next_token_probs(LOGITS, temperature=-1)
    with pytest.raises(TypeError, match="generator"):
        sample_next(LOGITS, None)  # type: ignore[arg-type]
