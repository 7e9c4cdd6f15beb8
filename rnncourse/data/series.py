"""Real time series read from files that data-only packages ship (chapter 8).

Every loader reads a file through :func:`rnncourse.data.packaged.data_file`;
none of the packages is imported (they are installed with ``--no-deps``):

- **sunspots**: yearly mean sunspot numbers 1700-2008 (309 values), from
  ``statsmodels`` (``datasets/sunspots/sunspots.csv``; BSD package, data in
  the public domain, from the Royal Observatory of Belgium's SIDC).
- **CO2**: weekly atmospheric CO2 at Mauna Loa, March 1958 to December 2001
  (2,284 weeks, 59 of them missing), from ``statsmodels``
  (``datasets/co2/co2.csv``; public domain, Keeling et al.), and its monthly
  means.
- **KDD-TSAD 135**: one series of the UCR/KDD-2021 anomaly archive
  ("InternalBleeding16"), 1,200 normal training points and 7,501 test points
  of which 12 are labelled anomalous, from ``aeon`` (BSD-3;
  Wu and Keogh, 2021).
- **JapaneseVowels**: 640 utterances of /ae/ by 9 male speakers, each a
  sequence of 7 to 29 frames of 12 LPC cepstrum coefficients, from
  ``sktime``'s ``.ts`` files (BSD-3; Kudo, Toyama and Shimbo, 1999).
"""

from __future__ import annotations

import csv
from typing import NamedTuple

import numpy as np

from rnncourse.data.packaged import data_file


class Series(NamedTuple):
    """A univariate series: ``time[i]`` labels ``values[i]``, both of shape (T,)."""

    time: np.ndarray
    values: np.ndarray


def _read_csv_columns(path: object, columns: tuple[str, ...]) -> list[list[str]]:
    with open(str(path), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [[row[name] for row in rows] for name in columns]


def sunspots() -> Series:
    """Yearly sunspot numbers: time = the year (int64, 1700..2008), values float64 (309,)."""
    path = data_file("statsmodels", "datasets", "sunspots", "sunspots.csv")
    years, values = _read_csv_columns(path, ("YEAR", "SUNACTIVITY"))
    return Series(
        np.asarray([int(float(y)) for y in years], dtype=np.int64), np.asarray(values, dtype=np.float64)
    )


def co2_weekly() -> Series:
    """Weekly Mauna Loa CO2 in ppm: time = YYYYMMDD (int64), values float64 with NaN where missing (2284,)."""
    path = data_file("statsmodels", "datasets", "co2", "co2.csv")
    dates, values = _read_csv_columns(path, ("date", "co2"))
    numbers = [float(v) if v.strip() else np.nan for v in values]
    return Series(np.asarray(dates, dtype=np.int64), np.asarray(numbers, dtype=np.float64))


def co2_monthly() -> Series:
    """Monthly means of the weekly CO2 (weeks grouped by the month they start in), March 1958 to December 2001.

    Missing weeks are left out of their month's mean. Five months have no
    measured week at all (1958-06, 1958-10, 1964-02, 1964-03, 1964-04); their
    values are interpolated linearly between the neighbouring months, so the
    series has no gaps (a forecaster needs every step).

    Returns:
        time = YYYYMM (int64), values float64 (526,).
    """
    weekly = co2_weekly()
    months = weekly.time // 100
    keys = np.unique(months)
    sums = np.array([np.nansum(weekly.values[months == key]) for key in keys])
    counts = np.array([np.sum(~np.isnan(weekly.values[months == key])) for key in keys])
    means = np.divide(sums, counts, out=np.full(len(keys), np.nan), where=counts > 0)
    gaps = np.isnan(means)
    steps = np.arange(len(means))
    means[gaps] = np.interp(steps[gaps], steps[~gaps], means[~gaps])
    return Series(keys.astype(np.int64), means)


class LabelledSeries(NamedTuple):
    """An anomaly-detection series.

    Attributes:
        train: (T_train,) float64 values known to be normal.
        test: (T_test,) float64 values to scan.
        labels: (T_test,) int64, 1 where ``test`` is anomalous.
    """

    train: np.ndarray
    test: np.ndarray
    labels: np.ndarray


def kdd_tsad_135() -> LabelledSeries:
    """The KDD-TSAD series 135 ("InternalBleeding16"): 1,200 normal points, then 7,501 to scan.

    The test file repeats the training span at its start (its first 1,200
    values equal the training file's), as the UCR archive's files do.
    """
    folder = ("datasets", "data", "KDD-TSAD_135")
    name = "135_UCR_Anomaly_InternalBleeding16"
    (train_values,) = _read_csv_columns(data_file("aeon", *folder, f"{name}_TRAIN.csv"), ("value",))
    test_values, test_labels = _read_csv_columns(
        data_file("aeon", *folder, f"{name}_TEST.csv"), ("value", "is_anomaly")
    )
    return LabelledSeries(
        np.asarray(train_values, dtype=np.float64),
        np.asarray(test_values, dtype=np.float64),
        np.asarray([int(float(v)) for v in test_labels], dtype=np.int64),
    )


class Utterances(NamedTuple):
    """Variable-length multivariate sequences with a class each.

    Attributes:
        sequences: N arrays of shape (T_i, D) float64 (frames by features).
        labels: (N,) int64 class indices from 0.
    """

    sequences: list[np.ndarray]
    labels: np.ndarray


def read_ts(text: str) -> Utterances:
    """Parse sktime's ``.ts`` format: one case per line after ``@data``, dimensions split by ':'.

    Each dimension is a comma-separated list of values over time; the last
    field is the class label. Labels are mapped to 0.. in the order of the
    ``@classLabel`` header.
    """
    classes: list[str] = []
    sequences: list[np.ndarray] = []
    labels: list[int] = []
    in_data = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            lowered = line.lower()
            if lowered.startswith("@classlabel"):
                classes = line.split()[2:]
            elif lowered.startswith("@data"):
                in_data = True
            continue
        *dimensions, label = line.split(":")
        channels = [np.asarray(d.split(","), dtype=np.float64) for d in dimensions]
        sequences.append(np.stack(channels, axis=1))  # (T_i, D): time along the rows
        labels.append(classes.index(label) if classes else int(label))
    return Utterances(sequences, np.asarray(labels, dtype=np.int64))


def japanese_vowels(split: str) -> Utterances:
    """The JapaneseVowels ``split`` ("train": 270 utterances, "test": 370); 12 features, 9 speakers (0..8)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    path = data_file("sktime", "datasets", "data", "JapaneseVowels", f"JapaneseVowels_{split.upper()}.ts")
    return read_ts(path.read_text(encoding="utf-8"))
