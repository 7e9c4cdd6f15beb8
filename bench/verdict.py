"""When a benchmark's figures may be judged: the machine's load, the spread of repeats, shares.

The rules that keep `make bench` honest, kept apart from the timing code so
that tests can feed them made-up timings:

- a share of a reference throughput is at most 100%: the reference is the
  model's own matrix products run alone, so a model that beats it means the
  reference was measured badly (a moment of load), and the share is capped
  and marked, never printed above 100%;
- no met/not-met verdict when the machine is busy: a load average above
  ``BUSY_LOAD_PER_CORE`` per core before the run, a run that ends with a load
  that much above its own busy processes (other work started beside it), or
  repeats of one case that spread by more than ``UNSTEADY_SPREAD``
  (interquartile range over median).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# A quiet machine's 1-minute load average is near 0; a build or a test suite
# on every core puts it near the core count.
BUSY_LOAD_PER_CORE = 0.5
# On a quiet machine the middle half of a case's repeats lies within a few
# percent of their median; a share of the cores taken away now and then
# widens it far beyond that.
UNSTEADY_SPREAD = 0.25


@dataclass(frozen=True)
class Repeats:
    """The timed runs of one case, in seconds (at least one)."""

    seconds: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return 1e3 * statistics.median(self.seconds)

    @property
    def best_ms(self) -> float:
        return 1e3 * min(self.seconds)

    @property
    def spread(self) -> float:
        """Interquartile range over the median: 0.0 for identical repeats."""
        if len(self.seconds) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.seconds, n=4, method="inclusive")
        return (q3 - q1) / statistics.median(self.seconds)


def share(model_ms: float, reference_ms: float) -> tuple[float, bool]:
    """The model's throughput as a fraction of the reference's, and whether it was capped.

    Both run the same matrix products, the model with more work around them,
    so the fraction is ``reference_ms / model_ms`` and at most 1.0. Above 1.0
    the reference was disturbed: it is capped at 1.0 and reported as capped.
    """
    fraction = reference_ms / model_ms
    return min(fraction, 1.0), fraction > 1.0


def format_share(model_ms: float, reference_ms: float) -> str:
    """``"87%"``, or ``"100%*"`` where the model beat its reference (see ``CAPPED_NOTE``)."""
    fraction, capped = share(model_ms, reference_ms)
    return f"{100 * fraction:.0f}%" + ("*" if capped else "")


CAPPED_NOTE = (
    "*: the model ran faster than its own matrix products alone, so that reference was "
    "measured while disturbed; the share is capped at 100%"
)


def load_line(when: str, loads: Sequence[float], cores: int) -> str:
    """One line with the 1, 5 and 15-minute load averages and the core count."""
    return f"load average (1, 5, 15 min) {when}: {' '.join(f'{x:.2f}' for x in loads)} on {cores} cores"


def shared_run(name: str, load_after: float, own: int, cores: int) -> str | None:
    """Why a run shared the machine with other work, judged by the load at its end; None if it did not.

    A run that keeps ``own`` processes busy ends with a 1-minute load average
    of at most about ``own`` (less if it lasted under a few minutes); more
    than ``BUSY_LOAD_PER_CORE`` per core above that is someone else's work.
    """
    excess = load_after - own
    if excess > BUSY_LOAD_PER_CORE * cores:
        return f"load {load_after:.1f} at the end of {name}, {excess:.1f} above its own {own} busy processes"
    return None


def busy_reason(
    load_before: float, cores: int, spreads: dict[str, float], shared: Sequence[str | None] = ()
) -> str | None:
    """Why the run gives no verdict, or None when the machine was quiet.

    ``load_before`` is the 1-minute load average before the run (after it,
    the benchmark's own work counts); ``spreads`` maps a case's name to the
    spread of its repeats (``Repeats.spread``); ``shared`` holds
    :func:`shared_run`'s answer for each timed run.
    """
    reasons = []
    if load_before > BUSY_LOAD_PER_CORE * cores:
        reasons.append(f"load {load_before:.1f} on {cores} cores")
    reasons += [reason for reason in shared if reason]
    if spreads:
        case, worst = max(spreads.items(), key=lambda item: item[1])
        if worst > UNSTEADY_SPREAD:
            reasons.append(f"the repeats of {case} spread by {100 * worst:.0f}%")
    if not reasons:
        return None
    return f"machine busy ({'; '.join(reasons)}): no verdict; figures are indicative"


def goal_lines(goals: Sequence[tuple[str, bool, str]], busy: str | None) -> list[str]:
    """The goals as lines: ``[met]``/``[NOT met]`` on a quiet machine, no verdict on a busy one.

    ``goals`` holds (what, met, measured value) for each goal.
    """
    if busy is not None:
        return [busy] + [f"  [--] {text}: {value}" for text, _, value in goals]
    return [f"  [{'met' if met else 'NOT met'}] {text}: {value}" for text, met, value in goals]
