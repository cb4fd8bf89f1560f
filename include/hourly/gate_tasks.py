"""The DAG's data-quality branch: `gate` decides, then `publish` and/or `hold`.

- `gate` reads `quality.dq_hourly` (built by the transform group) for the run's
  interval and every earlier hour whose data changed since it was last judged,
  and follows `publish` for the hours that passed, `hold` for those that did not
  (both when a run has some of each, e.g. a late hour fails while its own passes).
- `publish` records the passing hours in the ledger's `published_hours`: the
  serving group then builds exactly those hours' partial aggregates and the
  marts, and the refresh runs.
- `hold` records the failing hours in `held_hours` and fails the run with, per
  hour, the failing check, by how much and which lake objects to look at, so
  the on-call alert says it all. It never retries: the same data gives the same
  verdict; fix the data and re-run the hour (docs/operations.md).

The decision is `include.hourly.quality_gate`, the ledger `include.hourly.ledger`,
both tested without Airflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import task
from airflow.sdk.exceptions import AirflowFailException

from include.contracts.settings import Mode
from include.hourly.load_tasks import DUCKDB_WRITER_POOL

GATE = "gate"
PUBLISH = "publish"
HOLD = "hold"
DECISION_KEY = "decision"


@task.branch(task_id=GATE)
def gate(mode: Mode, data_interval_start: datetime | None = None, data_interval_end: datetime | None = None,
         ti: Any = None) -> list[str]:
    """Judge the interval's hours and every changed earlier hour; follow publish and/or hold."""
    from include.contracts.lake_layout import interval_hours
    from include.hourly.ledger import ledger_for
    from include.hourly.quality_gate import decide

    checks = ledger_for(mode).checks_to_judge(data_interval_start, data_interval_end)
    decision = decide(checks, interval_hours(data_interval_start, data_interval_end))
    for hour in (*decision.publish, *decision.held):
        verdict = "passed" if hour.passed else f"held ({' '.join(hour.failing_checks)}): {hour.details}"
        print(f"{hour.label} readings={hour.readings:,} {verdict}")
    ti.xcom_push(key=DECISION_KEY, value=decision.to_xcom())
    print(f"gate: {decision.summary()}")
    return ([PUBLISH] if decision.publish else []) + ([HOLD] if decision.held else [])


def _decision(ti: Any) -> Any:
    from include.hourly.quality_gate import GateDecision

    return GateDecision.from_xcom(ti.xcom_pull(task_ids=GATE, key=DECISION_KEY))


def publish(mode: Mode) -> Any:
    """The task that records the passing hours in the published-hours ledger."""

    @task(task_id=PUBLISH, pool=DUCKDB_WRITER_POOL if mode == "local" else None)
    def record_published(run_id: str | None = None, ti: Any = None) -> list[str]:
        """Record the hours that passed in the published-hours ledger; serving is built from it alone."""
        from include.hourly.ledger import ledger_for

        hours = _decision(ti).publish
        ledger_for(mode).record_published(hours, run_id or "")
        print(f"published: {', '.join(hour.label for hour in hours)}")
        return [hour.label for hour in hours]

    return record_published()


def hold(mode: Mode) -> Any:
    """The task that records the failing hours and fails the run with why."""

    @task(task_id=HOLD, pool=DUCKDB_WRITER_POOL if mode == "local" else None)
    def record_held(run_id: str | None = None, ti: Any = None) -> None:
        """Serving keeps its published hours; record the held ones and fail the run so on-call hears why."""
        from include.hourly.ledger import ledger_for

        decision = _decision(ti)
        ledger_for(mode).record_held(decision.held, run_id or "")
        hours = ", ".join(f"{hour.label} UTC" for hour in decision.held)
        details = "\n".join(f"{hour.label}: {hour.details}" for hour in decision.held)
        raise AirflowFailException(
            f"data-quality gate held {hours}; failing checks: {', '.join(decision.failing_checks)}. "
            "Serving keeps only published hours; thresholds are dbt vars (dq_*) in dbt/dbt_project.yml.\n"
            f"{details}"
        )

    return record_held()
