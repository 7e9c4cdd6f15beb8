"""Checks for exercise 8, the capstone: a leakage-free pipeline, sampling, early stopping, a forecaster.

``PARTS`` lists the four parts (``parts.Part``), as in chapter 1: the notebook
imports this module as ``check`` and calls ``check.<part>(<function>)`` for
the visible cases; the autograder runs them and the hidden cases (their kinds
here, their values drawn from the instructor's secret at grading time: real
series are cut at a drawn point and mapped by a drawn affine transform) and
the same ``verify`` outside the sandbox.

1. ``prepare_data(values, window, n_train)``: chronological split, scaler
   fitted on the training span only, windows. Compared with the reference to
   ``core.TOLERANCE``; the leaks (a scaler fitted on everything, a window
   that contains its own target, a test target in the training set) are named.
2. ``sample_tokens(logits, temperature, top_k, num_samples, seed)``: checked
   *statistically*, so any correct way of drawing passes: every sample lies
   in the top-k set, and the counts agree with the right distribution by a
   G-test at the 1e-6 level (a correct sampler fails it once in a million
   seeds; the check's seeds are fixed, so the verdict is reproducible).
3. ``fit_early_stopping(...)``: full-batch gradient descent on the given
   linear model (``mse_and_grad``), early stopping with ``patience`` and the
   best weights restored; its history and weights are deterministic float64
   and compared with the reference (``rnncourse.evaluation.forecasting``).
4. ``fit_and_forecast(train_values, test_windows)``: a complete model that
   must beat persistence by a stated skill on real series it never saw (the
   targets stay with the check); each call has the grader's time bound.
5. ``fit_and_classify(train_ids, train_labels, test_ids)``: the tier that
   needs recurrence. Generated sentences of negation and contrast
   (``rnncourse.data.negation``) whose label is decided by word order; the
   roles of the token ids are drawn anew for every hidden case, so the model
   must be learned from the training sentences. The accuracy asked for is
   above what any order-free model can reach on this data (a bag of tokens
   that many sentences share with opposite labels) and far above a linear
   model's; a small recurrent network trained with BPTT reaches 1.0.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnncourse.data import negation, series
from rnncourse.evaluation import forecasting as fc
from rnncourse.gradcheck import rel_error
from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch08_applications as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.nn.sampling import next_token_probs


def _tuple_of(result: object, name: str, count: int, what: str) -> tuple[Any, ...]:
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = f"{len(result)} items" if isinstance(result, (tuple, list)) else core.type_name(result)
        raise core.GradingFailure(f"{name} returned {got}; return {count} values: {what}.")
    return tuple(result)


# -- Part 1: a leakage-free data pipeline -------------------------------------------------


def _seeded_walk(seed: int, length: int) -> np.ndarray:
    """A random walk with a drift: the test span's level differs from the training span's."""
    rng = np.random.default_rng(seed)
    return 50.0 + np.cumsum(rng.normal(0.3, 1.0, size=length))


def prepare_cases() -> list[parts.Case]:
    """The visible ``prepare_data(values, window, n_train)`` cases; a drifting series makes leaks visible."""
    return [
        parts.Case("a drifting walk, T=30, window 4, n_train 20", (_seeded_walk(81, 30), 4, 20)),
        parts.Case("a drifting walk, T=12, window 3, n_train 8", (_seeded_walk(82, 12), 3, 8)),
    ]


def _affine(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """``values`` in other units: scaled by a drawn factor and shifted by a drawn offset."""
    scale = rng.uniform(0.5, 2.0)
    offset = rng.uniform(-0.2, 0.2) * float(np.mean(np.abs(values)))
    return scale * values + offset


def _walk_draw(length: int, window: int, n_train: int) -> parts.Draw:
    return lambda rng: (_seeded_walk(parts.seed_of(rng), length), window, n_train)


def _co2_span(rng: np.random.Generator) -> tuple[Any, ...]:
    co2 = series.co2_monthly().values
    start = int(rng.integers(0, len(co2) - 200))
    return _affine(rng, co2[start : start + 200]), 12, 150


_HIDDEN_PREPARE: dict[str, parts.Draw] = {
    "window 1": _walk_draw(10, 1, 6),
    "a single training window (n_train = window + 1)": _walk_draw(15, 5, 6),
    "a single test target (n_train = T - 1)": _walk_draw(9, 2, 8),
    "monthly CO2, window 12": _co2_span,
}


def _windows(z: np.ndarray, window: int, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    return fc.make_windows(z, window, first, stop)


@parts.verifier
def _verify_prepare(case: parts.Case, result: object) -> None:
    name = "prepare_data"
    parts.raise_if_error(name, result, case)
    values, window, n_train = case.args
    T = len(values)
    X_train, y_train, X_test, y_test, mean, std = _tuple_of(
        result, name, 6, "X_train, y_train, X_test, y_test, mean, std"
    )
    reference = fc.prepare_windows(values, window, n_train)
    # The scaler first: the leak of statistics is the most common mistake.
    for got, what in ((mean, "mean"), (std, "std")):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            raise core.GradingFailure(f"{name} returned {core.type_name(got)} as the {what}; return a float.")
    scale = np.array([mean, std], dtype=np.float64)
    core.compare(
        scale,
        np.array([reference.scaler.mean, reference.scaler.std]),
        name,
        {
            "LEAKAGE: the scaler is fitted on the whole series; fit the mean and std on "
            "values[:n_train] only, the span the model may learn from": np.array(
                [values.mean(), values.std()]
            ),
            "the std is the sample std (ddof=1); use the population std, np.std's default (ddof=0)": np.array(
                [values[:n_train].mean(), values[:n_train].std(ddof=1)]
            ),
            "the scaler is fitted on the test span; fit it on values[:n_train]": np.array(
                [values[n_train:].mean(), values[n_train:].std()]
            ),
        },
    )
    n_tr, n_te = n_train - window, T - n_train
    X_train = np.asarray(X_train) if isinstance(X_train, np.ndarray) else X_train
    if isinstance(X_train, np.ndarray) and X_train.shape == (n_tr + 1, window):
        raise core.GradingFailure(
            f"{name} returned {n_tr + 1} training windows; expected {n_tr}. LEAKAGE: a training target at "
            "index n_train (or beyond) belongs to the test span. Training targets are t = window .. n_train - 1."
        )
    if isinstance(X_test, np.ndarray) and X_test.shape == (n_te - window, window) and window > 0:
        raise core.GradingFailure(
            f"{name} returned {n_te - window} test windows; expected {n_te}, one per target t = n_train .. T - 1. "
            "A test window may reach back into the training span: those values are known when the forecast is made."
        )
    X_train = core.check_array(X_train, name, (n_tr, window), "the training windows X_train")
    y_train = core.check_array(y_train, name, (n_tr,), "the training targets y_train")
    X_test = core.check_array(X_test, name, (n_te, window), "the test windows X_test")
    y_test = core.check_array(y_test, name, (n_te,), "the test targets y_test")
    z = reference.scaler.transform(values)
    z_shift = np.concatenate([z[1:], [np.nan]])  # window one step late: it holds its own target
    mistakes_x: dict[str, np.ndarray] = {}
    if n_train < T:
        late_train = z_shift[np.arange(window, n_train)[:, None] + np.arange(-window, 0)]
        mistakes_x[
            "LEAKAGE: each window ends at its own target; the input of target t is values[t - window : t], "
            "which stops before t"
        ] = late_train
    mistakes_x["the windows are not scaled; scale the series with the training mean and std first"] = (
        reference.scaler.inverse(reference.X_train)
    )
    core.compare(X_train, reference.X_train, name + " (X_train)", mistakes_x)
    core.compare(
        y_train,
        reference.y_train,
        name + " (y_train)",
        {"the targets are not scaled": reference.scaler.inverse(reference.y_train)},
    )
    late_test = z_shift[np.arange(n_train, T)[:, None] + np.arange(-window, 0)]
    test_mistakes = {"the test windows are not scaled": reference.scaler.inverse(reference.X_test)}
    if np.all(np.isfinite(late_test)):
        test_mistakes["LEAKAGE: each test window ends at its own target; use values[t - window : t]"] = (
            late_test
        )
    core.compare(X_test, reference.X_test, name + " (X_test)", test_mistakes)
    core.compare(
        y_test, reference.y_test, name + " (y_test)", {"the test targets are not scaled": values[n_train:]}
    )


PREPARE_DATA = parts.Part(
    grade_id="test_prepare_data",
    function="prepare_data",
    title="Part 1: a leakage-free data pipeline",
    points=3,
    visible=prepare_cases,
    hidden=_HIDDEN_PREPARE,
    verify=_verify_prepare,
    parameters=("values", "window", "n_train"),
)


def prepare_data(prepare_data_fn: Callable[..., Any]) -> None:
    """``prepare_data(values, window, n_train)`` -> X_train, y_train, X_test, y_test, mean, std."""
    parts.run_part_in_process(PREPARE_DATA, prepare_data_fn)


# -- Part 2: temperature and top-k sampling ----------------------------------------------

#: A G-test at this level: a correct sampler fails about once in a million seeds.
ALPHA_Z = 4.753  # the standard normal's 1 - 1e-6 quantile


def chi2_quantile(df: int, z: float = ALPHA_Z) -> float:
    """The chi-square quantile for the normal quantile ``z`` (Wilson and Hilferty, 1931), df >= 1."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


def g_statistic(counts: np.ndarray, probs: np.ndarray) -> float:
    """``G = 2 sum_i O_i ln(O_i / E_i)``: inf if a count falls where ``probs`` is 0."""
    expected = probs * counts.sum()
    if np.any((counts > 0) & (expected == 0)):
        return math.inf
    seen = counts > 0
    return float(2.0 * np.sum(counts[seen] * np.log(counts[seen] / expected[seen])))


def _fits(counts: np.ndarray, probs: np.ndarray) -> bool:
    df = int(np.count_nonzero(probs)) - 1
    return df < 1 or g_statistic(counts, probs) <= chi2_quantile(df)


_VISIBLE_LOGITS = np.array([2.0, 1.0, 0.5, -0.5, -1.0, 0.1, 1.5, -2.0])


def sampling_cases() -> list[parts.Case]:
    """The visible ``sample_tokens(logits, temperature, top_k, num_samples, seed)`` cases (logits without ties)."""
    return [
        parts.Case("V=8, temperature 0.5, top-3", (_VISIBLE_LOGITS, 0.5, 3, 20000, 0)),
        parts.Case("V=8, temperature 2, top-8 (no cut)", (_VISIBLE_LOGITS, 2.0, 8, 20000, 1)),
    ]


def _untied_logits(rng: np.random.Generator, V: int, spread: float) -> np.ndarray:
    """``V`` logits with no two equal: a permutation of evenly spaced values, each nudged a little."""
    steps = np.linspace(-spread, spread, V) + rng.uniform(-0.2, 0.2, V) * (2 * spread / max(V, 2))
    return rng.permutation(steps)


def _sampling_draw(
    V: int, spread: float, temperature: float, top_k: int, samples: int, offset: float = 0.0
) -> parts.Draw:
    def draw(rng: np.random.Generator) -> tuple[Any, ...]:
        return offset + _untied_logits(rng, V, spread), temperature, top_k, samples, int(rng.integers(10**6))

    return draw


_HIDDEN_SAMPLING: dict[str, parts.Draw] = {
    "one token (V=1)": _sampling_draw(1, 1.0, 1.0, 1, 500),
    "top-1 is greedy": _sampling_draw(50, 3.0, 1.0, 1, 2000),
    "V=50, temperature 1, top-10": _sampling_draw(50, 3.0, 1.0, 10, 30000),
    "logits around 1000": _sampling_draw(8, 2.0, 1.0, 5, 20000, offset=1000.0),
    "low temperature 0.2, top-4": _sampling_draw(8, 2.0, 0.2, 4, 20000),
    "one sample": _sampling_draw(8, 2.0, 1.0, 3, 1),
}


def _sampling_error_advice(result: object, logits: np.ndarray, temperature: float) -> str:
    """What an exception from a sampler most likely means, from its message and the logits' size.

    ``exp`` of a logit above about 709 is infinite in float64, and inf / inf is
    NaN: a sampler that does not subtract the largest logit fails on large
    logits with "probabilities contain NaN", which is not a renormalising slip.
    """
    if not isinstance(result, parts.LearnerError):
        return ""
    message = result.message.lower()
    overflows = float(np.max(np.abs(logits))) / temperature > 700.0
    if "nan" in message or overflows:
        return (
            "With logits this large, exp overflows to inf and inf / inf is NaN: subtract the largest "
            "(scaled) logit before exp, softmax(z - max(z)), which changes no probability."
        )
    if "sum to 1" in message:
        return "After zeroing the tokens outside the top k, divide the kept probabilities by their sum."
    return ""


def _sampling_mistakes(logits: np.ndarray, temperature: float, top_k: int) -> dict[str, np.ndarray]:
    V = len(logits)
    return {
        "the temperature multiplies the logits; divide them by it, softmax(logits / temperature)": next_token_probs(
            logits * temperature, 1.0, top_k
        ),
        "the temperature is ignored; sample from softmax(logits / temperature)": next_token_probs(
            logits, 1.0, top_k
        ),
        "the top-k cut is missing: keep only the k largest logits": next_token_probs(
            logits, temperature, None
        ),
        "top-k keeps k + 1 tokens: keep exactly k": next_token_probs(logits, temperature, min(top_k + 1, V)),
    }


@parts.verifier
def _verify_sampling(case: parts.Case, result: object) -> None:
    name = "sample_tokens"
    logits, temperature, top_k, num_samples, _seed = case.args
    parts.raise_if_error(name, result, case, _sampling_error_advice(result, logits, temperature))
    V = len(logits)
    if not isinstance(result, np.ndarray):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return a NumPy array of {num_samples} token ids."
        )
    if result.shape != (num_samples,):
        raise core.GradingFailure(
            f"{name} returned shape {result.shape}; expected ({num_samples},), one id per sample."
        )
    if not np.issubdtype(result.dtype, np.integer):
        raise core.GradingFailure(f"{name} returned {result.dtype}; token ids are integers (e.g. int64).")
    if result.min() < 0 or result.max() >= V:
        raise core.GradingFailure(f"{name} returned ids outside 0 .. V - 1 = {V - 1}.")
    probs = next_token_probs(logits, temperature, top_k)
    allowed = probs > 0
    if not np.all(allowed[result]):
        smallest = np.argsort(logits)[:top_k]
        if np.all(np.isin(result, smallest)):
            raise core.GradingFailure(
                f"{name} draws from the k *smallest* logits; keep the k largest (sort in descending order)."
            )
        raise core.GradingFailure(
            f"{name} drew a token outside the top {top_k}. Likely mistake: the top-k cut is missing, or it "
            "keeps the wrong tokens; set every probability outside the k largest to 0 before drawing."
        )
    counts = np.bincount(result, minlength=V).astype(np.float64)
    if _fits(counts, probs):
        return
    named = [
        text
        for text, wrong in _sampling_mistakes(logits, temperature, top_k).items()
        if rel_error(wrong, probs) > 1e-3 and _fits(counts, wrong)
    ]
    if named:
        raise core.GradingFailure(
            f"{name} draws from the wrong distribution. Likely mistake: {'; or '.join(named)}."
        )
    raise core.GradingFailure(
        f"{name} draws from the wrong distribution: a G-test rejects the counts at the 1e-6 level "
        f"(G = {g_statistic(counts, probs):.0f}). Check: softmax(logits / temperature), keep the top k, "
        "renormalise, then draw with np.random.default_rng(seed)."
    )


SAMPLE_TOKENS = parts.Part(
    grade_id="test_sample_tokens",
    function="sample_tokens",
    title="Part 2: temperature and top-k sampling",
    points=3,
    visible=sampling_cases,
    hidden=_HIDDEN_SAMPLING,
    verify=_verify_sampling,
    parameters=("logits", "temperature", "top_k", "num_samples", "seed"),
)


def sample_tokens(sample_tokens_fn: Callable[..., Any]) -> None:
    """``sample_tokens(logits, temperature, top_k, num_samples, seed)`` -> (num_samples,) ids."""
    parts.run_part_in_process(SAMPLE_TOKENS, sample_tokens_fn)


# -- Part 3: early stopping that restores the best weights ---------------------------------


def _overfitting_problem(seed: int, n_train: int, n_val: int, features: int) -> tuple[np.ndarray, ...]:
    """Few noisy training examples for many weights: the validation loss falls, then rises."""
    rng = np.random.default_rng(seed)
    true_w = rng.uniform(-1.0, 1.0, size=features + 1)
    X_train, X_val = (
        rng.uniform(-1.0, 1.0, size=(n_train, features)),
        rng.uniform(-1.0, 1.0, size=(n_val, features)),
    )
    y_train = X_train @ true_w[:-1] + true_w[-1] + rng.uniform(-1.0, 1.0, size=n_train)
    y_val = X_val @ true_w[:-1] + true_w[-1] + rng.uniform(-1.0, 1.0, size=n_val)
    return X_train, y_train, X_val, y_val


def _early_stopping_args(
    seed: int, n_train: int, n_val: int, features: int, lr: float, epochs: int, patience: int
) -> tuple[Any, ...]:
    X_train, y_train, X_val, y_val = _overfitting_problem(seed, n_train, n_val, features)
    return np.zeros(features + 1), X_train, y_train, X_val, y_val, lr, epochs, patience


def early_stopping_cases() -> list[parts.Case]:
    """The visible ``fit_early_stopping(w0, X_train, y_train, X_val, y_val, lr, epochs, patience)`` case."""
    return [
        parts.Case("8 examples, 12 features, patience 3", _early_stopping_args(31, 8, 40, 12, 0.05, 300, 3))
    ]


def _early_stopping_draw(
    n_train: int, n_val: int, features: int, lr: float, epochs: int, patience: int
) -> parts.Draw:
    return lambda rng: _early_stopping_args(
        parts.seed_of(rng), n_train, n_val, features, lr, epochs, patience
    )


def _plateau_args(
    seed: int, n_train: int, n_val: int, features: int, epochs: int, patience: int
) -> tuple[Any, ...]:
    """A model that already fits its training data exactly: the gradient is 0 and the validation loss never moves.

    ``y_train`` is computed as the model computes its prediction, so every
    residual is exactly 0.0 and ``w`` stays ``w0``: the validation loss is the
    same number at every epoch, a plateau. An equal loss is no improvement,
    so the best epoch is 0 and the loop stops after ``patience`` more epochs.
    """
    rng = np.random.default_rng(seed)
    w0 = rng.uniform(-1.0, 1.0, size=features + 1)
    X_train = rng.uniform(-1.0, 1.0, size=(n_train, features))
    X_val = rng.uniform(-1.0, 1.0, size=(n_val, features))
    y_train = X_train @ w0[:-1] + w0[-1]
    y_val = X_val @ w0[:-1] + w0[-1] + rng.uniform(-1.0, 1.0, size=n_val)
    return w0, X_train, y_train, X_val, y_val, 0.05, epochs, patience


_HIDDEN_EARLY_STOPPING: dict[str, parts.Draw] = {
    "a plateau: the validation loss stays exactly equal": lambda rng: _plateau_args(
        parts.seed_of(rng), 12, 20, 4, 50, 3
    ),
    "patience 1": _early_stopping_draw(6, 30, 10, 0.05, 300, 1),
    "one feature, no early stop within 5 epochs": _early_stopping_draw(20, 20, 1, 0.05, 5, 3),
    "one validation example": _early_stopping_draw(5, 1, 8, 0.05, 300, 4),
    "30 features, patience 10": _early_stopping_draw(10, 60, 30, 0.02, 400, 10),
}


def _variant(
    case: parts.Case,
    restore: bool = True,
    extra_patience: int = 0,
    loss_after: bool = False,
    equal_improves: bool = False,
) -> dict[str, Any]:
    """What the reference loop returns, or a typical mistake of it."""
    w0, X_train, y_train, X_val, y_val, lr, epochs, patience = case.args
    w, train, val = w0.copy(), [], []
    best, best_epoch, best_w, waited = np.inf, 0, w.copy(), 0
    for epoch in range(epochs):
        loss, grad = fc.linear_mse_and_grad(w, X_train, y_train)
        w = w - lr * grad
        train.append(fc.linear_mse_and_grad(w, X_train, y_train)[0] if loss_after else loss)
        val.append(fc.linear_mse_and_grad(w, X_val, y_val)[0])
        if val[-1] < best or (equal_improves and val[-1] == best):
            best, best_epoch, best_w, waited = val[-1], epoch, w.copy(), 0
        else:
            waited += 1
            if waited >= patience + extra_patience:
                break
    return {
        "train_loss": train,
        "val_loss": val,
        "best_epoch": best_epoch,
        "weights": best_w if restore else w,
    }


@parts.verifier
def _verify_early_stopping(case: parts.Case, result: object) -> None:
    name = "fit_early_stopping"
    parts.raise_if_error(name, result, case)
    if not isinstance(result, dict):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return a dict with the keys train_loss, val_loss, "
            "best_epoch, stopped_early and weights (the names of rnncourse.training.History)."
        )
    missing = [
        k for k in ("train_loss", "val_loss", "best_epoch", "stopped_early", "weights") if k not in result
    ]
    if missing:
        raise core.GradingFailure(f"{name}'s dict lacks the key(s) {', '.join(missing)}.")
    epochs = case.args[6]
    reference = fc.gradient_descent_early_stopping(
        fc.linear_mse_and_grad, case.args[0], case.args[1:3], case.args[3:5], *case.args[5:]
    )
    late, early = _variant(case, extra_patience=1), _variant(case, extra_patience=-1)
    lenient = _variant(case, equal_improves=True)
    val = np.asarray(result["val_loss"], dtype=np.float64)
    n_expected = len(reference.val_loss)
    if val.shape != (n_expected,):
        if val.shape == (len(lenient["val_loss"]),) and len(lenient["val_loss"]) != n_expected:
            raise core.GradingFailure(
                f"{name} ran {len(val)} epochs; expected {n_expected}. Likely mistake: an equal validation "
                "loss counts as an improvement (<=). On a plateau the loss repeats exactly and the loop "
                "never stops; only a strictly lower loss (<) is a new best."
            )
        if val.shape == (len(late["val_loss"]),) and len(late["val_loss"]) != n_expected:
            raise core.GradingFailure(
                f"{name} ran {len(val)} epochs; expected {n_expected}. Likely mistake: it stops one epoch "
                f"late. Stop as soon as {case.args[7]} epochs in a row have not improved on the best validation loss."
            )
        if val.shape == (len(early["val_loss"]),) and len(early["val_loss"]) != n_expected:
            raise core.GradingFailure(
                f"{name} ran {len(val)} epochs; expected {n_expected}. Likely mistake: it stops one epoch "
                "early: the counter of epochs without improvement must reach patience."
            )
        raise core.GradingFailure(
            f"{name} ran {len(val)} epochs (val_loss has {len(val)} entries); expected {n_expected} of at most "
            f"{epochs}. Record one validation loss per epoch run, and stop after patience epochs without improvement."
        )
    train = np.asarray(result["train_loss"], dtype=np.float64)
    if train.shape != (n_expected,):
        raise core.GradingFailure(
            f"{name}: train_loss has {train.size} entries; expected one per epoch, {n_expected}."
        )
    core.compare(
        train,
        np.array(reference.train_loss),
        name + " (train_loss)",
        {
            "the training loss is measured after the update; record it before, as the loss of the "
            "weights the gradient was computed at": np.array(_variant(case, loss_after=True)["train_loss"])
        },
    )
    core.compare(val, np.array(reference.val_loss), name + " (val_loss)", {})
    best_epoch = result["best_epoch"]
    if not isinstance(best_epoch, int) or isinstance(best_epoch, bool) or best_epoch != reference.best_epoch:
        if best_epoch == lenient["best_epoch"] != reference.best_epoch:
            raise core.GradingFailure(
                f"{name} says best_epoch = {best_epoch!r}; expected {reference.best_epoch}. Likely mistake: an "
                "equal validation loss counts as a new best (<=); only a strictly lower one (<) does."
            )
        raise core.GradingFailure(
            f"{name} says best_epoch = {best_epoch!r}; expected {reference.best_epoch}, the epoch (counted from 0) "
            "with the lowest validation loss."
        )
    if result["stopped_early"] is not reference.stopped_early:
        raise core.GradingFailure(
            f"{name} says stopped_early = {result['stopped_early']!r}; expected {reference.stopped_early} "
            f"(True exactly when it ran fewer than epochs = {epochs} epochs)."
        )
    weights = core.check_array(result["weights"], name, reference.weights.shape, "the restored weights")
    core.compare(
        weights,
        reference.weights,
        name + " (weights)",
        {
            "the weights of the LAST epoch are returned (Keras' default without restore_best_weights=True); "
            "keep a copy of the weights at the best epoch and return that": _variant(case, restore=False)[
                "weights"
            ],
            "the best weights change after they are kept: store a copy (w.copy()), not a reference to an "
            "array that is updated in place": _variant(case, restore=False)["weights"],
        },
    )


FIT_EARLY_STOPPING = parts.Part(
    grade_id="test_fit_early_stopping",
    function="fit_early_stopping",
    title="Part 3: early stopping that restores the best weights",
    points=3,
    visible=early_stopping_cases,
    hidden=_HIDDEN_EARLY_STOPPING,
    verify=_verify_early_stopping,
    substitutes={"mse_and_grad": source_of(correct.mse_and_grad)},
    parameters=("w0", "X_train", "y_train", "X_val", "y_val", "lr", "epochs", "patience"),
)


def fit_early_stopping(fit_early_stopping_fn: Callable[..., Any]) -> None:
    """``fit_early_stopping(w0, X_train, y_train, X_val, y_val, lr, epochs, patience)`` -> dict."""
    parts.run_part_in_process(FIT_EARLY_STOPPING, fit_early_stopping_fn)


# -- Part 4: a complete forecaster on data it never saw --------------------------------------

#: The window every case gives; the quality every case asks for.
FORECAST_WINDOW = 24
MIN_SKILL = 0.4
#: The time a call may take, enforced by the grader's time bound per call.
TIME_LIMIT_SECONDS = 10


_SUNSPOTS_1930 = "yearly sunspots, trained on 1700-1929, forecasting 1930-2008"
_SUNSPOTS_1880 = "yearly sunspots, trained on 1700-1879, forecasting 1880-2008"
_CO2 = "monthly Mauna Loa CO2, trained on 1958-1991"
_KDD = "KDD-TSAD series 135 (a physiological signal), 1,200 points to train on"


@functools.lru_cache(maxsize=1)
def _forecast_data() -> dict[str, tuple[np.ndarray, int]]:
    kdd = series.kdd_tsad_135()
    return {
        _SUNSPOTS_1930: (series.sunspots().values, 230),
        _SUNSPOTS_1880: (series.sunspots().values, 180),
        _CO2: (series.co2_monthly().values, 400),
        # The normal start of the KDD-TSAD series 135, stopped before its labelled anomaly.
        _KDD: (kdd.test[:4000], 1200),
    }


def _forecast_args(values: np.ndarray, n_train: int, stop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training span, and the test windows up to ``stop`` in an order drawn with ``seed``."""
    X, _ = fc.make_windows(values, FORECAST_WINDOW, n_train, stop)
    order = np.random.default_rng(seed).permutation(len(X))
    return values[:n_train].copy(), X[order]


def forecast_cases() -> list[parts.Case]:
    """The visible ``fit_and_forecast(train_values, test_windows)`` case: shuffled windows, targets kept here."""
    label, (values, n_train) = next(iter(_forecast_data().items()))
    return [parts.Case(label, _forecast_args(values, n_train, len(values), 700))]


def _forecast_draw(label: str, spread: int, single: bool = False) -> parts.Draw:
    """A data set of ``_forecast_data``, cut within +-``spread`` of its split and mapped by a drawn affine map."""

    def draw(rng: np.random.Generator) -> tuple[Any, ...]:
        values, n_train = _forecast_data()[label]
        n_train += int(rng.integers(-spread, spread + 1))
        mapped = _affine(rng, values)
        return _forecast_args(mapped, n_train, n_train + 1 if single else len(values), parts.seed_of(rng))

    return draw


_HIDDEN_FORECAST: dict[str, parts.Draw] = {
    "yearly sunspots, trained on about 1700-1879, forecasting the rest": _forecast_draw(_SUNSPOTS_1880, 10),
    "monthly Mauna Loa CO2, trained on about 1958-1991": _forecast_draw(_CO2, 20),
    "KDD-TSAD series 135 (a physiological signal), about 1,200 points to train on": _forecast_draw(_KDD, 100),
    "a single test window": _forecast_draw(_SUNSPOTS_1930, 30, single=True),
}


def _targets(case: parts.Case) -> np.ndarray:
    """The targets of a case's windows: the value after each, in the data set its training span came from.

    A hidden case's series is one of ``_forecast_data`` mapped by an affine map
    and cut elsewhere: the map is recovered from the training span (a least-squares
    fit that must be exact), and each window is matched to its place in the mapped series.
    """
    train_values, windows = case.args
    n_train = len(train_values)
    for values, _ in _forecast_data().values():
        if len(values) <= n_train:
            continue
        scale, offset = np.polyfit(values[:n_train], train_values, 1)
        mapped = scale * values + offset
        if rel_error(mapped[:n_train], train_values) > 1e-9:
            continue
        X, y = fc.make_windows(mapped, FORECAST_WINDOW, n_train, len(values))
        nearest = [
            np.argmin(((chunk[:, None, :] - X[None, :, :]) ** 2).sum(axis=2), axis=1)
            for chunk in np.array_split(windows, max(1, len(windows) // 64))
        ]
        return np.asarray(y[np.concatenate(nearest)])
    raise KeyError(case.name)


@parts.verifier
def _verify_forecast(case: parts.Case, result: object) -> None:
    name = "fit_and_forecast"
    parts.raise_if_error(name, result, case)
    train_values, windows = case.args
    n = len(windows)
    prediction = core.check_array(result, name, (n,), "one forecast per test window")
    target = _targets(case)
    persistence = windows[:, -1]
    if n == 1:
        spread = np.ptp(train_values)
        if abs(prediction[0] - target[0]) > spread:
            raise core.GradingFailure(
                f"{name}'s forecast for a single window is off by more than the training range."
            )
        return
    model_mse, reference_mse = fc.mse(prediction, target), fc.mse(persistence, target)
    achieved = fc.skill(model_mse, reference_mse)
    if achieved >= MIN_SKILL:
        return
    mean, std = float(np.mean(train_values)), float(np.std(train_values))
    hint = "Fit a model on windows of the training values (part 1's pipeline) and forecast each window."
    if rel_error(prediction, persistence) < 1e-6:
        hint = "These forecasts repeat each window's last value: that is the persistence baseline itself."
    elif abs(np.mean(prediction)) < 0.2 * abs(mean) and abs(np.mean(prediction) - mean) > 3 * np.std(
        prediction
    ):
        hint = (
            "The forecasts look like scaled values: map them back to the series' units with "
            "forecast * std + mean (the training span's mean and std)."
        )
    elif np.std(prediction) < 0.05 * std:
        hint = (
            "The forecasts barely vary: the model predicts a constant (the mean?). Use each window's values."
        )
    raise core.GradingFailure(
        f"{name}'s forecasts have a skill of {achieved:.2f} over persistence (1 - MSE / MSE of repeating the "
        f"last value); at least {MIN_SKILL} is required. {hint}"
    )


FIT_AND_FORECAST = parts.Part(
    grade_id="test_fit_and_forecast",
    function="fit_and_forecast",
    title="Part 4: a complete forecaster that beats persistence on unseen data",
    points=4,
    visible=forecast_cases,
    hidden=_HIDDEN_FORECAST,
    verify=_verify_forecast,
    substitutes={
        "prepare_data": source_of(correct.prepare_data),
        "fit_early_stopping": source_of(correct.fit_early_stopping),
        "mse_and_grad": source_of(correct.mse_and_grad),
    },
    parameters=("train_values", "test_windows"),
)


def fit_and_forecast(fit_and_forecast_fn: Callable[..., Any]) -> None:
    """``fit_and_forecast(train_values, test_windows)`` -> (n,) forecasts in the series' units."""
    parts.run_part_in_process(FIT_AND_FORECAST, fit_and_forecast_fn)


# -- Part 5: a classifier that needs recurrence ---------------------------------------------

#: The accuracy part 5 asks for, above any order-free model's reach on this data.
MIN_ACCURACY = 0.9
#: How long a call of part 5 may take in the notebook's words (the grader's own bound is looser).
CLASSIFY_SECONDS = 30
#: A clause is at most subject, link, negator, intensifier, word: 5 tokens, plus one contrast token between clauses.
_CLAUSE_TOKENS = 5


def padded_length(max_clauses: int) -> int:
    """The longest sentence of ``max_clauses`` clauses, in tokens."""
    return _CLAUSE_TOKENS * max_clauses + max_clauses - 1


def negation_task(
    seed: int,
    train: int = 1000,
    test: int = 400,
    max_clauses: int = 3,
    length: int | None = None,
    vocab_size: int = 24,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Part 5's data: generated sentences of 2 to ``max_clauses`` clauses over integer ids.

    The roles of the ids (which are positive and negative words, negators,
    intensifiers, subjects, the link and the contrast word) are drawn with
    ``seed`` (``rnncourse.data.negation.id_lexicon``). Sentences are padded with
    0 on the left to ``length`` tokens (the longest possible by default).

    Returns:
        train_ids (train, T) int64, train_labels (train,) int64 in {0, 1},
        test_ids (test, T) int64, test_labels (test,) int64.
    """
    rng = np.random.default_rng(seed)
    lexicon = negation.id_lexicon(rng, vocab_size)
    T = padded_length(max_clauses) if length is None else length
    splits = [
        negation.sentences(lexicon, count, rng, max_clauses=max_clauses, min_clauses=2)
        for count in (train, test)
    ]
    (train_ids, test_ids), (train_labels, test_labels) = (
        [negation.left_padded(p.tokens, T) for p in splits],
        [p.labels for p in splits],
    )
    return train_ids, train_labels, test_ids, test_labels


def _classify_draw(train: int, test: int, max_clauses: int, extra_padding: int = 0) -> parts.Draw:
    def draw(rng: np.random.Generator) -> tuple[Any, ...]:
        train_ids, train_labels, test_ids, _ = negation_task(
            parts.seed_of(rng), train, test, max_clauses, padded_length(max_clauses) + extra_padding
        )
        return train_ids, train_labels, test_ids

    return draw


def classify_cases() -> list[parts.Case]:
    """The visible ``fit_and_classify(train_ids, train_labels, test_ids)`` case (test labels kept here)."""
    train_ids, train_labels, test_ids, _ = negation_task(808)
    return [
        parts.Case(
            "1,000 training sentences of 2 or 3 clauses, 400 test sentences",
            (train_ids, train_labels, test_ids),
        )
    ]


_HIDDEN_CLASSIFY: dict[str, parts.Draw] = {
    "other token ids for every role": _classify_draw(1000, 400, 3),
    "600 training sentences": _classify_draw(600, 400, 3),
    "up to four clauses": _classify_draw(1000, 400, 4),
    "twice the padding": _classify_draw(1000, 300, 3, extra_padding=17),
}


def _sentence(row: np.ndarray) -> list[int]:
    return [int(t) for t in row if t != 0]


def _clauses(sentence: list[int], link: int) -> list[list[int]]:
    """A sentence cut into clauses: a clause starts one token before each ``link`` (its subject)."""
    starts = [i - 1 for i, t in enumerate(sentence) if t == link]
    bounds = [*starts, len(sentence) + 1]
    return [sentence[a : b - 1] if b <= len(sentence) else sentence[a:] for a, b in zip(bounds, bounds[1:])]


def _rule(train_ids: np.ndarray, train_labels: np.ndarray) -> Callable[[list[int]], int]:
    """The grammar's labelling rule, with the roles of the ids read off the training sentences.

    Every clause is ``subject link [negator] [intensifier] word``, so the link
    is every sentence's second token. The label is the last clause's word's
    polarity, flipped when it is negated: the polarity of each word comes from
    the last clauses with nothing between link and word, and a token between
    them is a negator where it flips a known polarity.
    """
    sentences = [_sentence(row) for row in train_ids]
    link = Counter(s[1] for s in sentences if len(s) > 1).most_common(1)[0][0]
    polarity: dict[int, int] = {}
    last = [(_clauses(s, link)[-1], int(label)) for s, label in zip(sentences, train_labels)]
    for clause, label in last:
        if len(clause) == 3:
            polarity[clause[-1]] = label
    negators: set[int] = set()
    for clause, label in last:
        if len(clause) > 3 and clause[-1] in polarity and label != polarity[clause[-1]]:
            negators.add(clause[2])

    def label_of(sentence: list[int]) -> int:
        clause = _clauses(sentence, link)[-1]
        negated = any(t in negators for t in clause[2:-1])
        return int(polarity[clause[-1]] != negated)

    return label_of


def _test_labels(case: parts.Case) -> np.ndarray:
    """The labels of a case's test sentences, by the grammar's rule read off its training sentences."""
    train_ids, train_labels, test_ids = case.args
    label_of = _rule(train_ids, train_labels)
    return np.array([label_of(_sentence(row)) for row in test_ids], dtype=np.int64)


def _order_free(prediction: np.ndarray, test_ids: np.ndarray, labels: np.ndarray) -> bool:
    """True if sentences that hold the same tokens (in any order) always get the same prediction,
    while some of them have different labels: the mark of a model that counts tokens."""
    groups: dict[tuple[int, ...], set[tuple[int, int]]] = {}
    for row, p, y in zip(test_ids, prediction, labels):
        groups.setdefault(tuple(sorted(_sentence(row))), set()).add((int(p), int(y)))
    shared = [g for g in groups.values() if len({y for _, y in g}) > 1]
    return bool(shared) and all(len({p for p, _ in g}) == 1 for g in groups.values())


@parts.verifier
def _verify_classify(case: parts.Case, result: object) -> None:
    name = "fit_and_classify"
    parts.raise_if_error(name, result, case)
    test_ids = case.args[2]
    n = len(test_ids)
    if not isinstance(result, np.ndarray):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return a NumPy array of {n} labels (0 or 1)."
        )
    if result.shape != (n,):
        raise core.GradingFailure(
            f"{name} returned shape {result.shape}; expected ({n},), one label per test sentence."
        )
    if not (np.issubdtype(result.dtype, np.integer) or np.issubdtype(result.dtype, np.bool_)):
        raise core.GradingFailure(
            f"{name} returned {result.dtype} values; return integer labels 0 or 1 (e.g. (p > 0.5).astype(int))."
        )
    if not np.all((result == 0) | (result == 1)):
        raise core.GradingFailure(f"{name} returned labels other than 0 and 1.")
    labels = _test_labels(case)
    accuracy = float(np.mean(result == labels))
    if accuracy >= MIN_ACCURACY:
        return
    hint = (
        "A recurrent network reads the sentence in order and can carry 'negated' and 'after the last contrast "
        "word' in its state; trained with BPTT (chapter 2) it reaches 1.0 here. Check its gradient numerically, "
        "train for more epochs or with a larger learning rate, and read every row from left to right (the "
        "padding comes first)."
    )
    if len(np.unique(result)) == 1:
        hint = f"It predicts {int(result[0])} for every sentence: the model has learned nothing yet. " + hint
    elif accuracy < 1 - MIN_ACCURACY:
        hint = "Almost every label is the wrong way round: are 0 and 1 swapped?"
    elif _order_free(result, test_ids, labels):
        hint = (
            "Sentences that hold the same tokens get the same prediction, whatever their order: this is an "
            "order-free model (a bag of words), and no order-free model can reach the bar, because the same bag "
            "comes with both labels. " + hint
        )
    raise core.GradingFailure(
        f"{name}'s predictions are right for {accuracy:.1%} of the test sentences; at least "
        f"{MIN_ACCURACY:.0%} is required. {hint}"
    )


FIT_AND_CLASSIFY = parts.Part(
    grade_id="test_fit_and_classify",
    function="fit_and_classify",
    title="Part 5: a classifier that needs recurrence",
    points=4,
    visible=classify_cases,
    hidden=_HIDDEN_CLASSIFY,
    verify=_verify_classify,
    parameters=("train_ids", "train_labels", "test_ids"),
)


def fit_and_classify(fit_and_classify_fn: Callable[..., Any]) -> None:
    """``fit_and_classify(train_ids, train_labels, test_ids)`` -> (n,) labels 0 or 1."""
    parts.run_part_in_process(FIT_AND_CLASSIFY, fit_and_classify_fn)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [
    PREPARE_DATA,
    SAMPLE_TOKENS,
    FIT_EARLY_STOPPING,
    FIT_AND_FORECAST,
    FIT_AND_CLASSIFY,
]

__all__: Sequence[str] = [
    "PARTS",
    "chi2_quantile",
    "fit_and_classify",
    "fit_and_forecast",
    "fit_early_stopping",
    "g_statistic",
    "negation_task",
    "prepare_data",
    "sample_tokens",
]
