"""The warehouse relations Python code reads or writes besides raw and serving (those have their own modules).

`dq_hourly` and `fct_heart_rates` are built by dbt; the gate, the dashboard and the demo read them by
these names only. The gate's ledger (`published_hours`, `held_hours`) is written by the DAG's gate
tasks and read by dbt (the serving partials) as the source `gate`: its columns are declared here, and
a test keeps `dbt/models/staging/__sources.yml` in step.
"""

from __future__ import annotations

DQ_HOURLY = "quality.dq_hourly"
"""Per event hour: the data-quality checks the gate decides on."""
FACT_HEART_RATES = "core.fct_heart_rates"
"""One row per reading."""
DIM_USERS = "core.dim_users"
"""User versions (SCD2), PII-free."""
PUBLISHED_HOUR_AGGREGATES = "serving.published_hour_aggregates"
"""The per-hour partial aggregates of published hours that every serving mart rolls up."""

LEDGER_SCHEMA = "quality"
PUBLISHED_HOURS = f"{LEDGER_SCHEMA}.published_hours"
"""One row each time the gate publishes an event hour: what serving may contain (written only on publish)."""
HELD_HOURS = f"{LEDGER_SCHEMA}.held_hours"
"""One row each time the gate holds an event hour: why, so a later run does not judge the same data again."""
LEDGER_COLUMNS = {
    PUBLISHED_HOURS: {"event_hour": "timestamp", "fingerprint": "text", "readings": "integer", "run_id": "text",
                      "published_at": "timestamp"},
    HELD_HOURS: {"event_hour": "timestamp", "fingerprint": "text", "readings": "integer", "run_id": "text",
                 "held_at": "timestamp", "failing_checks": "text", "details": "text"},
}
