"""Tests of the masked softmax cross-entropy and mean squared error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch.losses import mse, softmax_cross_entropy

IGNORE = -100  # torch's default ignore_index


def _sequence_problem(seed: int, N: int = 3, T: int = 5, C: int = 4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(N, T, C)) * 2
    targets = rng.integers(0, C, size=(N, T))
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T
    mask = np.arange(T)[None, :] < lengths[:, None]
    return logits, targets, mask


def _scalar(f):
    """Wrap a loss so that check_gradients sees an array output with upstream 1."""
    return lambda: np.array(f())


@pytest.mark.parametrize("masked", [False, True])
def test_cross_entropy_gradient_matches_numerical(masked: bool) -> None:
    logits, targets, mask = _sequence_problem(0)
    m = mask if masked else None
    _, dlogits = softmax_cross_entropy(logits, targets, m)
    check_gradients(
        _scalar(lambda: softmax_cross_entropy(logits, targets, m)[0]),
        {"logits": logits},
        {"logits": dlogits},
        np.array(1.0),
    )


def test_cross_entropy_gradient_matches_numerical_for_2d_logits() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 5))
    targets = rng.integers(0, 5, size=6)
    _, dlogits = softmax_cross_entropy(logits, targets)
    check_gradients(
        _scalar(lambda: softmax_cross_entropy(logits, targets)[0]),
        {"logits": logits},
        {"logits": dlogits},
        np.array(1.0),
    )


@pytest.mark.parametrize("masked", [False, True])
def test_cross_entropy_matches_torch_with_ignore_index(masked: bool) -> None:
    logits, targets, mask = _sequence_problem(2, N=4, T=7, C=6)
    torch_targets = np.where(mask, targets, IGNORE) if masked else targets
    logits_t = torch.from_numpy(logits.copy()).requires_grad_()
    C = logits.shape[-1]
    loss_t = F.cross_entropy(
        logits_t.reshape(-1, C), torch.from_numpy(torch_targets).reshape(-1), ignore_index=IGNORE
    )
    loss_t.backward()

    # The masked positions hold IGNORE, as a padded batch would: it must be accepted.
    loss, dlogits = softmax_cross_entropy(logits, torch_targets, mask if masked else None)
    assert rel_error(loss, loss_t.item()) < 1e-10
    assert rel_error(dlogits, logits_t.grad.numpy()) < 1e-10


def test_masked_positions_get_no_gradient_and_do_not_count() -> None:
    logits, targets, mask = _sequence_problem(3)
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    assert np.all(dlogits[~mask] == 0)
    real_loss, real_dlogits = softmax_cross_entropy(logits[mask], targets[mask])
    assert rel_error(loss, real_loss) < 1e-14
    assert rel_error(dlogits[mask], real_dlogits) < 1e-14
    # Changing what is under the padding changes nothing.
    noisy = logits.copy()
    noisy[~mask] += 1e3
    assert softmax_cross_entropy(noisy, targets, mask)[0] == loss


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    """exp(1000) overflows; the log-sum-exp trick never computes it."""
    logits, targets, _ = _sequence_problem(4)
    big = logits * 1e3
    loss, dlogits = softmax_cross_entropy(big, targets)
    shifted_loss, shifted_dlogits = softmax_cross_entropy(big + 1e4, targets)
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert rel_error(loss, shifted_loss) < 1e-12
    assert np.abs(dlogits - shifted_dlogits).max() < 1e-12
    # A confidently wrong prediction costs the logit gap, not infinity.
    loss_wrong, _ = softmax_cross_entropy(np.array([[0.0, 800.0]]), np.array([0]))
    assert rel_error(loss_wrong, 800.0) < 1e-15


def test_cross_entropy_without_real_positions_is_zero() -> None:
    logits, targets, _ = _sequence_problem(5)
    loss, dlogits = softmax_cross_entropy(logits, targets, np.zeros(targets.shape, bool))
    assert loss == 0.0 and np.all(dlogits == 0)


def test_cross_entropy_rejects_bad_targets() -> None:
    logits, targets, mask = _sequence_problem(6)
    with pytest.raises(IndexError):
        softmax_cross_entropy(logits, np.full_like(targets, logits.shape[-1]))
    with pytest.raises(IndexError):
        softmax_cross_entropy(logits, np.full_like(targets, IGNORE), mask)  # real positions too
    with pytest.raises(ValueError):
        softmax_cross_entropy(logits, targets[:, :-1])
    with pytest.raises(ValueError):
        softmax_cross_entropy(logits, targets, mask[:, :-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_kept(dtype: type) -> None:
    logits, targets, mask = _sequence_problem(7)
    _, dlogits = softmax_cross_entropy(logits.astype(dtype), targets, mask)
    _, dpred = mse(logits.astype(dtype), np.zeros_like(logits, dtype=dtype), mask)
    assert dlogits.dtype == dtype and dpred.dtype == dtype


def test_a_gradient_missing_the_mean_is_caught() -> None:
    logits, targets, mask = _sequence_problem(8)
    _, dlogits = softmax_cross_entropy(logits, targets, mask)
    wrong = dlogits * mask.sum()  # forgot to divide by the number of real positions
    with pytest.raises(AssertionError):
        check_gradients(
            _scalar(lambda: softmax_cross_entropy(logits, targets, mask)[0]),
            {"logits": logits},
            {"logits": wrong},
            np.array(1.0),
        )


@pytest.mark.parametrize("masked", [False, True])
def test_mse_gradient_matches_numerical(masked: bool) -> None:
    logits, _, mask = _sequence_problem(9)
    target = np.random.default_rng(10).normal(size=logits.shape)
    m = mask if masked else None
    _, dpred = mse(logits, target, m)
    check_gradients(
        _scalar(lambda: mse(logits, target, m)[0]),
        {"pred": logits},
        {"pred": dpred},
        np.array(1.0),
    )


@pytest.mark.parametrize("masked", [False, True])
def test_mse_matches_torch(masked: bool) -> None:
    rng = np.random.default_rng(11)
    pred, target = rng.normal(size=(2, 4, 6, 3))
    mask = np.arange(6)[None, :] < np.array([6, 2, 4, 1])[:, None]
    pred_t = torch.from_numpy(pred.copy()).requires_grad_()
    if masked:
        # torch has no mask argument: select the real positions, which is the definition.
        m = torch.from_numpy(mask)
        loss_t = F.mse_loss(pred_t[m], torch.from_numpy(target)[m])
    else:
        loss_t = F.mse_loss(pred_t, torch.from_numpy(target))
    loss_t.backward()
    loss, dpred = mse(pred, target, mask if masked else None)
    assert rel_error(loss, loss_t.item()) < 1e-10
    assert rel_error(dpred, pred_t.grad.numpy()) < 1e-10


def test_mse_without_real_positions_is_zero_and_shapes_are_checked() -> None:
    pred = np.ones((2, 3, 4))
    loss, dpred = mse(pred, pred * 2, np.zeros((2, 3)))
    assert loss == 0.0 and np.all(dpred == 0)
    with pytest.raises(ValueError):
        mse(pred, pred[:, :2])
    with pytest.raises(ValueError):
        mse(pred, pred, np.ones((2, 4)))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    N=st.integers(1, 8),
    T=st.integers(1, 50),
    C=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_cross_entropy_properties(N: int, T: int, C: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(N, T, C)) * 3
    targets = rng.integers(0, C, size=(N, T))
    mask = rng.random((N, T)) < 0.7
    mask[0, 0] = True
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    assert loss >= 0
    # Softmax minus a one-hot sums to 0 over the classes.
    np.testing.assert_allclose(dlogits.sum(axis=-1), 0, atol=1e-14)
    # Adding a constant to every score of a position changes nothing.
    shift = rng.normal(size=(N, T, 1)) * 50
    shifted_loss, shifted_d = softmax_cross_entropy(logits + shift, targets, mask)
    assert abs(shifted_loss - loss) <= 1e-10 * max(1.0, loss)
    np.testing.assert_allclose(shifted_d, dlogits, atol=1e-12)
    # The definition, written the slow way, on the real positions only.
    real_logits, real_targets = logits[mask], targets[mask]
    log_p = np.log(np.exp(real_logits) / np.exp(real_logits).sum(axis=-1, keepdims=True))
    expected = -log_p[np.arange(len(real_targets)), real_targets].mean()
    assert rel_error(loss, expected) < 1e-10
    # A gradient step along -dlogits lowers the loss.
    assert softmax_cross_entropy(logits - 1e-3 * dlogits, targets, mask)[0] <= loss + 1e-12


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    N=st.integers(1, 8),
    T=st.integers(1, 50),
    D=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_mse_properties(N: int, T: int, D: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(size=(2, N, T, D))
    mask = rng.random((N, T)) < 0.6
    mask[-1, -1] = True
    loss, dpred = mse(pred, target, mask)
    expected = np.mean((pred[mask] - target[mask]) ** 2)
    assert rel_error(loss, expected) < 1e-12
    assert np.all(dpred[~mask] == 0)
    # L is quadratic: L(p + d) = L(p) + <dL/dp, d> + L_mask(d) exactly.
    step = rng.normal(size=pred.shape)
    moved, _ = mse(pred + step, target, mask)
    quadratic, _ = mse(step, np.zeros_like(step), mask)
    assert abs(moved - (loss + np.sum(dpred * step) + quadratic)) < 1e-9 * max(1.0, moved)


def test_padded_mean_shrinks_the_loss_by_the_fraction_of_real_positions() -> None:
    """D2L's older normalisation, written out by hand: sum of masked token losses over N*T."""
    from rnncourse.scratch.losses import padded_mean_cross_entropy

    logits, targets, mask = _sequence_problem(4, N=3, T=6, C=5)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    token_losses = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    by_hand = float((token_losses * mask).sum() / mask.size)
    loss, dlogits = padded_mean_cross_entropy(logits, targets, mask)
    assert rel_error(loss, by_hand) < 1e-12
    check_gradients(
        _scalar(lambda: padded_mean_cross_entropy(logits, targets, mask)[0]),
        {"logits": logits},
        {"logits": dlogits},
        np.array(1.0),
    )
    # The real-token mean is larger whenever there is padding.
    assert softmax_cross_entropy(logits, targets, mask)[0] > loss * 1.05
