"""The rules of bench/verdict.py, on made-up timings: no share above 100%, no verdict when busy."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_verdict", REPO / "bench" / "verdict.py")
assert _spec is not None and _spec.loader is not None
verdict = importlib.util.module_from_spec(_spec)
sys.modules["bench_verdict"] = verdict  # dataclasses look their module up
_spec.loader.exec_module(verdict)

GOALS = [("NumPy LSTM within 2.0x of torch", True, "1.40x"), ("GRU faster", False, "1.20x")]
times_ms = st.floats(min_value=1e-3, max_value=1e5, allow_nan=False, allow_infinity=False)


@given(model_ms=times_ms, reference_ms=times_ms)
def test_no_share_is_ever_printed_above_100_percent(model_ms: float, reference_ms: float) -> None:
    shown = verdict.format_share(model_ms, reference_ms)
    assert re.fullmatch(r"\d+%\*?", shown), shown
    assert int(shown.rstrip("%*")) <= 100


def test_a_model_slower_than_its_products_gets_their_ratio() -> None:
    assert verdict.share(model_ms=40.0, reference_ms=10.0) == (0.25, False)
    assert verdict.format_share(40.0, 10.0) == "25%"


def test_a_model_faster_than_its_products_is_capped_and_marked() -> None:
    assert verdict.share(model_ms=10.0, reference_ms=13.0) == (1.0, True)
    assert verdict.format_share(10.0, 13.0) == "100%*"
    assert "capped" in verdict.CAPPED_NOTE


def test_repeats_summarise_to_median_best_and_spread() -> None:
    steady = verdict.Repeats((0.010, 0.011, 0.010, 0.012, 0.010))
    assert steady.median_ms == 10.0 and steady.best_ms == 10.0
    assert steady.spread == (0.011 - 0.010) / 0.010  # quartiles 10 and 11 ms
    # one slow repeat out of seven barely moves the interquartile range ...
    assert verdict.Repeats((0.01,) * 6 + (0.05,)).spread == 0.0
    # ... repeats slowed now and then widen it far beyond a quiet run's few percent
    shared = verdict.Repeats((0.010, 0.018, 0.011, 0.020, 0.010, 0.019, 0.012))
    assert shared.spread > verdict.UNSTEADY_SPREAD
    assert verdict.Repeats((0.01,)).spread == 0.0


def test_a_loaded_machine_gives_no_verdict() -> None:
    busy = verdict.busy_reason(load_before=1.9, cores=2, spreads={"lstm float32": 0.03})
    assert busy == "machine busy (load 1.9 on 2 cores): no verdict; figures are indicative"
    lines = verdict.goal_lines(GOALS, busy)
    assert lines[0] == busy
    assert not any("met" in line for line in lines), lines
    assert all(value in "\n".join(lines) for _, _, value in GOALS)


def test_unsteady_repeats_give_no_verdict_even_at_low_load() -> None:
    busy = verdict.busy_reason(load_before=0.1, cores=2, spreads={"lstm float32": 0.02, "gru float64": 0.6})
    assert busy is not None
    assert "gru float64 spread by 60%" in busy and "no verdict" in busy
    assert "load" not in busy


def test_the_threshold_is_per_core() -> None:
    # 0.9 is busy for one core, quiet for two (0.45 per core) or more
    assert verdict.busy_reason(load_before=0.9, cores=1, spreads={}) is not None
    assert verdict.busy_reason(load_before=0.9, cores=2, spreads={}) is None


def test_a_quiet_machine_gets_met_and_not_met() -> None:
    busy = verdict.busy_reason(load_before=0.2, cores=2, spreads={"lstm float32": 0.05})
    assert busy is None
    assert verdict.goal_lines(GOALS, busy) == [
        "  [met] NumPy LSTM within 2.0x of torch: 1.40x",
        "  [NOT met] GRU faster: 1.20x",
    ]


def test_the_load_line_names_all_three_averages_and_the_cores() -> None:
    line = verdict.load_line("at the start", (1.25, 0.5, 0.125), 2)
    assert line == "load average (1, 5, 15 min) at the start: 1.25 0.50 0.12 on 2 cores"


def test_a_run_that_ends_far_above_its_own_load_gives_no_verdict() -> None:
    # two workers keep two processes busy: a load of 2.4 at the end is theirs, 3.3 is not
    assert verdict.shared_run("2 workers", load_after=2.4, own=2, cores=2) is None
    shared = verdict.shared_run("2 workers", load_after=3.3, own=2, cores=2)
    assert shared == "load 3.3 at the end of 2 workers, 1.3 above its own 2 busy processes"
    busy = verdict.busy_reason(load_before=0.4, cores=2, spreads={}, shared=[None, shared])
    assert busy is not None and shared in busy and "no verdict" in busy
    assert verdict.busy_reason(load_before=0.4, cores=2, spreads={}, shared=[None, None]) is None
