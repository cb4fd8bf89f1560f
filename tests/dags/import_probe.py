"""Import one DAG file the way the DAG processor does, and report what that cost and touched.

Run in a fresh interpreter (`python tests/dags/import_probe.py FILE`) so that
modules already imported by pytest do not hide what the DAG file pulls in.
Network connections are refused and recorded: a DAG file must not open any at
parse time. Prints one JSON object.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import traceback

# All a production Airflow deployment needs to parse the DAGs (no Kafka or OLTP settings: those are the
# producer's): the DAG integrity tests and bench/dag_parse_bench.py parse the DAG files with this for `prod`.
PROD_PARSE_ENV = {"HRS_MODE": "prod", "HRS_LAKE_BUCKET": "lake", "TABLEAU_DATASOURCE": "heart-rate-serving"}
# Settings a test's own shell may carry (`eval "$(make -s env)"`) that must not leak into a parse.
PROJECT_VARIABLE_PREFIXES = ("HRS_", "KAFKA_", "OLTP_", "AWS_", "DBT_", "SNOWFLAKE_", "TABLEAU_", "AIRFLOW_CONN_")

HEAVY_MODULES = ("duckdb", "dbt", "confluent_kafka", "psycopg", "psycopg2", "boto3", "snowflake",
                 "faker", "pandas", "pyarrow")

attempts: list[str] = []


def _refuse(self: socket.socket, address: object) -> None:
    attempts.append(repr(address))
    raise OSError(f"import_probe: connection to {address!r} refused at DAG parse time")


def main(path: str) -> dict:
    # The baseline every DAG file of this project pays anyway: the SDK and Cosmos (which itself
    # imports the Snowflake provider's profile mappings). What the DAG file adds on top is judged.
    import airflow.sdk  # noqa: F401
    import cosmos  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag

    baseline = set(sys.modules)
    socket.socket.connect = _refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = _refuse  # type: ignore[method-assign,assignment]
    started = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)
    seconds = time.perf_counter() - started
    imported = set(sys.modules) - baseline
    heavy = sorted({name.split(".")[0] for name in imported if name.split(".")[0] in HEAVY_MODULES})
    return {
        "seconds": seconds,
        "import_errors": {str(k): v for k, v in bag.import_errors.items()},
        "connect_attempts": attempts,
        "heavy_modules": heavy,
        "dags": [
            {
                "dag_id": dag.dag_id,
                "tags": sorted(dag.tags),
                "doc_md": bool(dag.doc_md),
                "max_active_runs": dag.max_active_runs,
                "catchup": dag.catchup,
                "tasks": [
                    {"task_id": t.task_id, "owner": t.owner, "retries": t.retries, "pool": t.pool,
                     "downstream": sorted(t.downstream_task_ids), "doc_md": bool(t.doc_md),
                     "operator": type(t).__name__, "outlets": sorted(getattr(o, "uri", str(o)) for o in t.outlets),
                     "on_failure_callback": bool(t.on_failure_callback),
                     "on_retry_callback": bool(t.on_retry_callback), "retry_delay": t.retry_delay.total_seconds(),
                     "retry_exponential_backoff": t.retry_exponential_backoff,
                     "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                     "mode": getattr(t, "mode", None), "deferrable": getattr(t, "deferrable", None),
                     "pre_execute": getattr(getattr(t, "_pre_execute_hook", None), "__name__", None),
                     "before_rebuild": getattr(getattr(t, "before_rebuild", None), "__name__", None),
                     **_start_from_trigger(serialized[t.task_id])}
                    for t in dag.tasks
                ],
            }
            for dag, serialized in ((dag, _serialized_tasks(dag)) for dag in bag.dags.values())
        ],
    }


def _serialized_tasks(dag: object) -> dict:
    """The DAG's tasks as the scheduler sees them: serialized, as the DAG processor stores them, and read back."""
    from airflow.serialization.serialized_objects import DagSerialization

    return {t.task_id: t for t in DagSerialization.from_dict(DagSerialization.to_dict(dag)).tasks}


def _start_from_trigger(task: object) -> dict:
    """Whether the scheduler starts the task in the triggerer, with which trigger and arguments."""
    args = getattr(task, "start_trigger_args", None)
    kwargs = (args.trigger_kwargs or {}) if args else {}
    kwargs = kwargs.get("__var", kwargs)  # serialized as {"__type": "dict", "__var": {...}}
    return {"start_from_trigger": bool(getattr(task, "start_from_trigger", False)),
            "start_trigger": {"trigger_cls": args.trigger_cls, "next_method": args.next_method,
                              "kwargs": kwargs} if args else None}


if __name__ == "__main__":
    try:
        report = main(sys.argv[1])
    except Exception:  # noqa: BLE001 - the report carries the failure
        report = {"probe_error": traceback.format_exc()}
    print(json.dumps(report))
