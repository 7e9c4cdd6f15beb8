"""The real series of chapter 8, read from the data packages' files."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.data import series


def test_sunspots_are_the_yearly_numbers_1700_to_2008() -> None:
    s = series.sunspots()
    assert s.time[0] == 1700 and s.time[-1] == 2008 and len(s.values) == 309
    assert np.all(np.diff(s.time) == 1)
    # Known values of the SIDC series: 5 in 1700, 190.2 in 1957 (the highest year).
    assert s.values[0] == 5.0
    assert s.time[np.argmax(s.values)] == 1957 and s.values.max() == pytest.approx(190.2)


def test_co2_weekly_keeps_missing_weeks_as_nan_and_monthly_fills_them() -> None:
    weekly = series.co2_weekly()
    assert len(weekly.values) == 2284 and int(np.isnan(weekly.values).sum()) == 59
    monthly = series.co2_monthly()
    assert len(monthly.values) == 526 and not np.isnan(monthly.values).any()
    assert monthly.time[0] == 195803 and monthly.time[-1] == 200112
    # CO2 rises: the last year's mean is far above the first's (about 370 against 315 ppm).
    assert monthly.values[-12:].mean() - monthly.values[:12].mean() > 40
    # An interpolated month lies between its neighbours.
    june = int(np.flatnonzero(monthly.time == 195806)[0])
    assert min(monthly.values[june - 1], monthly.values[june + 1]) <= monthly.values[june]
    assert monthly.values[june] <= max(monthly.values[june - 1], monthly.values[june + 1])


def test_kdd_tsad_135_has_twelve_labelled_points_in_one_segment() -> None:
    data = series.kdd_tsad_135()
    assert data.train.shape == (1200,) and data.test.shape == (7501,) and data.labels.shape == (7501,)
    assert int(data.labels.sum()) == 12
    assert np.array_equal(np.flatnonzero(data.labels), np.arange(4187, 4199))
    assert np.array_equal(data.test[:1200], data.train)


def test_japanese_vowels_has_nine_speakers_and_twelve_features() -> None:
    train, test = series.japanese_vowels("train"), series.japanese_vowels("test")
    assert len(train.sequences) == 270 and len(test.sequences) == 370
    assert np.array_equal(np.bincount(train.labels), np.full(9, 30))
    lengths = [x.shape[0] for x in train.sequences + test.sequences]
    assert min(lengths) == 7 and max(lengths) == 29
    assert all(x.shape[1] == 12 and x.dtype == np.float64 for x in train.sequences)
    with pytest.raises(ValueError, match="split"):
        series.japanese_vowels("validation")


def test_read_ts_parses_dimensions_and_labels() -> None:
    text = "# comment\n@problemName x\n@classLabel true a b\n@data\n1,2,3:4,5,6:b\n7,8:9,10:a\n"
    parsed = series.read_ts(text)
    assert np.array_equal(parsed.labels, [1, 0])
    assert np.array_equal(parsed.sequences[0], [[1, 4], [2, 5], [3, 6]])
    assert parsed.sequences[1].shape == (2, 2)
