"""Due dates and the late-work policy, read from ``nbgrader_config.py`` and applied by nbgrader.

Both are set in one place, the course's ``nbgrader_config.py``:

- ``c.Deadlines.due``: each assignment's due date (a time with its zone, e.g.
  ``"2026-02-06 17:00 Europe/London"``, or UTC when none is given). ``make grade``
  writes it into the gradebook as the assignment's ``duedate``, nbgrader's own
  field (what ``nbgrader db assignment add ID --duedate=...`` sets), so nbgrader
  computes how late each submission is from its ``timestamp.txt``
  (``SubmittedAssignment.total_seconds_late``, extensions included).
- ``c.AssignLatePenalties.plugin_class = LatePenalty`` with ``c.LatePenalty.*``:
  nbgrader's ``AssignLatePenalties`` step asks this plugin for each late
  notebook's penalty, which nbgrader stores beside the score
  (``late_submission_penalty``) and subtracts in its export and in the feedback.

The penalty is ``percent_per_day`` of the score for each day or part of a day
late, and the whole score after ``zero_after_days``.
"""

from __future__ import annotations

import math
from datetime import datetime

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.utils import parse_utc
from traitlets import Dict, Float, Unicode
from traitlets.config import Config, Configurable

DAY = 86_400.0


class Deadlines(Configurable):  # type: ignore[misc]
    """``c.Deadlines.due = {"ch01_recurrence": "2026-02-06 17:00 UTC", ...}``: one due date per assignment."""

    due = Dict(
        value_trait=Unicode(),
        help="assignment id -> due date, e.g. '2026-02-06 17:00 UTC' (nbgrader's timestamp format)",
    ).tag(config=True)

    def of(self, assignment: str) -> datetime | None:
        """The due date of ``assignment`` in UTC without tzinfo (as nbgrader stores it), or None."""
        text = self.due.get(assignment)
        if not text:
            return None
        try:
            return parse_utc(text)
        except Exception as error:  # dateutil raises several kinds
            raise SystemExit(
                f"c.Deadlines.due[{assignment!r}] = {text!r} in nbgrader_config.py is not a date "
                f"({error}); write it as '2026-02-06 17:00 UTC'"
            ) from error


def due_dates(config: Config) -> Deadlines:
    return Deadlines(config=config)


class LatePenalty(LateSubmissionPlugin):  # type: ignore[misc]
    """A share of the score per day late (a started day counts), all of it past ``zero_after_days``."""

    percent_per_day = Float(10.0, help="percent of the score taken per day (or part of one) late").tag(
        config=True
    )
    zero_after_days = Float(7.0, help="past this many days late the whole score is taken").tag(config=True)

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float | None:
        if total_seconds_late <= 0:
            return None
        return penalty(score, total_seconds_late, self.percent_per_day, self.zero_after_days)


def penalty(score: float, seconds_late: float, percent_per_day: float, zero_after_days: float) -> float:
    """Points taken from ``score`` for a submission ``seconds_late`` past its due date."""
    if seconds_late <= 0:
        return 0.0
    days = seconds_late / DAY
    if days > zero_after_days:
        return score
    return min(score, score * percent_per_day / 100.0 * math.ceil(days))


def late_by(seconds: float) -> str:
    """``seconds`` as a reader says it: '3 min', '2 h 05 min', '1 day 4 h'."""
    minutes = max(1, math.ceil(seconds / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"
