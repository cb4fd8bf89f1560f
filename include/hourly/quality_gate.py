"""The data-quality gate's decision: which event hours to publish and which to hold, and why.

The checks themselves live in the dbt model `dq_hourly` (thresholds are dbt vars,
repeated in each row); this module turns rows into a decision, hour by hour:

- the hours judged are the run's interval and every earlier hour whose data
  changed since it was last judged (late data, late OLTP changes, a fix): the
  ledger (`include.hourly.ledger`) knows which fingerprints were already judged;
- an hour that passed is published, one that failed is held; an hour of the
  interval with no row at all failed its volume check (no reading arrived);
- each held hour gets a line that says which check failed, by how much and
  which lake objects to look at, for the on-call alert.

Pure logic, tested without Airflow or a warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

HOUR_FORMAT = "%Y-%m-%d %H:00"


@dataclass(frozen=True)
class HourCheck:
    event_hour: datetime
    passed: bool
    failing_checks: tuple[str, ...] = ()
    readings: int = 0
    fingerprint: str = ""
    details: str = ""
    """What failed, by how much, and which objects to look at (empty when the hour passed)."""

    @property
    def label(self) -> str:
        return f"{self.event_hour.astimezone(UTC):{HOUR_FORMAT}}"


@dataclass(frozen=True)
class GateDecision:
    publish: tuple[HourCheck, ...] = field(default_factory=tuple)
    held: tuple[HourCheck, ...] = field(default_factory=tuple)

    @property
    def failing_checks(self) -> list[str]:
        """Distinct failing check names, in the order first seen."""
        names: list[str] = []
        for hour in self.held:
            names += [name for name in hour.failing_checks if name not in names]
        return names

    def summary(self) -> str:
        published = ", ".join(hour.label for hour in self.publish) or "none"
        if not self.held:
            return f"all data-quality checks passed; publishing {published}"
        held = ", ".join(f"{hour.label} ({' '.join(hour.failing_checks)})" for hour in self.held)
        return f"held {held}; publishing {published}"

    def to_xcom(self) -> dict[str, Any]:
        return {"publish": [_to_json(hour) for hour in self.publish], "held": [_to_json(hour) for hour in self.held],
                "summary": self.summary(), "failing_checks": self.failing_checks}

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any] | None) -> GateDecision:
        value = value or {}
        return cls(tuple(_from_json(hour) for hour in value.get("publish", [])),
                   tuple(_from_json(hour) for hour in value.get("held", [])))


def _to_json(hour: HourCheck) -> dict[str, Any]:
    return {"event_hour": hour.event_hour.astimezone(UTC).isoformat(), "passed": hour.passed,
            "failing_checks": list(hour.failing_checks), "readings": hour.readings, "fingerprint": hour.fingerprint,
            "details": hour.details}


def _from_json(value: Mapping[str, Any]) -> HourCheck:
    return HourCheck(datetime.fromisoformat(value["event_hour"]), bool(value["passed"]),
                     tuple(value["failing_checks"]), int(value["readings"]), value["fingerprint"], value["details"])


def decide(checks: Iterable[HourCheck], interval: Iterable[datetime]) -> GateDecision:
    """Publish every judged hour that passed; hold the others, and every interval hour without a row."""
    by_hour = {check.event_hour.astimezone(UTC): check for check in checks}
    for hour in interval:
        hour = hour.astimezone(UTC)
        if hour not in by_hour:
            by_hour[hour] = HourCheck(hour, False, ("volume",), 0, "no readings",
                                      "volume: no reading arrived for this hour (is the producer or the sink down?)")
    ordered = [by_hour[hour] for hour in sorted(by_hour)]
    return GateDecision(tuple(c for c in ordered if c.passed), tuple(c for c in ordered if not c.passed))


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def describe(row: Mapping[str, Any]) -> str:
    """One line per failing check of a dq_hourly row: the check, the measure against its limit, the objects."""
    failing = (row.get("failing_checks") or "").split()
    readings = int(row.get("readings") or 0)
    parts = []
    for check in failing:
        if check == "volume":
            mean = row.get("trailing_mean_readings")
            against = (f"{row.get('volume_ratio', 0):.2f} of the trailing mean {mean:,.0f} (limit "
                       f"{row['min_volume_ratio']})" if mean else "no earlier hour to compare")
            parts.append(f"volume: {readings:,} readings, {against}")
        elif check == "invalid":
            parts.append(f"invalid: {_percent(row['invalid_rate'])} of {readings:,} readings "
                         f"({row['invalid_readings']:,}; limit {_percent(row['max_invalid_rate'])}); "
                         f"look at {row.get('invalid_objects') or 'the hour folder'}")
        elif check == "orphans":
            parts.append(f"orphans: {_percent(row['orphan_rate'])} of valid readings have no user or activity at "
                         f"their time (limit {_percent(row['max_orphan_rate'])}); is the OLTP CDC load behind?")
        elif check == "conflicts":
            parts.append(f"conflicts: {row['conflicting_events']:,} event ids re-sent with other content "
                         f"(limit {row['max_conflicting_events']}); versions: {row.get('conflict_examples')}")
        elif check == "dead_letters":
            parts.append(f"dead_letters: {row['dead_letters']:,} messages refused by the sink "
                         f"(limit {row['max_dead_letters']}); e.g. {row.get('dead_letter_examples')}")
        elif check == "misplaced":
            parts.append(f"misplaced: {row['misplaced_readings']:,} readings in this hour's folder belong to "
                         f"another hour; look at {row.get('misplaced_objects')}")
        elif check == "incomplete":
            parts.append(f"incomplete: {row['incomplete_objects']:,} objects lost records between the lake and "
                         f"raw: {row.get('incomplete_objects_list')}")
        elif check == "rejects":
            parts.append(f"rejects: {row['rejected_lines']:,} unreadable lines "
                         f"(limit {row['max_rejected_lines']}); e.g. {row.get('rejected_examples')}")
        elif check == "freshness":
            parts.append(f"freshness: readings reached the lake after a median {row['freshness_lag_minutes']:,.0f} "
                         f"min (limit {row['max_freshness_lag_minutes']} min)")
        else:
            parts.append(check)
    return "; ".join(parts)


def check_from_row(row: Mapping[str, Any]) -> HourCheck:
    """A dq_hourly row (column name -> value) as the gate's view of the hour."""
    hour = row["event_hour"]
    hour = hour.replace(tzinfo=hour.tzinfo or UTC).astimezone(UTC)
    passed = bool(row["passed"])
    return HourCheck(hour, passed, tuple((row.get("failing_checks") or "").split()), int(row["readings"] or 0),
                     row["fingerprint"], "" if passed else describe(row))
