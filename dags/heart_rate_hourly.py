"""
### Heart-rate hourly: lake → raw → dbt → data-quality gate → serving

Every hour, for the data interval [H, H+1) in UTC:

1. **wait_for_hour**: the interval's event-hour folder in the S3 lake has objects
   (deferrable S3 key sensor).
2. **load**: new lake files into `raw.heart_rate_stream` and the OLTP change log into
   `raw.users` / `raw.activities`: Airbyte syncs in `prod`, the embedded loaders in
   `local`. Both loads run here, not in a sibling DAG, so the SCD2 dimensions are
   as current as the readings they are joined with.
3. **transform**: dbt staging, SCD2 dimensions, facts and the per-hour
   data-quality checks (`dq_hourly`), one Cosmos task per model, tests right after
   each model. The fact table rebuilds the interval's hours plus any late hour.
4. **gate**: judges the interval's hours and every earlier hour whose data
   changed since it was last judged (late data, late OLTP changes). Hours that
   passed → **publish**: recorded in the published-hours ledger, then **serve**
   builds their per-hour partial aggregates and the marts roll them up, then the
   serving refresh (Tableau extract or the local dashboard). Hours that failed →
   **hold**: recorded with why, serving keeps only published hours, the run
   fails and on-call is paged with the check, by how much and the objects.

Re-running or backfilling an hour rebuilds the same rows
(`airflow backfill create --dag-id heart_rate_hourly --from-date ... --to-date ...`).
Runbook: `docs/operations.md`.
"""

from airflow.sdk import dag

from include.hourly.config import HourlyConfig
from include.hourly.dbt_task_groups import SERVE_SELECT, TRANSFORM_SELECT, dbt_task_group
from include.hourly.gate_tasks import gate, hold, publish
from include.hourly.lake_sensor import wait_for_hour
from include.hourly.load_tasks import load_group
from include.hourly.run_policy import DEFAULT_ARGS, HOURLY, RUN_DEADLINE, RUN_TIMEOUT, START_DATE, TAGS
from include.hourly.serving_refresh import refresh_serving

# The mode (HRS_MODE: local or prod) and the lake to watch, read once and handed to every step.
CONFIG = HourlyConfig.from_env()


@dag(
    schedule=HOURLY,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    deadline=RUN_DEADLINE,
    default_args=DEFAULT_ARGS,
    tags=TAGS,
    doc_md=__doc__,
)
def heart_rate_hourly() -> None:
    transform = dbt_task_group("transform", TRANSFORM_SELECT, "dbt: staging, SCD2 dimensions, facts, quality checks",
                               CONFIG)
    serve = dbt_task_group("serve", SERVE_SELECT, "dbt: published hours' aggregates, the serving marts", CONFIG)
    load = load_group(CONFIG.mode, loader=CONFIG.loader)
    go = publish(CONFIG.mode)

    wait_for_hour(CONFIG.lake) >> load >> transform >> gate(CONFIG.mode) >> [go, hold(CONFIG.mode)]
    go >> serve >> refresh_serving(CONFIG)


heart_rate_hourly()
