"""Truncated backpropagation through time: the gradient of the chunked computation, and what it cuts."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, rel_error
from rnncourse.kinds import KINDS
from rnncourse.scratch.dense import dense_backward, dense_forward
from rnncourse.scratch.losses import softmax_cross_entropy
from rnncourse.scratch.recurrent import RecurrentLayer
from rnncourse.scratch.stacked import StackedRecurrent
from rnncourse.scratch.tbptt import RNN_LM_PARAMS, rnn_lm_loss_and_grads, rnn_lm_tbptt_sgd, truncated_bptt
from tests.scratch.layer_helpers import leaves, random_state


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
    state = random_state(model, Nt, rng)
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
@pytest.mark.parametrize("seed", [0, 1])
def test_truncated_gradient_is_the_gradient_of_the_chunked_computation(
    kind: str, padded: bool, seed: int
) -> None:
    """Each chunk's initial state is a constant: the numerical gradient holds it fixed."""
    model, x, lengths, _, state = _tbptt_problem(kind, 2, padded, seed)
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
    for a, b in zip(leaves(result.final_state), leaves(full_final)):
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


# -- The vanilla RNN language model of chapter 2 ------------------------------------


def _lm_inputs(seed: int, N: int = 3, T: int = 5, D: int = 4, H: int = 6, C: int = 4):
    rng = np.random.default_rng(seed)
    params = {
        "W_xh": rng.normal(size=(H, D)) * 0.5,
        "W_hh": rng.normal(size=(H, H)) * 0.5,
        "b_h": rng.normal(size=H) * 0.1,
        "W_hy": rng.normal(size=(C, H)),
        "b_y": rng.normal(size=C) * 0.1,
    }
    x = rng.normal(size=(N, T, D))
    targets = rng.integers(0, C, size=(N, T))
    h0 = rng.normal(size=(N, H)) * 0.5
    return params, x, targets, h0


def test_rnn_lm_gradients_pass_a_numerical_check_with_padding() -> None:
    params, x, targets, h0 = _lm_inputs(10)
    mask = np.ones((3, 5))
    mask[1, 3:] = 0
    mask[2, 1:] = 0
    loss, grads, _ = rnn_lm_loss_and_grads(params, x, targets, mask, h0)
    inputs = {**params, "h0": h0}
    check_gradients(
        lambda: np.array(rnn_lm_loss_and_grads(params, x, targets, mask, h0)[0]),
        inputs,
        grads,
        np.array(1.0),
    )
    assert loss > 0


def test_rnn_lm_agrees_with_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    params, x, targets, h0 = _lm_inputs(11, N=2, T=7)
    loss, grads, h_last = rnn_lm_loss_and_grads(params, x, targets, None, h0)
    t = {name: torch.tensor(v, requires_grad=True) for name, v in {**params, "h0": h0}.items()}
    h, total = t["h0"], torch.zeros((), dtype=torch.float64)
    for step in range(x.shape[1]):
        h = torch.tanh(torch.from_numpy(x[:, step]) @ t["W_xh"].T + h @ t["W_hh"].T + t["b_h"])
        z = h @ t["W_hy"].T + t["b_y"]
        total = total + torch.nn.functional.cross_entropy(
            z, torch.from_numpy(targets[:, step]), reduction="sum"
        )
    total = total / x.shape[0]
    total.backward()
    assert rel_error(loss, total.item()) < 1e-12
    assert rel_error(h_last, h.detach().numpy()) < 1e-12
    for name, tensor in t.items():
        assert rel_error(grads[name], tensor.grad.numpy()) < 1e-10, name


def test_rnn_lm_tbptt_sgd_carries_the_state_and_cuts_the_gradient() -> None:
    params, x, targets, h0 = _lm_inputs(12, T=6)
    lr, max_norm = 0.1, 1e9  # no clipping, to compare with updates written out by hand
    new, h_last, losses = rnn_lm_tbptt_sgd(params, x, targets, h0, 3, lr, max_norm)
    loss1, g1, h3 = rnn_lm_loss_and_grads(params, x[:, :3], targets[:, :3], None, h0)
    mid = {name: params[name] - lr * g1[name] for name in RNN_LM_PARAMS}
    loss2, g2, h6 = rnn_lm_loss_and_grads(mid, x[:, 3:], targets[:, 3:], None, h3)
    assert losses == [loss1, loss2]
    assert rel_error(h_last, h6) < 1e-14
    for name in RNN_LM_PARAMS:
        assert rel_error(new[name], mid[name] - lr * g2[name]) < 1e-14
    # k >= T is one step of full BPTT.
    full, _, (loss,) = rnn_lm_tbptt_sgd(params, x, targets, h0, 6, lr, max_norm)
    assert loss > 0
    _, g, _ = rnn_lm_loss_and_grads(params, x, targets, None, h0)
    assert rel_error(full["W_hh"], params["W_hh"] - lr * g["W_hh"]) < 1e-14
    # A small max_norm bounds the step of every chunk.
    clipped, _, _ = rnn_lm_tbptt_sgd(params, x, targets, h0, 6, 1.0, 1e-3)
    step = np.sqrt(sum(np.sum((clipped[n] - params[n]) ** 2) for n in RNN_LM_PARAMS))
    assert abs(step - 1e-3) < 1e-12
    with pytest.raises(ValueError, match="k must be"):
        rnn_lm_tbptt_sgd(params, x, targets, h0, 0, lr, max_norm)


def test_rnn_lm_names_arguments_of_the_wrong_shape() -> None:
    params, x, targets, h0 = _lm_inputs(13)
    with pytest.raises(ValueError, match=r"targets has shape \(5, 3\); expected \(N, T\) = \(3, 5\)"):
        rnn_lm_loss_and_grads(params, x, targets.T, None, h0)
    with pytest.raises(ValueError, match=r"mask has shape"):
        rnn_lm_loss_and_grads(params, x, targets, np.ones((3, 4)), h0)
    with pytest.raises(ValueError, match=r"h0 has shape"):
        rnn_lm_loss_and_grads(params, x, targets, None, h0[:1])
