"""The gate's decision from dq_hourly rows: publish only when every hour of the interval passed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from include.contracts.lake_layout import interval_hours
from include.hourly.quality_gate import HourCheck, decide

pytestmark = pytest.mark.unit

H0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
H1 = datetime(2026, 11, 27, 11, tzinfo=UTC)


def test_interval_hours() -> None:
    assert interval_hours(H0, datetime(2026, 11, 27, 12, tzinfo=UTC)) == [H0, H1]


def test_publishes_when_every_hour_passed() -> None:
    decision = decide([HourCheck(H0, True, (), 100), HourCheck(H1, True, (), 90)], [H0, H1])
    assert decision.publish
    assert decision.summary() == "all data-quality checks passed"


def test_holds_and_names_the_failing_checks() -> None:
    decision = decide([HourCheck(H0, True), HourCheck(H1, False, ("invalid", "rejects"), 80)], [H0, H1])
    assert not decision.publish
    assert decision.failing_checks == ["invalid", "rejects"]
    assert decision.summary() == "held: 2026-11-27 11:00 (invalid rejects)"


def test_an_hour_without_any_reading_fails_its_volume_check() -> None:
    decision = decide([HourCheck(H0, True)], [H0, H1])
    assert not decision.publish
    assert decision.failing_checks == ["volume"]
