"""The data-quality gate: publish the serving marts for an interval, or hold them.

The checks themselves live in the dbt model `dq_hourly` (thresholds are dbt vars);
this module only reads its rows for the interval's hours and decides. An hour of
the interval with no row at all failed its volume check by definition: no
readings arrived for it. Pure logic plus one reader, so it is tested without
Airflow; the DAG's `@task.branch` calls `decide`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from include.contracts.warehouse_relations import DQ_HOURLY


@dataclass(frozen=True)
class HourCheck:
    event_hour: datetime
    passed: bool
    failing_checks: tuple[str, ...] = ()
    readings: int = 0


@dataclass(frozen=True)
class GateDecision:
    publish: bool
    failed_hours: tuple[HourCheck, ...] = field(default_factory=tuple)

    @property
    def failing_checks(self) -> list[str]:
        """Distinct failing check names, in the order first seen."""
        names: list[str] = []
        for hour in self.failed_hours:
            names += [name for name in hour.failing_checks if name not in names]
        return names

    def summary(self) -> str:
        if self.publish:
            return "all data-quality checks passed"
        hours = ", ".join(f"{h.event_hour:%Y-%m-%d %H:00} ({' '.join(h.failing_checks)})" for h in self.failed_hours)
        return f"held: {hours}"


def decide(checks: Iterable[HourCheck], expected_hours: Iterable[datetime]) -> GateDecision:
    by_hour = {check.event_hour.astimezone(UTC): check for check in checks}
    failed = []
    for hour in expected_hours:
        check = by_hour.get(hour.astimezone(UTC))
        if check is None:
            failed.append(HourCheck(hour, passed=False, failing_checks=("volume",), readings=0))
        elif not check.passed:
            failed.append(check)
    return GateDecision(publish=not failed, failed_hours=tuple(failed))


CHECKS_QUERY = (
    f"select event_hour, passed, failing_checks, readings from {DQ_HOURLY} "  # noqa: S608 - a constant
    "where event_hour >= {start} and event_hour < {end} order by event_hour"
)
SNOWFLAKE_CONN_ID = "snowflake_default"


def _to_checks(rows: Iterable[tuple]) -> list[HourCheck]:
    return [HourCheck(hour.replace(tzinfo=hour.tzinfo or UTC).astimezone(UTC), bool(passed),
                      tuple((failing or "").split()), int(readings))
            for hour, passed, failing, readings in rows]


def read_local_checks(warehouse_path: Path, start: datetime, end: datetime) -> list[HourCheck]:
    """`dq_hourly` rows for [start, end) from the local DuckDB warehouse."""
    from include.warehouse import reader

    with reader(warehouse_path) as conn:
        return _to_checks(conn.execute(CHECKS_QUERY.format(start="?", end="?"), [start, end]).fetchall())


def read_snowflake_checks(start: datetime, end: datetime, conn_id: str = SNOWFLAKE_CONN_ID) -> list[HourCheck]:
    """The same rows from Snowflake, through the Airflow connection the dbt profile's role also uses."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    rows = SnowflakeHook(snowflake_conn_id=conn_id).get_records(
        CHECKS_QUERY.format(start="%(start)s", end="%(end)s"), parameters={"start": start, "end": end},
    )
    return _to_checks(rows)
