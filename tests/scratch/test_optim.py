"""Tests of global-norm clipping, SGD (with momentum) and Adam, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import rel_error
from rnncourse.scratch.optim import SGD, Adam, clip_by_global_norm, clip_elementwise

SHAPES = {"W_xh": (4, 3), "W_hh": (4, 4), "b_h": (4,)}


def _arrays(rng: np.random.Generator, scale: float = 1.0) -> dict[str, np.ndarray]:
    return {name: rng.normal(size=shape) * scale for name, shape in SHAPES.items()}


@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipped, and left alone
def test_clip_matches_torch_clip_grad_norm(max_norm: float) -> None:
    grads = _arrays(np.random.default_rng(0))
    tensors = {
        name: torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for name, g in grads.items()
    }
    for name, t in tensors.items():
        t.grad = torch.from_numpy(grads[name].copy())
    total_t = torch.nn.utils.clip_grad_norm_(list(tensors.values()), max_norm)

    clipped, norm = clip_by_global_norm(grads, max_norm, eps=1e-6)  # torch's eps
    assert rel_error(norm, total_t.item()) < 1e-10
    for name in grads:
        assert rel_error(clipped[name], tensors[name].grad.numpy()) < 1e-10


def test_clip_rescales_to_max_norm_and_keeps_the_direction() -> None:
    grads = _arrays(np.random.default_rng(1), scale=10.0)
    originals = {name: g.copy() for name, g in grads.items()}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    flat = np.concatenate([g.ravel() for g in originals.values()])
    assert rel_error(norm, np.linalg.norm(flat)) < 1e-14
    flat_clipped = np.concatenate([clipped[name].ravel() for name in originals])
    assert rel_error(np.linalg.norm(flat_clipped), 1.0) < 1e-14
    assert rel_error(flat_clipped, flat / np.linalg.norm(flat)) < 1e-14
    for name in grads:  # the input is not modified
        np.testing.assert_array_equal(grads[name], originals[name])


def test_clip_keeps_float32_and_rejects_bad_max_norm() -> None:
    grads = {k: v.astype(np.float32) for k, v in _arrays(np.random.default_rng(2), 5.0).items()}
    clipped, _ = clip_by_global_norm(grads, 1.0)
    assert all(g.dtype == np.float32 for g in clipped.values())
    with pytest.raises(ValueError):
        clip_by_global_norm(grads, 0.0)


def _torch_run(optimizer_cls, kwargs, params, grad_sequence):
    tensors = {name: torch.nn.Parameter(torch.from_numpy(p.copy())) for name, p in params.items()}
    opt = optimizer_cls(list(tensors.values()), **kwargs)
    for grads in grad_sequence:
        for name, t in tensors.items():
            t.grad = torch.from_numpy(grads[name].copy())
        opt.step()
    return {name: t.detach().numpy() for name, t in tensors.items()}


def _numpy_run(optimizer, params, grad_sequence):
    params = {name: p.copy() for name, p in params.items()}
    for grads in grad_sequence:
        optimizer.step(params, grads)
    return params


def _problem(seed: int, steps: int = 6):
    rng = np.random.default_rng(seed)
    params = _arrays(rng)
    grad_sequence = [_arrays(rng, scale=rng.uniform(0.01, 3)) for _ in range(steps)]
    return params, grad_sequence


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch(momentum: float) -> None:
    params, grad_sequence = _problem(3)
    expected = _torch_run(torch.optim.SGD, {"lr": 0.1, "momentum": momentum}, params, grad_sequence)
    got = _numpy_run(SGD(0.1, momentum), params, grad_sequence)
    for name in params:
        assert rel_error(got[name], expected[name]) < 1e-10


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.8)])
def test_adam_matches_torch(betas: tuple[float, float]) -> None:
    params, grad_sequence = _problem(4)
    kwargs = {"lr": 0.01, "betas": betas, "eps": 1e-8}
    expected = _torch_run(torch.optim.Adam, kwargs, params, grad_sequence)
    got = _numpy_run(Adam(**kwargs), params, grad_sequence)
    for name in params:
        assert rel_error(got[name], expected[name]) < 1e-10


class _AdamWithoutBiasCorrection(Adam):
    """A plausible mistake: the optimizer still moves, just by the wrong amounts."""

    def step(self, params, grads):
        beta1, beta2 = self.betas
        for name, g in grads.items():
            m = self.m.setdefault(name, np.zeros_like(params[name]))
            s = self.s.setdefault(name, np.zeros_like(params[name]))
            m[...] = beta1 * m + (1 - beta1) * g
            s[...] = beta2 * s + (1 - beta2) * g * g
            params[name] -= self.lr * m / (np.sqrt(s) + self.eps)


def test_the_torch_comparison_catches_a_missing_bias_correction() -> None:
    params, grad_sequence = _problem(5)
    kwargs = {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}
    expected = _torch_run(torch.optim.Adam, kwargs, params, grad_sequence)
    got = _numpy_run(_AdamWithoutBiasCorrection(**kwargs), params, grad_sequence)
    assert max(rel_error(got[name], expected[name]) for name in params) > 1e-3


def test_updates_are_in_place_keep_dtype_and_skip_parameters_without_gradients() -> None:
    rng = np.random.default_rng(6)
    for optimizer in (SGD(0.1, momentum=0.5), Adam(0.1)):
        params = {k: v.astype(np.float32) for k, v in _arrays(rng).items()}
        arrays_before = dict(params)
        frozen = params["b_h"].copy()
        grads = {k: v.astype(np.float32) for k, v in _arrays(rng).items() if k != "b_h"}
        optimizer.step(params, grads)
        for name in params:
            assert params[name] is arrays_before[name]  # the same objects, updated
            assert params[name].dtype == np.float32
        np.testing.assert_array_equal(params["b_h"], frozen)
        with pytest.raises(KeyError):
            optimizer.step(params, {"nope": np.zeros(1)})
        with pytest.raises(ValueError):
            optimizer.step(params, {"b_h": np.zeros(3, np.float32)})


def test_adam_first_step_moves_every_entry_by_about_lr() -> None:
    """With m_hat = g and s_hat = g^2 after one step, the update is lr * g / (|g| + eps)."""
    params, grad_sequence = _problem(7, steps=1)
    before = {name: p.copy() for name, p in params.items()}
    Adam(lr=0.01).step(params, grad_sequence[0])
    for name in params:
        g = grad_sequence[0][name]
        assert rel_error(before[name] - params[name], 0.01 * g / (np.abs(g) + 1e-8)) < 1e-10


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=5),
    log_scale=st.floats(-3, 3),
    max_norm=st.floats(0.1, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_clip_properties(sizes: list[int], log_scale: float, max_norm: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    grads = {f"g{i}": rng.normal(size=(n, n)) * 10**log_scale for i, n in enumerate(sizes)}
    clipped, norm = clip_by_global_norm(grads, max_norm)
    new_norm = np.sqrt(sum(np.sum(g * g) for g in clipped.values()))
    assert new_norm <= max_norm * (1 + 1e-12)
    if norm <= max_norm:
        for name in grads:
            np.testing.assert_array_equal(clipped[name], grads[name])
    else:
        assert rel_error(new_norm, max_norm) < 1e-12
        for name in grads:  # one common factor for every array
            assert rel_error(clipped[name], grads[name] * (max_norm / norm)) < 1e-12


def test_clip_elementwise_matches_torch_clip_grad_value() -> None:
    grads = _arrays(np.random.default_rng(3), scale=3.0)
    tensors = {
        name: torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for name, g in grads.items()
    }
    for name, t in tensors.items():
        t.grad = torch.from_numpy(grads[name].copy())
    torch.nn.utils.clip_grad_value_(list(tensors.values()), 1.5)
    clipped = clip_elementwise(grads, 1.5)
    for name in grads:
        assert rel_error(clipped[name], tensors[name].grad.numpy()) < 1e-15
        assert np.abs(grads[name]).max() > 1.5  # the input was not modified, and it needed clipping


def test_clip_elementwise_turns_the_direction_and_global_norm_does_not() -> None:
    g = {"w": np.array([10.0, 1.0])}
    by_entry = clip_elementwise(g, 1.0)["w"]
    by_norm, _ = clip_by_global_norm(g, 1.0)

    def angle(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))

    assert rel_error(by_entry, np.array([1.0, 1.0])) == 0.0
    assert abs(angle(by_entry, g["w"]) - 39.29) < 0.01  # 45 - atan(1/10) in degrees
    assert angle(by_norm["w"], g["w"]) < 1e-6
    with pytest.raises(ValueError):
        clip_elementwise(g, -1.0)
