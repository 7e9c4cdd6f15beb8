"""The hand-written sequence layers equal torch.nn.RNN/LSTM/GRU and the NumPy code.

Everything in float64: outputs, final states and the gradients of every
parameter, of the input and of the initial state agree to a relative error
below 1e-10.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnncourse.nn.recurrent import GRU, LSTM, RNN
from rnncourse.scratch.rnn import rnn_backward, rnn_forward

TOL = 1e-10
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def rel_err(a, b) -> float:
    """||a - b|| / max(||a||, ||b||), 0 when both are zero; tensors or arrays."""
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    scale = max(a.norm().item(), b.norm().item())
    return 0.0 if scale == 0 else (a - b).norm().item() / scale


def make_pair(kind: str, d: int, h: int, seed: int, **kw):
    """Our layer and torch's, in float64, with torch's (seeded) weights copied into ours."""
    torch.manual_seed(seed)
    if kind.startswith("rnn"):
        nl = kind.split("_")[1]
        theirs = torch.nn.RNN(d, h, nonlinearity=nl, **kw)
        ours = RNN(d, h, nonlinearity=nl, **kw)
    elif kind == "lstm":
        theirs, ours = torch.nn.LSTM(d, h, **kw), LSTM(d, h, **kw)
    else:
        theirs, ours = torch.nn.GRU(d, h, **kw), GRU(d, h, **kw)
    theirs.double()
    ours.double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def states_of(kind: str, h_n) -> list[torch.Tensor]:
    return list(h_n) if kind == "lstm" else [h_n]


def run(module, kind, x, h0, upstream, lengths=None, use_torch_packing=False, batch_first=False):
    """Forward, a weighted-sum loss, backward; returns outputs, states and all gradients.

    ``use_torch_packing`` runs ``module`` on torch's packed sequence (for
    torch's own layers); otherwise ``lengths`` goes in as a keyword.
    """
    x = x.clone().requires_grad_()
    h0 = [s.clone().requires_grad_() for s in h0] if h0 is not None else None
    hx = None if h0 is None else (tuple(h0) if kind == "lstm" else h0[0])
    module.zero_grad()
    if lengths is None:
        out, h_n = module(x, hx)
    elif use_torch_packing:
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, h_n = module(packed, hx)
        t = x.shape[1 if batch_first else 0]
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=t)
    else:
        out, h_n = module(x, hx, lengths=lengths)
    finals = states_of(kind, h_n)
    u_out, *u_states = upstream
    loss = (out * u_out).sum() + sum((s * u).sum() for s, u in zip(finals, u_states))
    loss.backward()
    grads = {name: p.grad.clone() for name, p in module.named_parameters()}
    grads["input"] = x.grad
    if h0 is not None:
        for i, s in enumerate(h0):
            grads[f"initial_state_{i}"] = s.grad
    return out.detach(), [s.detach() for s in finals], grads


def compare(
    kind,
    d,
    h,
    n,
    t,
    seed,
    num_layers=1,
    bidirectional=False,
    batch_first=False,
    lengths=None,
    with_state=True,
):
    ours, theirs = make_pair(
        kind, d, h, seed, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first
    )
    dirs = 2 if bidirectional else 1
    g = torch.Generator().manual_seed(seed + 1)
    shape = (n, t, d) if batch_first else (t, n, d)
    x = torch.randn(shape, dtype=torch.float64, generator=g)
    n_states = 2 if kind == "lstm" else 1
    state_shape = (num_layers * dirs, n, h)
    h0 = [torch.randn(state_shape, dtype=torch.float64, generator=g) for _ in range(n_states)]
    out_shape = (n, t, dirs * h) if batch_first else (t, n, dirs * h)
    upstream = [torch.randn(out_shape, dtype=torch.float64, generator=g)] + [
        torch.randn(state_shape, dtype=torch.float64, generator=g) for _ in range(n_states)
    ]
    h0 = h0 if with_state else None
    a = run(ours, kind, x, h0, upstream, lengths=lengths, batch_first=batch_first)
    b = run(theirs, kind, x, h0, upstream, lengths=lengths, use_torch_packing=True, batch_first=batch_first)
    (out_a, fin_a, grads_a), (out_b, fin_b, grads_b) = a, b
    assert out_a.shape == out_b.shape
    assert rel_err(out_a, out_b) < TOL
    for s, r in zip(fin_a, fin_b):
        assert s.shape == r.shape
        assert rel_err(s, r) < TOL
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert rel_err(grads_a[name], grads_b[name]) < TOL, name
    return a


# --- structure ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_parameter_names_and_shapes_match_torch(kind, bidirectional) -> None:
    ours, theirs = make_pair(kind, 3, 5, 0, num_layers=3, bidirectional=bidirectional)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in theirs.state_dict().items()
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_loads_into_torch(kind) -> None:
    ours, theirs = make_pair(kind, 3, 4, 0, num_layers=2, bidirectional=True)
    torch.manual_seed(99)
    ours.reset_parameters()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    assert rel_err(ours(x)[0].detach(), theirs(x)[0].detach()) < TOL


def test_initialisation_is_uniform_within_one_over_sqrt_h() -> None:
    torch.manual_seed(0)
    layer = LSTM(8, 25, num_layers=2, bidirectional=True)
    values = torch.cat([p.detach().flatten() for p in layer.parameters()])
    bound = 1 / 5
    assert values.abs().max() <= bound
    assert values.max() > 0.95 * bound and values.min() < -0.95 * bound


# --- equal to torch, whole sequences ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_equals_torch(kind, num_layers, bidirectional, batch_first) -> None:
    compare(
        kind,
        d=4,
        h=5,
        n=3,
        t=6,
        seed=7,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_default_initial_state_is_zero(kind) -> None:
    compare(kind, d=3, h=4, n=2, t=5, seed=1, num_layers=2, bidirectional=True, with_state=False)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_unbatched_sequence(kind) -> None:
    ours, theirs = make_pair(kind, 3, 4, 0, num_layers=2, bidirectional=True)
    x = torch.randn(5, 3, dtype=torch.float64)
    (oa, ha), (ob, hb) = ours(x), theirs(x)
    assert oa.shape == ob.shape == (5, 8)
    assert rel_err(oa.detach(), ob.detach()) < TOL
    for s, r in zip(states_of(kind, ha), states_of(kind, hb)):
        assert s.shape == r.shape == (4, 4)
        assert rel_err(s.detach(), r.detach()) < TOL


def test_dropout_between_layers_only_in_training_mode() -> None:
    ours, theirs = make_pair("gru", 3, 4, 0, num_layers=2, dropout=0.5)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    ours.eval()
    theirs.eval()
    assert rel_err(ours(x)[0].detach(), theirs(x)[0].detach()) < TOL
    ours.train()
    torch.manual_seed(0)
    first = ours(x)[0].detach()
    torch.manual_seed(0)
    again = ours(x)[0].detach()
    torch.manual_seed(1)
    other = ours(x)[0].detach()
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    # dropout=1 zeroes the input of layer 1: its output is then that of a
    # one-layer GRU with layer 1's weights run on zeros.
    ours1, _ = make_pair("gru", 3, 4, 0, num_layers=2, dropout=1.0)
    top = GRU(4, 4).double()
    top.load_state_dict({k.replace("_l1", "_l0"): v for k, v in ours1.state_dict().items() if "_l1" in k})
    ours1.train()
    out = ours1(x)[0].detach()
    assert rel_err(out, top(torch.zeros(5, 2, 4, dtype=torch.float64))[0].detach()) < TOL
    ours1.eval()
    assert rel_err(out, ours1(x)[0].detach()) > 1e-3


# --- padded batches -----------------------------------------------------------------


LENGTHS = torch.tensor([4, 7, 1, 6, 7])  # unsorted, with ties, a length-1 and full-length ones


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_padded_batch_equals_torch_packed(kind, num_layers, bidirectional, batch_first) -> None:
    compare(
        kind,
        d=3,
        h=4,
        n=5,
        t=7,
        seed=3,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        lengths=LENGTHS,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_padding_values_do_not_matter(kind) -> None:
    ours, _ = make_pair(kind, 3, 4, 0, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(5, 7, 3, dtype=torch.float64)
    pad = torch.arange(7)[None, :] >= LENGTHS[:, None]  # (N, T) True at padding
    x_other = x.clone()
    x_other[pad] = 1e3  # large values at every padded position
    xg = x.clone().requires_grad_()
    out_a, h_a = ours(xg, lengths=LENGTHS)
    out_b, h_b = ours(x_other, lengths=LENGTHS)
    assert torch.equal(out_a, out_b)
    for s, r in zip(states_of(kind, h_a), states_of(kind, h_b)):
        assert torch.equal(s, r)
    assert torch.all(out_a[pad] == 0)
    (out_a.sum() + sum(s.sum() for s in states_of(kind, h_a))).backward()
    assert torch.all(xg.grad[pad] == 0)
    assert torch.all(xg.grad[~pad].abs().sum(-1) > 0)


@pytest.mark.parametrize("kind", KINDS)
def test_full_lengths_equal_no_lengths(kind) -> None:
    ours, _ = make_pair(kind, 3, 4, 0, num_layers=2, bidirectional=True)
    x = torch.randn(6, 3, 3, dtype=torch.float64)
    a = ours(x)
    b = ours(x, lengths=torch.tensor([6, 6, 6]))
    assert torch.equal(a[0], b[0])


def test_reverse_direction_starts_at_each_sequence_end() -> None:
    """The reverse half of a bidirectional output, for a sequence of length L, is
    the unidirectional reverse run over that sequence's own L steps."""
    torch.manual_seed(0)
    bi = LSTM(2, 3, bidirectional=True, batch_first=True).double()
    rev = LSTM(2, 3, batch_first=True).double()
    rev.load_state_dict({k.replace("_reverse", ""): v for k, v in bi.state_dict().items() if "_reverse" in k})
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    out, (h_n, _) = bi(x, lengths=lengths)
    for i, L in enumerate(lengths.tolist()):
        flipped = x[i : i + 1, :L].flip(1)
        ref, (ref_h, _) = rev(flipped)
        assert rel_err(out[i, :L, 3:].detach(), ref[0].flip(0).detach()) < TOL
        assert rel_err(h_n[1, i].detach(), ref_h[0, 0].detach()) < TOL


def test_lengths_and_state_validation() -> None:
    layer = RNN(2, 3)
    x = torch.randn(4, 2, 2)
    with pytest.raises(ValueError):
        layer(x, torch.zeros(1, 3, 3))
    with pytest.raises(ValueError):
        layer(x, lengths=torch.tensor([5, 1]))
    with pytest.raises(ValueError):
        layer(x, lengths=torch.tensor([4]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packed_sequence_input(kind, batch_first, enforce_sorted) -> None:
    ours, theirs = make_pair(kind, 3, 4, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    lengths = torch.tensor([7, 6, 6, 3, 1]) if enforce_sorted else LENGTHS
    x = torch.randn((5, 7, 3) if batch_first else (7, 5, 3), dtype=torch.float64)
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    h0 = torch.randn(4, 5, 4, dtype=torch.float64)  # initial states in the original batch order
    hx = (h0, -h0) if kind == "lstm" else h0
    out_a, h_a = ours(packed, hx)
    out_b, h_b = theirs(packed, hx)
    assert isinstance(out_a, PackedSequence)
    assert torch.equal(out_a.batch_sizes, out_b.batch_sizes)
    assert (out_a.sorted_indices is None) == (out_b.sorted_indices is None)
    if out_b.sorted_indices is not None:
        assert torch.equal(out_a.sorted_indices, out_b.sorted_indices)
    assert rel_err(out_a.data.detach(), out_b.data.detach()) < TOL
    for s, r in zip(states_of(kind, h_a), states_of(kind, h_b)):
        assert rel_err(s.detach(), r.detach()) < TOL


# --- equal to the NumPy implementations --------------------------------------------


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def check_numpy_rnn_equals_module(n: int, t: int, d: int, h: int, activation: str, seed: int) -> None:
    """rnn_forward and rnn_backward, given the module's weights, give its outputs and gradients."""
    torch.manual_seed(seed)
    layer = RNN(d, h, nonlinearity=activation, batch_first=True).double()
    rng = np.random.default_rng(seed)
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    dh = rng.standard_normal((n, t, h))

    # NumPy has one bias b_h; torch's two only ever appear as their sum.
    b_h = _numpy(layer.bias_ih_l0 + layer.bias_hh_l0)
    W_xh, W_hh = _numpy(layer.weight_ih_l0), _numpy(layer.weight_hh_l0)
    out_np, cache = rnn_forward(x, h0, W_xh, W_hh, b_h, activation)
    dx, dh0, dW_xh, dW_hh, db_h = rnn_backward(dh, cache)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, h_n = layer(xt, h0t)
    (out * torch.tensor(dh)).sum().backward()
    assert rel_err(out_np, out.detach()) < TOL
    assert rel_err(out_np[:, -1], h_n[0].detach()) < TOL
    assert rel_err(dx, xt.grad) < TOL
    assert rel_err(dh0, h0t.grad[0]) < TOL
    assert rel_err(dW_xh, layer.weight_ih_l0.grad) < TOL
    assert rel_err(dW_hh, layer.weight_hh_l0.grad) < TOL
    assert rel_err(db_h, layer.bias_ih_l0.grad) < TOL
    assert rel_err(db_h, layer.bias_hh_l0.grad) < TOL


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_numpy_rnn_equals_module(activation) -> None:
    check_numpy_rnn_equals_module(4, 6, 3, 5, activation, seed=4)


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(not _has("rnncourse.scratch.lstm"), reason="rnncourse.scratch.lstm not written yet")
def test_numpy_lstm_equals_module() -> None:
    from rnncourse.scratch.lstm import lstm_backward, lstm_forward

    torch.manual_seed(5)
    layer = LSTM(3, 4, batch_first=True).double()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 6, 3))
    h0, c0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    dh, dc_T = rng.standard_normal((3, 6, 4)), rng.standard_normal((3, 4))

    b = _numpy(layer.bias_ih_l0 + layer.bias_hh_l0)
    W_xh, W_hh = _numpy(layer.weight_ih_l0), _numpy(layer.weight_hh_l0)
    h, c_T, cache = lstm_forward(x, h0, c0, W_xh, W_hh, b)
    dx, dh0, dc0, dW_xh, dW_hh, db = lstm_backward(dh, cache, dc_T)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out, (_, c_n) = layer(xt, (h0t, c0t))
    ((out * torch.tensor(dh)).sum() + (c_n[0] * torch.tensor(dc_T)).sum()).backward()
    assert rel_err(h, out.detach()) < TOL
    assert rel_err(c_T, c_n[0].detach()) < TOL
    assert rel_err(dx, xt.grad) < TOL
    assert rel_err(dh0, h0t.grad[0]) < TOL
    assert rel_err(dc0, c0t.grad[0]) < TOL
    assert rel_err(dW_xh, layer.weight_ih_l0.grad) < TOL
    assert rel_err(dW_hh, layer.weight_hh_l0.grad) < TOL
    assert rel_err(db, layer.bias_ih_l0.grad) < TOL


@pytest.mark.skipif(not _has("rnncourse.scratch.gru"), reason="rnncourse.scratch.gru not written yet")
def test_numpy_gru_equals_module() -> None:
    from rnncourse.scratch.gru import gru_backward, gru_forward

    torch.manual_seed(6)
    layer = GRU(3, 4, batch_first=True).double()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 6, 3))
    h0 = rng.standard_normal((3, 4))
    dh = rng.standard_normal((3, 6, 4))

    params = [_numpy(p) for p in (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)]
    h, cache = gru_forward(x, h0, *params)
    dx, dh0, dW_xh, dW_hh, db_xh, db_hh = gru_backward(dh, cache)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, _ = layer(xt, h0t)
    (out * torch.tensor(dh)).sum().backward()
    assert rel_err(h, out.detach()) < TOL
    assert rel_err(dx, xt.grad) < TOL
    assert rel_err(dh0, h0t.grad[0]) < TOL
    assert rel_err(dW_xh, layer.weight_ih_l0.grad) < TOL
    assert rel_err(dW_hh, layer.weight_hh_l0.grad) < TOL
    assert rel_err(db_xh, layer.bias_ih_l0.grad) < TOL
    assert rel_err(db_hh, layer.bias_hh_l0.grad) < TOL


# --- property tests over random shapes ---------------------------------------------


@st.composite
def layer_cases(draw):
    n = draw(st.integers(1, 8))
    t = draw(st.integers(1, 50))
    padded = draw(st.booleans())
    lengths = None
    if padded:
        lengths = torch.tensor(draw(st.lists(st.integers(1, t), min_size=n, max_size=n)))
    return dict(
        kind=draw(st.sampled_from(KINDS)),
        d=draw(st.integers(1, 12)),
        h=draw(st.integers(1, 12)),
        n=n,
        t=t,
        num_layers=draw(st.integers(1, 2)),
        bidirectional=draw(st.booleans()),
        batch_first=draw(st.booleans()),
        lengths=lengths,
        seed=draw(st.integers(0, 2**16)),
    )


@settings(max_examples=20, deadline=None)
@given(case=layer_cases())
def test_property_equals_torch_for_random_shapes(case) -> None:
    compare(**case)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 8),
    t=st.integers(1, 50),
    d=st.integers(1, 12),
    h=st.integers(1, 12),
    activation=st.sampled_from(["tanh", "relu"]),
    seed=st.integers(0, 2**16),
)
def test_property_numpy_rnn_equals_module(n, t, d, h, activation, seed) -> None:
    check_numpy_rnn_equals_module(n, t, d, h, activation, seed)
