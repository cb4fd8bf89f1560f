"""The DAGs' one entry point for loading raw: the right tasks for the configured mode.

- `prod`: per Airbyte connection, one deferrable `AirbyteTriggerSyncOperator`: it
  starts a sync job, then waits for it in the triggerer, not in a worker slot.
  One task, not trigger + sensor: a retry runs the task again, so it starts a
  *new* sync (a sensor's retry would re-poll the same failed job id forever).
  Connection ids come from the Airflow
  Variables `airbyte_s3_connection_id` and `airbyte_oltp_connection_id`
  (for example `AIRFLOW_VAR_AIRBYTE_S3_CONNECTION_ID`), read when the task runs.
- `local`: the embedded loaders, writing the same raw tables into DuckDB, in the
  one-slot `duckdb_writer` pool because DuckDB allows one writer process. With
  `HRS_LOADER=airbyte` the lake is read by the real Airbyte S3 source connector
  instead (`include.loaders.airbyte_source`).

Called inside a DAG with the mode the DAG file decided; imports nothing heavy at parse time.
"""

from __future__ import annotations

from airflow.sdk import TaskGroup, task

from include.contracts.raw_schema import ACTIVITIES, HEART_RATE_STREAM, USERS, relation
from include.contracts.settings import Loader, Mode

STREAM_TABLE, CDC_TABLES = relation(HEART_RATE_STREAM), f"{relation(USERS)}, {relation(ACTIVITIES)}"

AIRBYTE_CONN_ID = "airbyte_default"
DUCKDB_WRITER_POOL = "duckdb_writer"
# (task suffix, Airflow Variable holding the Airbyte connection id, what it syncs)
AIRBYTE_SYNCS = (
    ("s3_stream", "airbyte_s3_connection_id", f"S3 lake (JSON lines) -> {STREAM_TABLE}"),
    ("oltp_cdc", "airbyte_oltp_connection_id", f"OLTP Postgres CDC -> {CDC_TABLES}"),
)


def _airbyte_tasks() -> None:
    from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator

    for name, variable, what in AIRBYTE_SYNCS:
        AirbyteTriggerSyncOperator(
            task_id=f"sync_{name}",
            airbyte_conn_id=AIRBYTE_CONN_ID,
            connection_id=f"{{{{ var.value.{variable} }}}}",
            deferrable=True,
            # run_policy's execution_timeout bounds the wait; when it expires the provider cancels the
            # Airbyte job, so the retry's new sync never races a stale one.
            doc_md=f"Starts a new Airbyte sync {what} and waits for it (deferred, in the triggerer). "
                   "Each try, retries included, starts its own job.",
        )


def _embedded_tasks(loader: Loader) -> None:
    reader = "the real Airbyte S3 source connector" if loader == "airbyte" else "embedded loader"

    @task(pool=DUCKDB_WRITER_POOL, doc_md=f"New lake objects into {STREAM_TABLE} ({reader}).")
    def load_s3_stream() -> str:
        from include.loaders.cli import load_lake

        return str(load_lake(loader))

    @task(pool=DUCKDB_WRITER_POOL, doc_md=f"The OLTP change log into {CDC_TABLES} (embedded CDC).")
    def load_oltp_cdc() -> str:
        from include.loaders.cli import load_cdc

        return str(load_cdc())

    load_s3_stream() >> load_oltp_cdc()


def load_group(mode: Mode, group_id: str = "load", loader: Loader = "embedded") -> TaskGroup:
    """A task group that fills the warehouse's raw schema: Airbyte in prod, the local loaders locally."""
    with TaskGroup(group_id=group_id, tooltip=f"load raw ({mode})") as group:
        if mode == "prod":
            _airbyte_tasks()
        else:
            _embedded_tasks(loader)
    return group
