"""The gate's decision from dq_hourly rows: publish the hours that passed, hold the others, and say why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from include.contracts.lake_layout import interval_hours
from include.hourly.quality_gate import GateDecision, HourCheck, check_from_row, decide, describe

pytestmark = pytest.mark.unit

H0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
H1 = datetime(2026, 11, 27, 11, tzinfo=UTC)
LATE = datetime(2026, 11, 27, 4, tzinfo=UTC)


def test_interval_hours() -> None:
    assert interval_hours(H0, datetime(2026, 11, 27, 12, tzinfo=UTC)) == [H0, H1]


def test_publishes_every_hour_that_passed() -> None:
    decision = decide([HourCheck(H0, True, (), 100, "f0"), HourCheck(H1, True, (), 90, "f1")], [H0, H1])
    assert [hour.event_hour for hour in decision.publish] == [H0, H1] and decision.held == ()
    assert decision.summary() == "all data-quality checks passed; publishing 2026-11-27 10:00, 2026-11-27 11:00"


def test_holds_the_failing_hours_and_still_publishes_the_others() -> None:
    late = HourCheck(LATE, False, ("invalid", "conflicts"), 80, "fl", "invalid: ...")
    decision = decide([HourCheck(H0, True, (), 100, "f0"), late], [H0])
    assert [hour.event_hour for hour in decision.publish] == [H0]
    assert decision.held == (late,)
    assert decision.failing_checks == ["invalid", "conflicts"]
    assert decision.summary() == "held 2026-11-27 04:00 (invalid conflicts); publishing 2026-11-27 10:00"


def test_an_interval_hour_without_any_row_fails_its_volume_check() -> None:
    decision = decide([HourCheck(H0, True)], [H0, H1])
    (missing,) = decision.held
    assert (missing.event_hour, missing.failing_checks, missing.readings) == (H1, ("volume",), 0)
    assert "no reading arrived" in missing.details


def test_the_decision_survives_xcom() -> None:
    decision = decide([HourCheck(H0, True, (), 100, "f0"), HourCheck(LATE, False, ("rejects",), 3, "fl", "why")],
                      [H0])
    assert GateDecision.from_xcom(decision.to_xcom()) == decision


ROW = {
    "event_hour": H0, "readings": 1236, "passed": False, "fingerprint": "1236-42|dl2|m0|i1|r0",
    "failing_checks": "volume invalid conflicts dead_letters incomplete freshness",
    "trailing_mean_readings": 12000.0, "volume_ratio": 0.103, "min_volume_ratio": 0.2,
    "invalid_rate": 0.25, "invalid_readings": 309, "max_invalid_rate": 0.05,
    "invalid_objects": "topics/hr/year=2026/month=11/day=27/hour=10/hr+99+0000000000.json (309)",
    "conflicting_events": 1, "max_conflicting_events": 0,
    "conflict_examples": "00000000-0000-4000-8000-000000000001: topics/a.json vs topics/b.json",
    "dead_letters": 2, "max_dead_letters": 0, "dead_letter_examples": "hr+1+7: not valid UTF-8 JSON",
    "incomplete_objects": 1, "incomplete_objects_list": "topics/c.json (2 of 4 records)",
    "freshness_lag_minutes": 130.0, "max_freshness_lag_minutes": 90,
}


def test_a_held_hour_says_which_check_by_how_much_and_which_objects() -> None:
    text = describe(ROW)
    assert "volume: 1,236 readings, 0.10 of the trailing mean 12,000 (limit 0.2)" in text
    assert "invalid: 25.0% of 1,236 readings (309; limit 5.0%); look at topics/hr/year=2026/month=11/day=27/" \
           "hour=10/hr+99+0000000000.json (309)" in text
    assert "conflicts: 1 event ids re-sent with other content (limit 0); versions: 00000000-0000-4000-8000-" \
           "000000000001: topics/a.json vs topics/b.json" in text
    assert "dead_letters: 2 messages refused by the sink (limit 0); e.g. hr+1+7: not valid UTF-8 JSON" in text
    assert "incomplete: 1 objects lost records between the lake and raw: topics/c.json (2 of 4 records)" in text
    assert "freshness: readings reached the lake after a median 130 min (limit 90 min)" in text
    check = check_from_row(ROW)
    assert check.failing_checks == ("volume", "invalid", "conflicts", "dead_letters", "incomplete", "freshness")
    assert check.fingerprint == ROW["fingerprint"] and check.details == text
    assert check_from_row({**ROW, "passed": True, "failing_checks": ""}).details == ""
