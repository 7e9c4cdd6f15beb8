"""The hand-written cells equal torch.nn's cells, forward and backward, in float64."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncourse.nn.cells import GRUCell, LSTMCell, RNNCell

TOL = 1e-10

PAIRS = {
    "rnn_tanh": (
        lambda d, h, bias: RNNCell(d, h, bias=bias),
        lambda d, h, bias: torch.nn.RNNCell(d, h, bias=bias),
    ),
    "rnn_relu": (
        lambda d, h, bias: RNNCell(d, h, bias=bias, nonlinearity="relu"),
        lambda d, h, bias: torch.nn.RNNCell(d, h, bias=bias, nonlinearity="relu"),
    ),
    "lstm": (
        lambda d, h, bias: LSTMCell(d, h, bias=bias),
        lambda d, h, bias: torch.nn.LSTMCell(d, h, bias=bias),
    ),
    "gru": (
        lambda d, h, bias: GRUCell(d, h, bias=bias),
        lambda d, h, bias: torch.nn.GRUCell(d, h, bias=bias),
    ),
}


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / max(||a||, ||b||), 0 when both are zero."""
    scale = max(a.norm().item(), b.norm().item())
    return 0.0 if scale == 0 else (a - b).norm().item() / scale


def make_pair(kind: str, d: int, h: int, bias: bool, seed: int):
    torch.manual_seed(seed)
    make_ours, make_theirs = PAIRS[kind]
    theirs = make_theirs(d, h, bias).double()
    ours = make_ours(d, h, bias).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def run_and_compare(
    kind: str, d: int, h: int, n: int, bias: bool, seed: int, with_state: bool = True
) -> None:
    ours, theirs = make_pair(kind, d, h, bias, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, d, dtype=torch.float64, generator=g)
    n_states = 2 if kind == "lstm" else 1
    states = [torch.randn(n, h, dtype=torch.float64, generator=g) for _ in range(n_states)]
    # Random upstream gradients, so every output element has its own weight in the loss.
    upstream = [torch.randn(n, h, dtype=torch.float64, generator=g) for _ in states]

    results = []
    for module in (ours, theirs):
        xi = x.clone().requires_grad_()
        si = [s.clone().requires_grad_() for s in states]
        if with_state:
            arg = tuple(si) if kind == "lstm" else si[0]
            out = module(xi, arg)
        else:
            out = module(xi)
        outs = list(out) if kind == "lstm" else [out]
        loss = sum((o * u).sum() for o, u in zip(outs, upstream))
        loss.backward()
        grads = {name: p.grad.clone() for name, p in module.named_parameters()}
        grads["x"] = xi.grad
        if with_state:
            for i, s in enumerate(si):
                grads[f"state{i}"] = s.grad
        results.append((outs, grads))

    (outs_a, grads_a), (outs_b, grads_b) = results
    for a, b in zip(outs_a, outs_b):
        assert rel_err(a, b) < TOL
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert rel_err(grads_a[name], grads_b[name]) < TOL, name


@pytest.mark.parametrize("kind", list(PAIRS))
@pytest.mark.parametrize("bias", [True, False])
def test_same_parameter_names_and_shapes_as_torch(kind: str, bias: bool) -> None:
    make_ours, make_theirs = PAIRS[kind]
    ours, theirs = make_ours(3, 5, bias), make_theirs(3, 5, bias)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in theirs.named_parameters()
    ]


@pytest.mark.parametrize("kind", list(PAIRS))
def test_state_dict_moves_both_ways(kind: str) -> None:
    make_ours, make_theirs = PAIRS[kind]
    ours, theirs = make_ours(4, 6, True), make_theirs(4, 6, True)
    theirs.load_state_dict(ours.state_dict())
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert torch.equal(p, q), n
    torch.manual_seed(3)
    ours2 = make_ours(4, 6, True)
    ours2.load_state_dict(theirs.state_dict())
    for (n, p), (_, q) in zip(ours2.named_parameters(), theirs.named_parameters()):
        assert torch.equal(p, q), n


@pytest.mark.parametrize("kind", list(PAIRS))
def test_initialisation_is_uniform_within_one_over_sqrt_h(kind: str) -> None:
    torch.manual_seed(0)
    h = 16
    cell = PAIRS[kind][0](10, h, True)
    bound = 1 / math.sqrt(h)
    values = torch.cat([p.detach().flatten() for p in cell.parameters()])
    assert values.abs().max() <= bound
    # Spread over the whole interval, not e.g. all zero or a tiny scale.
    assert values.max() > 0.9 * bound and values.min() < -0.9 * bound
    assert abs(values.mean().item()) < 0.1 * bound


@pytest.mark.parametrize("kind", list(PAIRS))
@pytest.mark.parametrize("bias", [True, False])
def test_equals_torch_forward_and_gradients(kind: str, bias: bool) -> None:
    run_and_compare(kind, d=5, h=7, n=4, bias=bias, seed=11)


@pytest.mark.parametrize("kind", list(PAIRS))
def test_default_state_is_zero(kind: str) -> None:
    run_and_compare(kind, d=3, h=4, n=2, bias=True, seed=5, with_state=False)


@pytest.mark.parametrize("kind", list(PAIRS))
def test_unbatched_input(kind: str) -> None:
    ours, theirs = make_pair(kind, 3, 4, True, seed=2)
    x = torch.randn(3, dtype=torch.float64)
    a, b = ours(x), theirs(x)
    a = list(a) if kind == "lstm" else [a]
    b = list(b) if kind == "lstm" else [b]
    for u, v in zip(a, b):
        assert u.shape == v.shape == (4,)
        assert rel_err(u, v) < TOL


def test_rejects_unknown_nonlinearity() -> None:
    with pytest.raises(ValueError):
        RNNCell(2, 3, nonlinearity="sigmoid")


@settings(max_examples=20, deadline=None)
@given(
    kind=st.sampled_from(list(PAIRS)),
    d=st.integers(1, 12),
    h=st.integers(1, 12),
    n=st.integers(1, 8),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_property_equals_torch_for_random_shapes(kind, d, h, n, bias, seed) -> None:
    run_and_compare(kind, d=d, h=h, n=n, bias=bias, seed=seed)
