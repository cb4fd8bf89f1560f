"""The DAG's data-quality branch: `gate` decides, then `publish` or `hold`.

`gate` reads `quality.dq_hourly` (built by the transform group) for the hours of
the run's data interval and follows `publish` (the serving marts, then the
serving refresh) or `hold`. `hold` leaves serving untouched and fails the run
with the failing checks in its message, so the on-call notifier's alert names
them; it fails without retrying, since a retry would read the same data.
The decision itself is `include.hourly.quality_gate`, tested without Airflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import task
from airflow.sdk.exceptions import AirflowFailException

from include.contracts.settings import Mode

GATE = "gate"
PUBLISH = "publish"
HOLD = "hold"
DECISION_KEY = "decision"


@task.branch(task_id=GATE)
def gate(mode: Mode, data_interval_start: datetime | None = None, data_interval_end: datetime | None = None,
         ti: Any = None) -> str:
    """Publish the interval's hours if every data-quality check passed, else hold them."""
    from include.contracts.lake_layout import interval_hours
    from include.contracts.settings import WarehouseSettings
    from include.hourly.quality_gate import decide, read_local_checks, read_snowflake_checks

    if mode == "local":
        checks = read_local_checks(WarehouseSettings.from_env().warehouse_path, data_interval_start,
                                   data_interval_end)
    else:
        checks = read_snowflake_checks(data_interval_start, data_interval_end)
    decision = decide(checks, interval_hours(data_interval_start, data_interval_end))
    for check in checks:
        print(f"{check.event_hour:%Y-%m-%d %H:00} readings={check.readings} passed={check.passed} "
              f"failing={' '.join(check.failing_checks) or '-'}")
    ti.xcom_push(key=DECISION_KEY, value={"publish": decision.publish, "summary": decision.summary(),
                                          "failing_checks": decision.failing_checks})
    print(f"gate: {decision.summary()}")
    return PUBLISH if decision.publish else HOLD


def publish() -> EmptyOperator:
    return EmptyOperator(task_id=PUBLISH, doc_md="Every check passed: the serving marts and their refresh follow.")


@task(task_id=HOLD)
def hold(ti: Any = None) -> None:
    """Serving stays as it was; the run fails and on-call gets the failing checks."""
    decision = ti.xcom_pull(task_ids=GATE, key=DECISION_KEY) or {}
    raise AirflowFailException(
        f"data-quality gate {decision.get('summary', 'held serving (no decision recorded)')}; "
        f"failing checks: {', '.join(decision.get('failing_checks', [])) or 'unknown'}. "
        "Serving marts were not refreshed; thresholds are dbt vars (dq_*) in dbt/dbt_project.yml."
    )
