"""What the hourly DAG needs to know when it is parsed, read from the environment once.

The DAG file builds one `HourlyConfig` and hands it to every step, so the mode
is decided in one place (`include.contracts.settings.deployment_mode`) and a
task never re-reads it on its own. In prod parsing needs only `HRS_MODE=prod`
and the lake bucket; Kafka and OLTP settings are the producer's business.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from include.contracts.settings import (
    DbtExecution,
    DbtSensors,
    LakeSettings,
    Loader,
    Mode,
    dbt_execution,
    dbt_sensors,
    deployment_mode,
    local_loader,
)


@dataclass(frozen=True)
class HourlyConfig:
    mode: Mode
    lake: LakeSettings
    dbt_target: str
    """The dbt profile's target: `local` (DuckDB) or `prod` (Snowflake), unless DBT_TARGET says otherwise."""
    tableau_datasource: str | None
    """The published Tableau data source refreshed after each published hour (prod, optional)."""
    loader: Loader = "embedded"
    """Local mode: the embedded lake loader or the real Airbyte S3 source connector (HRS_LOADER)."""
    dbt_execution: DbtExecution = "watcher"
    """How the dbt task groups run dbt (HRS_DBT_EXECUTION): one threaded build watched per model, or one
    process per model."""
    dbt_sensors: DbtSensors = "deferrable"
    """How the watcher's sensors wait for the build (HRS_DBT_SENSORS): in the triggerer, or by rescheduling."""

    @property
    def is_local(self) -> bool:
        return self.mode == "local"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HourlyConfig:
        env = os.environ if env is None else env
        mode = deployment_mode(env)
        return cls(
            mode=mode,
            lake=LakeSettings.from_env(env),
            dbt_target=env.get("DBT_TARGET") or mode,
            tableau_datasource=env.get("TABLEAU_DATASOURCE") or None,
            loader=local_loader(env),
            dbt_execution=dbt_execution(env),
            dbt_sensors=dbt_sensors(env),
        )
