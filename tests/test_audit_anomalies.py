"""Anomaly flags as pure functions: each fires past its threshold and not on the boundary."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from app.audit.anomalies import (Thresholds, amount_flag, backdated_flag, burst_count,
                                 burst_flag, caps_flag, household_reversals_flag, linked_flag,
                                 median, scorer_reversals_flag)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def test_linked_fires_only_for_the_scorers_own_household():
    assert linked_flag(7, 7, "张三").code == "linked"
    assert linked_flag(7, 8, "张三") is None
    assert linked_flag(7, None, "张三") is None


def test_backdated_boundary_is_thirty_days():
    recorded = date(2026, 3, 31)
    assert backdated_flag(date(2026, 3, 1), recorded, 30) is None          # exactly 30 days
    flag = backdated_flag(date(2026, 2, 28), recorded, 30)                  # 31 days
    assert flag.code == "backdated" and dict(flag.params)["days"] == "31"
    assert backdated_flag(recorded, recorded, 30) is None


def _times(n, step_seconds, start=T0):
    return [start + timedelta(seconds=step_seconds * i) for i in range(n)]


def test_burst_twenty_in_ten_minutes_is_not_flagged_twenty_one_is():
    # 20 entries 30 s apart: all within 9.5 minutes
    times = _times(20, 30)
    assert burst_count(times[-1], times, 10) == 20
    assert all(burst_flag(t, times, 20, 10) is None for t in times)
    times = _times(21, 30)  # 21 entries within 10 minutes
    assert all(burst_flag(t, times, 20, 10).code == "burst" for t in times)


def test_burst_window_is_ten_minutes_inclusive():
    # 21 entries spread over exactly 10 minutes: within the window (ends included)
    times = _times(21, 30)
    assert times[-1] - times[0] == timedelta(minutes=10)
    assert burst_count(times[0], times, 10) == 21
    # 21 entries spread over 10 minutes and 1 second: no 10-minute window holds them all
    spread = times[:-1] + [times[0] + timedelta(minutes=10, seconds=1)]
    assert burst_count(spread[0], spread, 10) == 20
    assert burst_flag(spread[0], spread, 20, 10) is None


def test_burst_counts_only_windows_that_contain_the_entry():
    crowd = _times(25, 10)
    lonely = T0 + timedelta(hours=2)
    times = sorted(crowd + [lonely])
    assert burst_flag(crowd[3], times, 20, 10).code == "burst"
    assert burst_flag(lonely, times, 20, 10) is None


def test_median():
    assert median([]) is None
    assert median([Decimal(5)]) == 5
    assert median([Decimal(1), Decimal(9), Decimal(2)]) == 2
    assert median([Decimal(1), Decimal(2), Decimal(4), Decimal(9)]) == 3


def test_amount_more_than_three_times_the_median_with_five_entries():
    med = Decimal(2)
    assert amount_flag(Decimal(6), med, 5, Decimal(3), 5) is None            # exactly 3x
    assert amount_flag(Decimal("6.01"), med, 5, Decimal(3), 5).code == "amount"
    assert amount_flag(Decimal(20), med, 4, Decimal(3), 5) is None            # too few entries
    assert amount_flag(Decimal(-20), Decimal(-5), 6, Decimal(3), 5).code == "amount"  # deductions
    assert amount_flag(Decimal(-15), Decimal(-5), 6, Decimal(3), 5) is None
    assert amount_flag(Decimal(20), None, 0, Decimal(3), 5) is None


def test_household_reversals_from_three():
    assert household_reversals_flag("2026-03", 2, 3) is None
    assert household_reversals_flag("2026-03", 3, 3).code == "household_reversals"


def test_scorer_reversals_more_than_twenty_percent_of_at_least_ten():
    rate = Decimal("0.2")
    assert scorer_reversals_flag(10, 2, rate, 10) is None        # exactly 20 %
    assert scorer_reversals_flag(10, 3, rate, 10).code == "scorer_reversals"
    assert scorer_reversals_flag(9, 5, rate, 10) is None         # too few entries
    assert scorer_reversals_flag(0, 0, rate, 10) is None


def test_caps_is_a_hook_that_flags_nothing_yet():
    assert caps_flag(object()) is None


def test_thresholds_from_config():
    t = Thresholds.from_config({"AUDIT_BURST_ENTRIES": 5, "AUDIT_SCORER_REVERSAL_RATE": "0.5"})
    assert (t.burst_entries, t.burst_minutes, t.scorer_reversal_rate) == (5, 10, Decimal("0.5"))
    assert Thresholds.from_config({}) == Thresholds()
    assert isinstance(Thresholds().amount_factor, Decimal)
