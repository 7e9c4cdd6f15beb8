"""Exercise 8's checks: the reference and other correct answers pass, each named mistake fails with its message."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rnncourse.grading import ch08_applications as check
from rnncourse.grading.core import GradingFailure
from rnncourse.grading.parts import Case, defined_alone
from rnncourse.grading.substitutes import ch08_applications as given
from rnncourse.grading.substitutes import source_of
from tests.grading import ch08_applications_answers as answers
from tests.grading.hidden import run_hidden

CHECKS: dict[str, Callable[..., None]] = {
    "prepare_data": check.prepare_data,
    "sample_tokens": check.sample_tokens,
    "fit_early_stopping": check.fit_early_stopping,
    "fit_and_forecast": check.fit_and_forecast,
    "fit_and_classify": check.fit_and_classify,
}


def define(source: str, name: str) -> Callable[..., Any]:
    """The function ``name`` of a cell's source, run with the notebook's setup (NumPy and the given model)."""
    namespace: dict[str, Any] = {"np": np, "mse_and_grad": defined_alone(given.mse_and_grad)}
    exec(compile(source, f"<answer {name}>", "exec"), namespace)
    return namespace[name]


def correct(name: str) -> Callable[..., Any]:
    sources = {
        "prepare_data": source_of(given.prepare_data),
        "fit_early_stopping": source_of(given.fit_early_stopping),
    }
    if name in sources:
        return define(sources[name], name)
    return define(answers.ALTERNATIVE[name], name)


PARTS = {part.function: part for part in check.PARTS}


def run(name: str, function: Callable[..., Any], hidden: bool = False) -> None:
    """The visible cases as the lab runs them, or the hidden ones drawn from the tests' secret."""
    if hidden:
        run_hidden(PARTS[name], function)
    else:
        CHECKS[name](function)


def fails(name: str, function: Callable[..., Any], message: str, hidden: bool = False) -> None:
    with pytest.raises(GradingFailure, match=message):
        run(name, function, hidden)


def test_there_are_five_parts_worth_17_points() -> None:
    assert [part.function for part in check.PARTS] == list(CHECKS)
    assert sum(part.points for part in check.PARTS) == 17
    assert all(part.visible() and part.hidden for part in check.PARTS)


@pytest.mark.parametrize("name", list(CHECKS))
@pytest.mark.parametrize("hidden", [False, True])
def test_correct_answers_pass(name: str, hidden: bool) -> None:
    run(name, define(answers.ALTERNATIVE[name], name), hidden)
    run(name, correct(name), hidden)


def test_the_typical_mistakes_are_named() -> None:
    fails(
        "prepare_data",
        define(answers.WRONG["prepare_data"], "prepare_data"),
        "LEAKAGE: the scaler is fitted on the whole",
    )
    fails("sample_tokens", define(answers.WRONG["sample_tokens"], "sample_tokens"), "temperature multiplies")
    fails(
        "fit_early_stopping", define(answers.WRONG["fit_early_stopping"], "fit_early_stopping"), "LAST epoch"
    )
    fails(
        "fit_and_forecast",
        define(answers.WRONG["fit_and_forecast"], "fit_and_forecast"),
        "look like scaled values",
    )
    fails("fit_and_classify", define(answers.WRONG["fit_and_classify"], "fit_and_classify"), "order-free")


def _prepare_variant(
    ddof: int = 0, shift: int = 0, train_extra: int = 0, scale: bool = True
) -> Callable[..., Any]:
    def prepare_data(values: np.ndarray, window: int, n_train: int) -> tuple[Any, ...]:
        mean, std = float(values[:n_train].mean()), float(values[:n_train].std(ddof=ddof))
        z = (values - mean) / std if scale else values.astype(float)

        def cut(first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
            t = np.arange(first, stop)
            return z[t[:, None] + np.arange(-window, 0) + shift], z[t]

        return (*cut(window, n_train + train_extra), *cut(n_train, len(values)), mean, std)

    return prepare_data


def test_pipeline_leaks_are_named() -> None:
    fails("prepare_data", _prepare_variant(ddof=1), "sample std")
    fails("prepare_data", _prepare_variant(shift=1), "LEAKAGE: each window ends at its own target")
    fails("prepare_data", _prepare_variant(train_extra=1), "LEAKAGE: a training target at index n_train")
    fails("prepare_data", _prepare_variant(scale=False), "not scaled")


def _sampler(temperature_power: int = -1, keep: int = 0, smallest: bool = False) -> Callable[..., Any]:
    def sample_tokens(
        logits: np.ndarray, temperature: float, top_k: int, num_samples: int, seed: int
    ) -> np.ndarray:
        z = logits * temperature**temperature_power
        p = np.exp(z - z.max())
        order = np.argsort(p) if smallest else np.argsort(p)[::-1]
        p[order[top_k + keep :]] = 0.0
        if keep < 0:
            p[order[top_k + keep :]] = 0.0
        return np.random.default_rng(seed).choice(len(p), size=num_samples, p=p / p.sum())

    return sample_tokens


def test_sampling_mistakes_are_found_statistically() -> None:
    fails("sample_tokens", _sampler(temperature_power=0), "temperature is ignored")
    fails("sample_tokens", _sampler(keep=1), "outside the top")
    fails("sample_tokens", _sampler(smallest=True), "smallest")

    def unnormalised(
        logits: np.ndarray, temperature: float, top_k: int, num_samples: int, seed: int
    ) -> np.ndarray:
        p = np.exp(logits / temperature - np.max(logits / temperature))
        p = p / p.sum()
        p[np.argsort(p)[::-1][top_k:]] = 0.0
        return np.random.default_rng(seed).choice(len(p), size=num_samples, p=p)

    fails("sample_tokens", unnormalised, "divide the kept probabilities by their sum")

    def overflowing(
        logits: np.ndarray, temperature: float, top_k: int, num_samples: int, seed: int
    ) -> np.ndarray:
        with np.errstate(all="ignore"):
            p = np.exp(logits / temperature)
            p = p / p.sum()
        p[np.argsort(p)[::-1][top_k:]] = 0.0
        return np.random.default_rng(seed).choice(len(p), size=num_samples, p=p / p.sum())

    CHECKS["sample_tokens"](overflowing)  # the visible logits are small
    with pytest.raises(GradingFailure, match="logits around 1000") as caught:
        run("sample_tokens", overflowing, hidden=True)
    # The NaN comes from exp overflowing, and the message says so, not "renormalise".
    assert "subtract the largest" in str(caught.value)
    assert "divide the kept probabilities" not in str(caught.value)


def test_the_statistical_threshold() -> None:
    # For even df the chi-square tail is exp(-x/2) sum_{i < df/2} (x/2)^i / i! exactly. The approximate
    # quantile must lie at a tail probability between 1e-7 and 1e-6: never stricter than the stated level.
    for df in (2, 4, 10, 20, 40):
        half = check.chi2_quantile(df) / 2
        tail = math.exp(-half) * sum(half**i / math.factorial(i) for i in range(df // 2))
        assert 1e-7 < tail <= 1e-6, (df, tail)
    # G is 0 for counts exactly at their expectation, inf for a count where p = 0.
    assert check.g_statistic(np.array([25.0, 75.0]), np.array([0.25, 0.75])) == 0.0
    assert check.g_statistic(np.array([1.0, 1.0]), np.array([1.0, 0.0])) == np.inf


def _early_variant(
    extra_patience: int = 0, loss_after: bool = False, equal_improves: bool = False
) -> Callable[..., Any]:
    correct_source = source_of(given.fit_early_stopping)
    source = correct_source.replace("waited >= patience", f"waited >= patience + {extra_patience}")
    if equal_improves:
        source = source.replace("if val[-1] < best:", "if val[-1] <= best:")
    if loss_after:
        source = source.replace(
            "train.append(loss)\n        w = w - lr * grad",
            "w = w - lr * grad\n        train.append(loss_grad(w, X_train, y_train)[0])",
        )
    assert source != correct_source
    return define(source, "fit_early_stopping")


def test_early_stopping_mistakes_are_named() -> None:
    fails("fit_early_stopping", _early_variant(extra_patience=1), "one epoch late")
    fails("fit_early_stopping", _early_variant(extra_patience=-1), "one epoch early")
    fails("fit_early_stopping", _early_variant(loss_after=True), "measured after the update")
    # On the visible case the losses never repeat exactly, so "<=" passes there; the plateau catches it.
    lenient = _early_variant(equal_improves=True)
    CHECKS["fit_early_stopping"](lenient)
    fails("fit_early_stopping", lenient, "an equal validation loss counts as an improvement", hidden=True)

    reference = correct("fit_early_stopping")

    def no_copy(*args: Any) -> dict[str, Any]:
        result = reference(*args)
        return {**result, "best_epoch": result["best_epoch"] + 1}

    fails("fit_early_stopping", no_copy, "best_epoch")


def test_forecasts_below_the_stated_skill_fail() -> None:
    def persistence(train_values: np.ndarray, windows: np.ndarray) -> np.ndarray:
        return windows[:, -1].copy()

    def mean_only(train_values: np.ndarray, windows: np.ndarray) -> np.ndarray:
        return np.full(len(windows), train_values.mean())

    fails("fit_and_forecast", persistence, "persistence baseline itself")
    fails("fit_and_forecast", mean_only, "barely vary")

    # A weak model passes the visible sunspots but not every hidden series.
    def window_mean(train_values: np.ndarray, windows: np.ndarray) -> np.ndarray:
        return windows[:, -3:].mean(axis=1)

    fails("fit_and_forecast", window_mean, "skill of", hidden=True)


def _bag_of_tokens(train_ids: np.ndarray, train_labels: np.ndarray, test_ids: np.ndarray) -> np.ndarray:
    """The best any order-free model can do: the majority training label of each test sentence's bag."""
    votes: dict[tuple[int, ...], list[int]] = {}
    for row, label in zip(train_ids, train_labels):
        votes.setdefault(tuple(sorted(row[row > 0])), []).append(int(label))
    default = int(np.mean(train_labels) > 0.5)
    bags = [tuple(sorted(row[row > 0])) for row in test_ids]
    return np.array([round(np.mean(votes[b])) if b in votes else default for b in bags], dtype=np.int64)


def _positional_logistic(train_ids: np.ndarray, train_labels: np.ndarray, test_ids: np.ndarray) -> np.ndarray:
    """A linear model that sees order: logistic regression on the one-hot token of every position."""
    V = int(max(train_ids.max(), test_ids.max())) + 1
    X, X_test = (np.eye(V)[ids].reshape(len(ids), -1) for ids in (train_ids, test_ids))
    w = np.zeros(X.shape[1])
    for _ in range(1000):
        w -= 0.5 * X.T @ (1 / (1 + np.exp(-X @ w)) - train_labels) / len(X)
    return (X_test @ w > 0).astype(np.int64)


def test_part_5_needs_recurrence() -> None:
    """No order-free model and no linear model reaches the bar, on the visible task or a hidden one."""
    for hidden in (False, True):
        fails("fit_and_classify", _bag_of_tokens, "order-free", hidden)
        fails("fit_and_classify", _positional_logistic, "required", hidden)


def test_part_5_names_its_other_mistakes() -> None:
    def constant(train_ids: np.ndarray, train_labels: np.ndarray, test_ids: np.ndarray) -> np.ndarray:
        return np.ones(len(test_ids), dtype=np.int64)

    reference = define(answers.ALTERNATIVE["fit_and_classify"], "fit_and_classify")

    def swapped(*args: np.ndarray) -> np.ndarray:
        return 1 - reference(*args)

    def probabilities(*args: np.ndarray) -> np.ndarray:
        return reference(*args).astype(float)

    fails("fit_and_classify", constant, "predicts 1 for every sentence")
    fails("fit_and_classify", swapped, "swapped")
    fails("fit_and_classify", probabilities, "integer labels")


def test_part_5_reads_its_labels_from_the_grammar() -> None:
    """The check's labels, read off the training sentences, are the generator's own."""
    for seed in (808, 1, 2):
        train_ids, train_labels, test_ids, test_labels = check.negation_task(seed, train=600, max_clauses=4)
        case = Case("t", (train_ids, train_labels, test_ids))
        assert np.array_equal(check._test_labels(case), test_labels)
