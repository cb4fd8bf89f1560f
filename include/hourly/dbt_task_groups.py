"""The dbt project as Airflow task groups, rendered by Cosmos from the manifest.

- Rendering reads `dbt/target/manifest.json` (`LoadMode.DBT_MANIFEST`), written by
  `dbt parse` (`make manifest` locally, the Dockerfile in the Astro image), so
  parsing a DAG file never runs dbt.
- One task per dbt node, each a `dbt build` of that node (`TestBehavior.BUILD`):
  the model, then its tests, before anything downstream starts. A failing test
  fails its model's task and stops the layers after it.
- dbt runs in-process (`InvocationMode.DBT_RUNNER`), with the run's interval as
  the vars `interval_start`/`interval_end` (rendered from the data interval).
- dbt logs in with `profiles.yml`'s `local` target (the DuckDB file) locally, and in
  prod with the `snowflake_default` Airflow connection through a Cosmos profile
  mapping (`include.hourly.snowflake_login`), the same login the gate uses.
- `local` mode puts every dbt task in the one-slot `duckdb_writer` pool: DuckDB
  allows one writer process. Snowflake needs no such pool. The pool only orders
  Airflow's own tasks, so each dbt task also takes the warehouse's writer lock
  (`include.warehouse`) before dbt opens the file: a loader started by hand waits
  for it, and it waits for the loader, instead of either failing on DuckDB's lock.
  After the task the in-process dbt-duckdb adapter lets go of the file and the
  lock is released (`release_duckdb`).
"""

from __future__ import annotations

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

from include.contracts.paths import DBT_MANIFEST, DBT_PROFILES_DIR, DBT_PROJECT_DIR
from include.hourly.config import HourlyConfig
from include.hourly.load_tasks import DUCKDB_WRITER_POOL
from include.hourly.snowflake_login import dbt_profile_mapping

DBT_PROFILE = "heart_rate"
TRANSFORM_SELECT = ["path:seeds", "path:models/staging", "path:models/intermediate", "path:models/core",
                    "path:models/quality"]
"""Before the gate: staging, dimensions, facts and the data-quality checks."""
SERVE_SELECT = ["path:models/serving"]
"""After the gate publishes: the published hours' partial aggregates and the marts."""
INTERVAL_VARS = {
    "interval_start": "{{ data_interval_start | ts }}",
    "interval_end": "{{ data_interval_end | ts }}",
}


class ManifestMissing(FileNotFoundError):
    """The DAG cannot be rendered because `dbt parse` has not written the manifest."""


def hold_duckdb(context: object = None) -> None:
    """Before an in-process dbt run: queue for the warehouse's writer lock, as every DuckDB writer does."""
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
    operator_args: dict[str, object] = {"vars": INTERVAL_VARS, "emit_datasets": False}
    if config.is_local:
        operator_args |= {"pool": DUCKDB_WRITER_POOL, "pre_execute": hold_duckdb, "callback": release_duckdb}
    project_config = ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR, manifest_path=DBT_MANIFEST, install_dbt_deps=False,
    )
    # Read the local manifest as a plain file: Cosmos wraps it in an ObjectStoragePath, whose first
    # use loads every provider's plugins (0.45 s of each DAG parse here).
    project_config.manifest_path = DBT_MANIFEST
    return DbtTaskGroup(
        group_id=group_id,
        tooltip=tooltip,
        project_config=project_config,
        profile_config=profile_config(config),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, select=select, test_behavior=TestBehavior.BUILD,
        ),
        operator_args=operator_args,
    )
