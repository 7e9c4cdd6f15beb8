"""The correct earlier parts that later parts run with are correct: each equals the course's reference.

A substitute reaches the sandbox as the text :func:`source_of` gives, executed alone, so each test
runs that text (not the imported function) and compares it with ``rnncourse.scratch`` (or, where
the exercise's function has no twin there, the reference its check uses) on random float64 inputs.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from rnncourse.evaluation import forecasting
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.grading import substitutes
from rnncourse.grading.parts import load_substitute
from rnncourse.grading.substitutes import (
    ch01_recurrence,
    ch02_bptt,
    ch03_vanishing,
    ch04_lstm,
    ch05_gru,
    ch07_seq2seq,
    ch08_applications,
    source_of,
)
from rnncourse.scratch import activations, gru, lstm, rnn, tbptt
from rnncourse.scratch import optim as scratch_optim

MODULES = (
    ch01_recurrence,
    ch02_bptt,
    ch03_vanishing,
    ch04_lstm,
    ch05_gru,
    ch07_seq2seq,
    ch08_applications,
)
TOLERANCE = 1e-12  # float64 code that sums in another order stays far below this


def alone(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as the sandbox defines it: its source executed on its own."""
    return load_substitute(function.__name__, source_of(function))


def functions(module: ModuleType) -> list[Callable[..., Any]]:
    return [f for _, f in inspect.getmembers(module, inspect.isfunction) if f.__module__ == module.__name__]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_substitute_is_self_contained(module: ModuleType) -> None:
    """Alone, each function's source names nothing but NumPy, builtins and what it defines itself."""
    for function in functions(module):
        tree = ast.parse(source_of(function))
        defined = {
            node.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        }
        defined |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        defined |= {
            arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments) for arg in node.args
        }
        read = {
            node.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        }
        outside = read - defined - {"np"} - set(dir(builtins))
        assert outside == set(), f"{function.__name__} reads {outside}, which the sandbox does not define"
        assert callable(alone(function))


def test_the_package_index_names_every_substitute_module() -> None:
    for module in MODULES:
        assert f"``{module.__name__.rsplit('.', 1)[-1]}``" in (substitutes.__doc__ or "")


def close(a: Any, b: Any) -> bool:
    return rel_error(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)) < TOLERANCE


def rnn_params(rng: np.random.Generator, N: int, T: int, D: int, H: int) -> tuple[np.ndarray, ...]:
    return (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(size=(H, D)) / 2,
        rng.normal(size=(H, H)) / 2,
        rng.normal(size=H),
    )


@pytest.mark.parametrize("seed", range(3))
def test_exercise_1_cell_forward_and_softmax(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, h0, W_xh, W_hh, b = rnn_params(rng, 3, 5, 4, 6)
    assert close(
        alone(ch01_recurrence.rnn_cell_forward)(x[:, 0], h0, W_xh, W_hh, b),
        rnn.rnn_step_forward(x[:, 0], h0, W_xh, W_hh, b)[0],
    )
    assert close(
        alone(ch01_recurrence.rnn_forward)(x, h0, W_xh, W_hh, b), rnn.rnn_forward(x, h0, W_xh, W_hh, b)[0]
    )
    logits = rng.normal(size=(4, 7)) * 30
    assert close(alone(ch01_recurrence.softmax)(logits), activations.softmax(logits))


@pytest.mark.parametrize("seed", range(3))
def test_exercise_2_step_backward_bptt_and_clipping(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, h0, W_xh, W_hh, b = rnn_params(rng, 3, 5, 4, 6)
    h_t, cache = rnn.rnn_step_forward(x[:, 0], h0, W_xh, W_hh, b)
    dh = rng.normal(size=h_t.shape)
    ours = alone(ch02_bptt.rnn_step_backward)(dh, x[:, 0], h0, h_t, W_xh, W_hh)
    assert all(close(a, r) for a, r in zip(ours, rnn.rnn_step_backward(dh, cache), strict=True))

    V, (N, T, _), H = 7, x.shape, h0.shape[1]
    params = {
        "W_xh": W_xh,
        "W_hh": W_hh,
        "b_h": b,
        "W_hy": rng.normal(size=(V, H)),
        "b_y": rng.normal(size=V),
    }
    targets = rng.integers(0, V, size=(N, T))
    mask = (np.arange(T)[None] < np.array([T, 3, 1])[:, None]).astype(np.float64)
    loss, grads, h_last = alone(ch02_bptt.bptt)(params, x, targets, mask, h0)
    ref_loss, ref_grads, ref_last = tbptt.rnn_lm_loss_and_grads(params, x, targets, mask, h0)
    assert close(loss, ref_loss) and close(h_last, ref_last)
    assert set(grads) == set(ref_grads) and all(close(grads[k], ref_grads[k]) for k in grads)

    for max_norm in (0.5, 1e6):
        clipped, norm = alone(ch02_bptt.clip_by_global_norm)(grads, max_norm)
        ref_clipped, ref_norm = scratch_optim.clip_by_global_norm(grads, max_norm)
        assert close(norm, ref_norm) and all(close(clipped[k], ref_clipped[k]) for k in grads)


def test_exercise_3_given_network_has_its_stated_gradient() -> None:
    loss_and_grad = alone(ch03_vanishing.loss_and_grad)
    for w0, target, T in ((0.9, 0.5, 10), (1.05, 2.0, 20), (-0.7, 0.1, 7)):
        w = np.array([w0])
        loss, grad = loss_and_grad(w0, target, T)
        assert close(loss, 0.5 * (w0**T - target) ** 2)
        numeric = numerical_gradient(
            lambda w=w, target=target, T=T: np.array([loss_and_grad(float(w[0]), target, T)[0]]),
            w,
            np.ones(1),
        )
        assert rel_error(np.array([grad]), numeric) < 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_exercise_4_lstm_step_and_padded_sequence(seed: int) -> None:
    rng = np.random.default_rng(seed)
    N, T, D, H = 3, 6, 4, 5
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W_xh, W_hh, b = rng.normal(size=(4 * H, D)) / 2, rng.normal(size=(4 * H, H)) / 2, rng.normal(size=4 * H)
    h, c, _ = lstm.lstm_step_forward(x[:, 0], h0, c0, W_xh, W_hh, b)
    ours_h, ours_c = alone(ch04_lstm.lstm_step_forward)(x[:, 0], h0, c0, W_xh, W_hh, b)
    assert close(ours_h, h) and close(ours_c, c)

    lengths = np.array([T, 3, 1])
    out, h_last, c_last = alone(ch04_lstm.lstm_forward)(x, lengths, h0, c0, W_xh, W_hh, b)
    for n, length in enumerate(lengths):
        h, c = h0[n : n + 1], c0[n : n + 1]
        for t in range(length):  # the course's step, over the real steps of row n only
            h, c, _ = lstm.lstm_step_forward(x[n : n + 1, t], h, c, W_xh, W_hh, b)
            assert close(out[n, t], h[0])
        assert not out[n, length:].any(), "padded steps must output zeros"
        assert close(h_last[n], h[0]) and close(c_last[n], c[0])

    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, _, cache = lstm.lstm_step_forward(x[:, 0], h0, c0, W_xh, W_hh, b)
    expected = lstm.lstm_step_backward(dh, dc, cache)
    ours = alone(ch04_lstm.lstm_step_backward)(dh, dc, x[:, 0], h0, c0, W_xh, W_hh, b)
    assert len(ours) == 6 and all(close(a, e) for a, e in zip(ours, expected, strict=True))


@pytest.mark.parametrize("seed", range(3))
def test_exercise_5_gru_step_its_backward_and_the_given_rnn_step(seed: int) -> None:
    rng = np.random.default_rng(seed)
    N, D, H = 3, 4, 5
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    W_xh, W_hh = rng.normal(size=(3 * H, D)) / 2, rng.normal(size=(3 * H, H)) / 2
    b_xh, b_hh = rng.normal(size=3 * H), rng.normal(size=3 * H)
    h_t, cache = gru.gru_step_forward(x, h, W_xh, W_hh, b_xh, b_hh)
    assert close(alone(ch05_gru.gru_step_forward)(x, h, W_xh, W_hh, b_xh, b_hh), h_t)
    dh = rng.normal(size=h_t.shape)
    ours = alone(ch05_gru.gru_step_backward)(dh, x, h, W_xh, W_hh, b_xh, b_hh)
    assert all(close(a, r) for a, r in zip(ours, gru.gru_step_backward(dh, cache), strict=True))

    V_xh, V_hh, c_xh, c_hh = W_xh[:H], W_hh[:H], b_xh[:H], b_hh[:H]
    h_rnn, rnn_cache = rnn.rnn_step_forward(x, h, V_xh, V_hh, c_xh + c_hh)
    assert close(alone(ch05_gru.rnn_step_forward)(x, h, V_xh, V_hh, c_xh, c_hh), h_rnn)
    dx, dh_prev, dW_xh, dW_hh, db = rnn.rnn_step_backward(dh, rnn_cache)
    ours = alone(ch05_gru.rnn_step_backward)(dh, x, h, V_xh, V_hh, c_xh, c_hh)
    assert all(close(a, r) for a, r in zip(ours, (dx, dh_prev, dW_xh, dW_hh, db, db), strict=True))


def test_exercise_7_given_step_reads_the_score_table_or_a_network() -> None:
    scores = np.random.default_rng(0).normal(size=(4, 6, 6))
    step = alone(ch07_seq2seq.step_log_probs)
    assert np.array_equal(step(scores, [1, 5, 3]), scores[2, 3])  # <bos> 5 3: step t = 2 after token 3
    assert np.array_equal(step(scores, [1]), scores[0, 1])

    class Network:
        def log_probs(self, tokens):
            return np.array([float(len(tokens)), float(tokens[-1])])

    assert np.array_equal(step(Network(), [1, 4]), [2.0, 4.0])


@pytest.mark.parametrize("seed", range(3))
def test_exercise_8_preparation_given_model_and_early_stopping(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.normal(size=80)) + 10
    window, n_train = 5, 60
    reference = forecasting.prepare_windows(values, window, n_train)
    X_train, y_train, X_test, y_test, mean, std = alone(ch08_applications.prepare_data)(
        values, window, n_train
    )
    for ours, ref in (
        (X_train, reference.X_train),
        (y_train, reference.y_train),
        (X_test, reference.X_test),
        (y_test, reference.y_test),
    ):
        assert close(ours, ref)
    assert close(mean, reference.scaler.mean) and close(std, reference.scaler.std)

    mse_and_grad = alone(ch08_applications.mse_and_grad)
    w0 = rng.normal(size=window + 1)
    loss, grad = mse_and_grad(w0, X_train, y_train)
    assert close(loss, forecasting.linear_mse_and_grad(w0, X_train, y_train)[0])
    assert close(grad, forecasting.linear_mse_and_grad(w0, X_train, y_train)[1])

    for patience in (1, 3, 1000):
        run = alone(ch08_applications.fit_early_stopping)(
            w0, X_train, y_train, X_test, y_test, 0.05, 40, patience
        )
        ref = forecasting.gradient_descent_early_stopping(
            forecasting.linear_mse_and_grad, w0, (X_train, y_train), (X_test, y_test), 0.05, 40, patience
        )
        assert close(run["train_loss"], ref.train_loss) and close(run["val_loss"], ref.val_loss)
        assert (run["best_epoch"], run["stopped_early"]) == (ref.best_epoch, ref.stopped_early)
        assert close(run["weights"], ref.weights)
