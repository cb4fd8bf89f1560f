"""The dbt project as Airflow task groups, rendered by Cosmos from the manifest.

- Rendering reads `dbt/target/manifest.json` (`LoadMode.DBT_MANIFEST`), written by
  `dbt parse` (`make manifest` locally, the Dockerfile in the Astro image), so
  parsing a DAG file never runs dbt.
- `watcher` execution (default, `HRS_DBT_EXECUTION`): one `dbt build` of the
  group's selection (`dbt_producer_watcher`, Cosmos's producer reporting each node
  once, when it finishes: `include.hourly.dbt_producer`) runs the models with dbt's threads,
  each model's tests right after it; a sensor task per model, standing for the
  model's tests too (Cosmos renders a second sensor per model's tests, which
  `include.hourly.dbt_sensors` folds into the model's: half the links in the chain
  of sensors a scheduler runs one at a time), turns green or red with what dbt
  reported, so the UI keeps model-level status. On a scheduler a sensor starts in the
  triggerer and, when its node and tests passed, ends there without a worker
  (`include.hourly.dbt_sensors`); under `dag.test()` it pokes and
  reschedules instead (`HRS_DBT_SENSORS`, `_watch` says why). A failing model or test fails
  its sensor, the models after it are not built (dbt skips them; their sensors
  fail too), and the run stops before the gate. An Airflow retry of a sensor
  rebuilds just its model and runs its tests (`dbt build --select`); a retried or cleared build
  task skips (Cosmos), and then every sensor rebuilds its own node.
- `local` execution: one task per dbt node, each a `dbt build` of that node
  (`TestBehavior.BUILD`), kept to compare (`make bench-dag`).
- dbt runs in-process (`InvocationMode.DBT_RUNNER`), with the run's data interval
  in the environment (`INTERVAL_ENV`), so dbt's partial parsing survives the hour.
- dbt logs in with `profiles.yml`'s `local` target (the DuckDB file) locally, and in
  prod with the `snowflake_default` Airflow connection through a Cosmos profile
  mapping (`include.hourly.snowflake_login`), the same login the gate uses.
- `local` mode puts every dbt build (the watcher's build, or each task of `local`
  execution) in the one-slot `duckdb_writer` pool: DuckDB allows one writer
  process. Snowflake needs no such pool. The pool only orders Airflow's own
  tasks, so each dbt task also takes the warehouse's writer lock
  (`include.warehouse`) before dbt opens the file: a loader started by hand waits
  for it, and it waits for the loader, instead of either failing on DuckDB's lock.
  After the task the in-process dbt-duckdb adapter lets go of the file and the
  lock is released (`release_duckdb`); a watcher sensor, which opens the file
  only to rebuild its model on a retry, releases it however it ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow.sdk.bases.operator import DEFAULT_POOL_NAME
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)
from cosmos.constants import PRODUCER_WATCHER_TASK_ID

from include.contracts.paths import DBT_MANIFEST, DBT_PROFILES_DIR, DBT_PROJECT_DIR
from include.hourly.config import HourlyConfig
from include.hourly.dbt_producer import report_each_node_once
from include.hourly.dbt_sensors import fold_test_sensors, start_in_triggerer
from include.hourly.load_tasks import DUCKDB_WRITER_POOL
from include.hourly.run_policy import TASK_TIMEOUT
from include.hourly.snowflake_login import dbt_profile_mapping

DBT_PROFILE = "heart_rate"
TRANSFORM_SELECT = ["path:seeds", "path:models/staging", "path:models/intermediate", "path:models/core",
                    "path:models/quality"]
"""Before the gate: staging, dimensions, facts and the data-quality checks."""
SERVE_SELECT = ["path:models/serving"]
"""After the gate publishes: the published hours' partial aggregates and the marts."""
INTERVAL_ENV = {
    "HRS_INTERVAL_START": "{{ data_interval_start | ts }}",
    "HRS_INTERVAL_END": "{{ data_interval_end | ts }}",
}
"""The run's data interval, for dbt's `interval_hour_strings` macro. In the environment, not dbt vars: a changed
var makes dbt re-parse the whole project on every run; a changed environment variable, the four models that
read it (`dbt/macros/run_interval.sql`)."""


def interval_environment(start: datetime, end: datetime) -> dict[str, str]:
    """INTERVAL_ENV's variables for [start, end), as Airflow renders them (`ts` is `isoformat()`): for dbt runs
    outside Airflow (tests, benchmarks), so they parse as the DAG's do."""
    return dict(zip(INTERVAL_ENV, (start.isoformat(), end.isoformat()), strict=True))


SENSOR_POKE_SECONDS = 5
"""How often a watcher sensor looks for its node's result while the build runs."""


class ManifestMissing(FileNotFoundError):
    """The DAG cannot be rendered because `dbt parse` has not written the manifest."""


def hold_duckdb(context: Mapping[str, Any] | None = None) -> None:
    """Before an in-process dbt run: queue for the warehouse's writer lock, as every DuckDB writer does.

    A watcher sensor takes it only when it rebuilds its node (`before_rebuild`, on whatever try): otherwise it
    only reads what the build reported, and must not queue behind the build that holds the lock."""
    if context and hasattr(context.get("task"), "producer_task_id"):
        return
    hold_duckdb_writer()


def hold_duckdb_writer() -> None:
    """Queue for the warehouse's writer lock; released after dbt (`release_duckdb`) or the task."""
    from include.contracts.settings import WarehouseSettings
    from include.warehouse import hold_writer_lock

    hold_writer_lock(WarehouseSettings.from_env().warehouse_path)


def release_duckdb(project_dir: str, **_: object) -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after an in-process dbt run, then release
    the writer lock (Cosmos calls this after dbt, whether its nodes passed or failed)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    from include.warehouse import release_writer_lock

    try:
        DuckDBConnectionManager.close_all_connections()
    finally:
        release_writer_lock()


def release_duckdb_lock(*_: object, **__: object) -> None:
    """Give the writer lock back after a task, however it ended. A dbt run has released it already
    (`release_duckdb`); a watcher sensor that only read its node's result has not."""
    from include.warehouse import release_writer_lock

    release_writer_lock()


def profile_config(config: HourlyConfig) -> ProfileConfig:
    """The profiles.yml target locally (or whatever DBT_TARGET names); the Airflow connection on Snowflake."""
    if config.dbt_target == "prod":
        return ProfileConfig(profile_name=DBT_PROFILE, target_name="prod", profile_mapping=dbt_profile_mapping())
    return ProfileConfig(profile_name=DBT_PROFILE, target_name=config.dbt_target,
                         profiles_yml_filepath=DBT_PROFILES_DIR / "profiles.yml")


def dbt_task_group(group_id: str, select: list[str], tooltip: str, config: HourlyConfig) -> DbtTaskGroup:
    """The selected dbt nodes as a task group, in dependency order, for the DAG's mode and dbt target."""
    if not DBT_MANIFEST.exists():
        raise ManifestMissing(
            f"{DBT_MANIFEST} does not exist: run `make manifest` (dbt parse) so the DAG can render its "
            "dbt task groups; the Astro image does this at build time."
        )
    watcher = config.dbt_execution == "watcher"
    operator_args: dict[str, object] = {"env": INTERVAL_ENV, "emit_datasets": False}
    if config.is_local:
        operator_args |= {"pool": DUCKDB_WRITER_POOL, "pre_execute": hold_duckdb, "callback": release_duckdb,
                          "post_execute": release_duckdb_lock}
    project_config = ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR, manifest_path=DBT_MANIFEST, install_dbt_deps=False,
    )
    # Read the local manifest as a plain file: Cosmos wraps it in an ObjectStoragePath, whose first
    # use loads every provider's plugins (0.45 s of each DAG parse here).
    project_config.manifest_path = DBT_MANIFEST
    group = DbtTaskGroup(
        group_id=group_id,
        tooltip=tooltip,
        project_config=project_config,
        profile_config=profile_config(config),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, select=select,
            test_behavior=TestBehavior.AFTER_EACH if watcher else TestBehavior.BUILD,
        ),
        operator_args=operator_args,
    )
    if watcher:
        _watch(group, local=config.is_local, deferrable=config.dbt_sensors == "deferrable")
    return group


def _watch(group: DbtTaskGroup, local: bool, deferrable: bool) -> None:
    """How the group's sensors wait for the build: deferred in the triggerer, or poking and rescheduling.

    On a scheduler each execution of a task is a new process that parses the DAG (seconds of CPU here), so a
    sensor that rescheduled every few seconds while the build runs starved the build on a 2-core machine
    (make airflow: the hour's watcher build took 74 s, 25 s under `dag.test()`). Deferred, a sensor looked
    once, waited in the triggerer, and came back once: two processes. Now the scheduler starts it in the
    triggerer, where it also ends when its node and tests passed: none (`start_in_triggerer`). But
    `dag.test()` (`make demo`, the tests) runs a deferred task's trigger inline, one task at a time, in an
    unspecified order: a sensor that starts before the build would wait for a build that cannot start.
    There (`HRS_DBT_SENSORS=reschedule`, set by `dev.dag_runs`) a sensor comes back after
    SENSOR_POKE_SECONDS, with the build run in between; the sensors after the first ones start when those
    succeed, by then the build has reported them.
    Skips and upstream failures reach the sensors as Cosmos wires them (a held hour skips `serve` whole).
    """
    producer = group.children[f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    report_each_node_once(producer)
    fold_test_sensors(group)
    for task in group.iter_tasks():
        if task is producer or not hasattr(task, "producer_task_id"):
            continue
        task.deferrable = deferrable
        task.mode = "poke" if deferrable else "reschedule"
        task.poke_interval = SENSOR_POKE_SECONDS
        task.timeout = TASK_TIMEOUT.total_seconds()
        if deferrable:
            start_in_triggerer(task, poke_interval=SENSOR_POKE_SECONDS, timeout=TASK_TIMEOUT)
        if local:
            # Out of the one-slot pool: a sensor only reads the build's results, except when it rebuilds its
            # model, under the writer lock (`before_rebuild`), released however the task ends.
            task.pool = DEFAULT_POOL_NAME
            task.before_rebuild = hold_duckdb_writer
            task.on_failure_callback = [*_callbacks(task.on_failure_callback), release_duckdb_lock]
            task.on_retry_callback = [*_callbacks(task.on_retry_callback), release_duckdb_lock]


def _callbacks(callbacks: object) -> list:
    if callbacks is None:
        return []
    return list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]
