"""The late-work policy: how late, said as a reader says it, and the penalty it costs."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from rnncourse.autograder import lateness

HOUR = 3600.0


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "1 min"),
        (59 * 60, "59 min"),
        (2 * HOUR + 5 * 60, "2 h 05 min"),
        (26 * HOUR, "1 day 2 h"),
        (49 * HOUR, "2 days 1 h"),
    ],
)
def test_late_by_reads_as_a_person_says_it(seconds: float, said: str) -> None:
    assert lateness.late_by(seconds) == said


@pytest.mark.parametrize(
    ("seconds", "taken"),
    [
        (0, 0.0),
        (1, 1.5),
        (24 * HOUR, 1.5),
        (24 * HOUR + 1, 3.0),
        (7 * 24 * HOUR, 10.5),
        (7 * 24 * HOUR + 1, 15.0),
    ],
)
def test_a_started_day_costs_a_tenth_and_a_week_costs_everything(seconds: float, taken: float) -> None:
    assert lateness.penalty(15.0, seconds, 10.0, 7.0) == pytest.approx(taken)


def test_the_plugin_reads_its_settings_and_never_takes_more_than_the_score() -> None:
    config = Config()
    config.LatePenalty.percent_per_day = 40.0
    plugin = lateness.LatePenalty(config=config)
    assert plugin.late_submission_penalty("ada", 10.0, 0.0) is None
    assert plugin.late_submission_penalty("ada", 10.0, 3 * 24 * HOUR) == 10.0  # 120% is capped


def test_a_due_date_is_read_in_utc_and_a_wrong_one_is_named() -> None:
    config = Config()
    config.Deadlines.due = {"ch01_recurrence": "2026-02-06 17:00 Europe/London", "ch02_bptt": "next friday"}
    deadlines = lateness.due_dates(config)
    when = deadlines.of("ch01_recurrence")
    assert when is not None and (when.hour, when.tzinfo) == (17, None)  # London is UTC in February
    assert deadlines.of("ch03_vanishing") is None
    with pytest.raises(SystemExit, match=r"c.Deadlines.due\['ch02_bptt'\]"):
        deadlines.of("ch02_bptt")
