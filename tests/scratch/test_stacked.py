"""Stacked and bidirectional layers: numerical gradients, torch.nn with copied weights, properties.

Three kinds of evidence: numerical gradients (float64, within
``check_gradients``' default tolerance, on ordinary seeds), torch.nn.RNN/LSTM/GRU
with copied weights (float64, < 1e-10, including packed sequences for the
padding), and properties over random shapes (a padded batch behaves like its
sequences run one by one).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse import kinds
from rnncourse.gradcheck import rel_error
from rnncourse.kinds import KINDS
from rnncourse.scratch import stacked as stacked_module
from rnncourse.scratch.recurrent import RecurrentLayer, State
from rnncourse.scratch.stacked import Bidirectional, BiState, StackedRecurrent
from tests.scratch.layer_helpers import (
    gradcheck_model,
    leaves,
    map_state,
    mixed_lengths,
    random_like,
    random_state,
)

N, T, D, H = 3, 5, 3, 4


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_stacked_two_layer_gradients(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = StackedRecurrent(kind, D, H, num_layers=2, rng=rng)
    x = rng.normal(size=(N, T, D))
    gradcheck_model(model, x, random_state(model, N, rng), None, rng)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_bidirectional_gradients(kind: str, padded: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = Bidirectional(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    gradcheck_model(model, x, random_state(model, N, rng), mixed_lengths(N, T) if padded else None, rng)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_stacked_bidirectional_padded_gradients_with_an_empty_sequence(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = StackedRecurrent(kind, 2, 3, num_layers=2, rng=rng, bidirectional=True)
    x = rng.normal(size=(3, 4, 2))
    lengths = np.array([4, 0, 2])  # a length of 0: the final state is the initial one
    gradcheck_model(model, x, random_state(model, 3, rng), lengths, rng)


# ---------------------------------------------------------------------------
# torch.nn.RNN / LSTM / GRU, weights copied, float64
# ---------------------------------------------------------------------------


def _torch_module(kind: str, input_size: int, hidden: int, num_layers: int, bi: bool):
    row = kinds.spec(kind)
    cls = getattr(torch.nn, row.torch_module)
    extra = {"nonlinearity": row.nonlinearity} if row.nonlinearity else {}
    torch.manual_seed(0)
    return cls(
        input_size, hidden, num_layers=num_layers, batch_first=True, bidirectional=bi, **extra
    ).double()


def _directions(model: StackedRecurrent) -> list[tuple[str, RecurrentLayer, str]]:
    """(torch suffix, layer, our parameter prefix) for every direction of every layer."""
    out = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Bidirectional):
            out.append((f"_l{i}", layer.forward_layer, f"layer{i}.forward."))
            out.append((f"_l{i}_reverse", layer.reverse_layer, f"layer{i}.reverse."))
        else:
            out.append((f"_l{i}", layer, f"layer{i}."))
    return out


def _copy_torch_weights(module, model: StackedRecurrent) -> None:
    """torch's parameters into ours; two torch biases that map to one of ours are summed."""
    for suffix, layer, _ in _directions(model):
        for name in layer.params:
            layer.params[name][...] = 0
        for torch_name in kinds.TORCH_PARAMS:
            value = getattr(module, torch_name + suffix).detach().numpy()
            layer.params[kinds.numpy_name(model.kind, torch_name)][...] += value


def _our_states(h0: np.ndarray, c0: np.ndarray | None, num_layers: int, bi: bool) -> list:
    """torch's (layers * directions, N, H) initial state as our list of per-layer states."""

    def one(j: int) -> State:
        return State(h0[j].copy(), None if c0 is None else c0[j].copy())

    if bi:
        return [BiState(one(2 * i), one(2 * i + 1)) for i in range(num_layers)]
    return [one(i) for i in range(num_layers)]


def _stack_like_torch(states: list, part: str) -> np.ndarray:
    """Our per-layer states (or state gradients) as torch's (layers * directions, N, H)."""
    flat = []
    for s in states:
        flat.extend([s.forward, s.reverse] if isinstance(s, BiState) else [s])
    return np.stack([getattr(s, part) for s in flat])


def _compare_with_torch(
    kind: str, num_layers: int, bi: bool, lengths: np.ndarray | None, seed: int = 0
) -> dict[str, float]:
    """Run both on the same data; return the relative error of every output and gradient."""
    rng = np.random.default_rng(seed)
    Nb, Tb, Db, Hb = 4, 6, 3, 5
    dirs = 2 if bi else 1
    module = _torch_module(kind, Db, Hb, num_layers, bi)
    model = StackedRecurrent(kind, Db, Hb, num_layers, rng, bidirectional=bi)
    _copy_torch_weights(module, model)

    x = rng.normal(size=(Nb, Tb, Db))
    h0 = rng.normal(size=(num_layers * dirs, Nb, Hb))
    c0 = rng.normal(size=h0.shape) if kind == "lstm" else None
    dout = rng.normal(size=(Nb, Tb, dirs * Hb))
    dh_n = rng.normal(size=h0.shape)
    dc_n = rng.normal(size=h0.shape) if kind == "lstm" else None

    # torch
    x_t = torch.from_numpy(x.copy()).requires_grad_()
    h0_t = torch.from_numpy(h0.copy()).requires_grad_()
    c0_t = torch.from_numpy(c0.copy()).requires_grad_() if c0 is not None else None
    state_t = (h0_t, c0_t) if kind == "lstm" else h0_t
    if lengths is None:
        out_t, final_t = module(x_t, state_t)
    else:
        packed = pack_padded_sequence(x_t, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
        out_packed, final_t = module(packed, state_t)
        out_t, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=Tb)
    h_n_t, c_n_t = final_t if kind == "lstm" else (final_t, None)
    objective = (out_t * torch.from_numpy(dout)).sum() + (h_n_t * torch.from_numpy(dh_n)).sum()
    if c_n_t is not None:
        objective = objective + (c_n_t * torch.from_numpy(dc_n)).sum()
    objective.backward()

    # ours
    out, finals, cache = model.forward(x, _our_states(h0, c0, num_layers, bi), lengths)
    dfinal = _our_states(dh_n, dc_n, num_layers, bi)
    dx, dstate0, grads = model.backward(dout, cache, dfinal)

    errors = {
        "out": rel_error(out, out_t.detach().numpy()),
        "h_n": rel_error(_stack_like_torch(finals, "h"), h_n_t.detach().numpy()),
        "dx": rel_error(dx, x_t.grad.numpy()),
        "dh0": rel_error(_stack_like_torch(dstate0, "h"), h0_t.grad.numpy()),
    }
    if kind == "lstm":
        errors["c_n"] = rel_error(_stack_like_torch(finals, "c"), c_n_t.detach().numpy())
        errors["dc0"] = rel_error(_stack_like_torch(dstate0, "c"), c0_t.grad.numpy())
    for suffix, _, prefix in _directions(model):
        for torch_name in kinds.TORCH_PARAMS:
            torch_grad = getattr(module, torch_name + suffix).grad.numpy()
            our_grad = grads[prefix + kinds.numpy_name(kind, torch_name)]
            errors[torch_name + suffix] = rel_error(our_grad, torch_grad)
    return errors


TORCH_CASES = [
    pytest.param(2, False, False, id="2-layer"),
    pytest.param(1, True, False, id="bidirectional"),
    pytest.param(2, True, False, id="2-layer-bidirectional"),
    pytest.param(2, False, True, id="2-layer-packed"),
    pytest.param(2, True, True, id="2-layer-bidirectional-packed"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("num_layers", "bi", "packed"), TORCH_CASES)
def test_matches_torch(kind: str, num_layers: int, bi: bool, packed: bool) -> None:
    lengths = np.array([6, 2, 1, 4]) if packed else None
    errors = _compare_with_torch(kind, num_layers, bi, lengths)
    bad = {name: err for name, err in errors.items() if not err < 1e-10}
    assert not bad, bad


def test_the_torch_comparison_catches_a_reverse_direction_that_starts_in_the_padding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reversing the padded array as a whole would start the reverse layer on padding."""
    monkeypatch.setattr(stacked_module, "reverse_padded", lambda x, lengths: x[:, ::-1])
    errors = _compare_with_torch("gru", 1, True, np.array([6, 2, 1, 4]))
    assert errors["out"] > 1e-3 and errors["weight_hh_l0_reverse"] > 1e-3


# ---------------------------------------------------------------------------
# Properties over random shapes
# ---------------------------------------------------------------------------


# The models and shapes both properties are tried on.
RANDOM_MODELS_AND_SHAPES = {
    "kind": st.sampled_from(KINDS),
    "bi": st.booleans(),
    "N": st.integers(1, 8),
    "T": st.integers(1, 50),
    "D": st.integers(1, 12),
    "H": st.integers(1, 12),
    "seed": st.integers(0, 2**32 - 1),
}


@settings(max_examples=20, deadline=None, derandomize=True)
@given(**RANDOM_MODELS_AND_SHAPES, num_layers=st.integers(1, 2))
def test_a_padded_batch_is_its_sequences_run_one_by_one(
    kind: str, bi: bool, num_layers: int, N: int, T: int, D: int, H: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    model = StackedRecurrent(kind, D, H, num_layers, rng, bidirectional=bi)
    x = rng.normal(size=(N, T, D))
    lengths = rng.integers(0, T + 1, size=N)
    state = random_state(model, N, rng)
    h, final, cache = model.forward(x, state, lengths)
    dh = rng.normal(size=h.shape)
    dfinal = random_like(final, rng)
    dx, dstate0, grads = model.backward(dh, cache, dfinal)

    def row(s: Any, n: int) -> Any:
        return map_state(lambda a: a[n : n + 1], s)

    close = dict(rtol=1e-9, atol=1e-12)
    summed = {name: np.zeros_like(g) for name, g in grads.items()}
    for n, L in enumerate(lengths):
        assert np.all(h[n, L:] == 0) and np.all(dx[n, L:] == 0)
        if L == 0:  # nothing happens: the state passes through, and so does its gradient
            for a, b in zip(leaves(row(final, n)), leaves(row(state, n))):
                np.testing.assert_array_equal(a, b)
            for a, b in zip(leaves(row(dstate0, n)), leaves(row(dfinal, n))):
                np.testing.assert_array_equal(a, b)
            continue
        h_n, final_n, cache_n = model.forward(x[n : n + 1, :L], row(state, n))
        dx_n, dstate0_n, grads_n = model.backward(dh[n : n + 1, :L], cache_n, row(dfinal, n))
        np.testing.assert_allclose(h[n : n + 1, :L], h_n, **close)
        np.testing.assert_allclose(dx[n : n + 1, :L], dx_n, **close)
        for a, b in zip(leaves(row(final, n)), leaves(final_n)):
            np.testing.assert_allclose(a, b, **close)
        for a, b in zip(leaves(row(dstate0, n)), leaves(dstate0_n)):
            np.testing.assert_allclose(a, b, **close)
        for name in summed:
            summed[name] += grads_n[name]
    for name in grads:
        np.testing.assert_allclose(grads[name], summed[name], rtol=1e-9, atol=1e-11)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(**RANDOM_MODELS_AND_SHAPES)
def test_full_lengths_change_nothing_and_float32_stays_float32(
    kind: str, bi: bool, N: int, T: int, D: int, H: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    model = StackedRecurrent(kind, D, H, 2, rng, bidirectional=bi)
    x = rng.normal(size=(N, T, D))
    h, final, cache = model.forward(x)
    h_full, final_full, cache_full = model.forward(x, lengths=np.full(N, T))
    # Equal up to rounding: the reversed input is a view in one case and a
    # gathered copy in the other, and BLAS may sum in another order.
    np.testing.assert_allclose(h, h_full, rtol=1e-13, atol=1e-15)
    for a, b in zip(leaves(final), leaves(final_full)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    dh = rng.normal(size=h.shape)
    dx, _, grads = model.backward(dh, cache)
    dx_full, _, grads_full = model.backward(dh, cache_full)
    np.testing.assert_allclose(dx, dx_full, rtol=1e-12, atol=1e-14)
    for name in grads:
        np.testing.assert_allclose(grads[name], grads_full[name], rtol=1e-12, atol=1e-13)

    model32 = StackedRecurrent(kind, D, H, 2, rng, bidirectional=bi, dtype=np.float32)
    for name, p in model32.params.items():
        p[...] = model.params[name]
    h32, final32, cache32 = model32.forward(x.astype(np.float32))
    dx32, dstate32, grads32 = model32.backward(dh.astype(np.float32), cache32)
    arrays32 = [h32, dx32, *leaves(final32), *leaves(dstate32), *grads32.values()]
    assert all(a.dtype == np.float32 for a in arrays32)
    np.testing.assert_allclose(h32, h, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dx32, dx, rtol=1e-3, atol=1e-3)
