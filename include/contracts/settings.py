"""Configuration from the environment: the mode, decided once, and one small settings object per service.

`deployment_mode()` is the one place that reads and validates `HRS_MODE`
(`local`, the default, or `prod`); everything else receives the mode as an
argument. Each deployable builds only the settings of the services it talks to:

| deployable                 | builds                                                         |
|----------------------------|----------------------------------------------------------------|
| producer image             | `KafkaSettings`, plus `OltpSettings` (seed, produce) or `LakeSettings` (sink) |
| Airflow, parsing the DAG   | `LakeSettings` (the sensor's bucket and topic)                 |
| Airflow, local-mode tasks  | `LakeSettings`, `OltpSettings`, `WarehouseSettings`             |

so the DAG parses in prod with the lake bucket alone, never with Kafka or OLTP
secrets it does not use.

Nothing here invents a local connection default: the laptop tooling (`make env`,
`dev/`) puts the embedded services' settings into the environment, and a
missing variable is reported by name with the fix. Standard library only, so
DAG files may read it at parse time without cost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from include.contracts.raw_schema import CDC_PUBLICATION, CDC_SLOT

Mode = Literal["local", "prod"]
MODES: tuple[Mode, ...] = ("local", "prod")
DEFAULT_TOPIC = "heart-rate"
LOCAL_LAKE_BUCKET = "heart-rate-lake"
"""The lake bucket of the local stacks (the embedded services, the Astro compose stack); prod names its own."""
DEFAULT_AWS_REGION = "us-east-1"

FRESHNESS_LIMIT_VARIABLE = "HRS_DQ_MAX_FRESHNESS_LAG_MINUTES"
"""Overrides the dbt var dq_max_freshness_lag_minutes (dbt/dbt_project.yml reads it) where history is
simulated at once (`make demo`, tests): its lake arrival lags event time by hours."""

# Tansu, the embedded broker, assigns a new consumer group's partitions after a few heartbeats:
# with librdkafka's default 3 s heartbeat that is ~23 s, with 0.5 s about 3 s. Local mode only:
# against Kafka or Confluent Cloud the clients keep librdkafka's defaults.
EMBEDDED_BROKER_GROUP_TUNING = {"heartbeat.interval.ms": 500, "session.timeout.ms": 6000}


class SettingsError(ValueError):
    """The environment does not describe a usable configuration; the message names the variable and the fix."""


def _environment(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def deployment_mode(env: Mapping[str, str] | None = None) -> Mode:
    """`HRS_MODE`, validated: `local` (the default) or `prod`. A typo is an error, never a silent local run."""
    mode = _environment(env).get("HRS_MODE") or "local"
    if mode not in MODES:
        raise SettingsError(f"HRS_MODE={mode!r} is not a mode: use 'local' (default) or 'prod'.")
    return mode  # type: ignore[return-value]


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name)
    if value:
        return value
    if deployment_mode(env) == "local":
        fix = ("load the embedded services' settings first: `eval \"$(make -s env)\"` (`make demo`, "
               "`make airflow` and `make test` do it for you)")
    else:
        fix = "set it in the deployment's environment (each setting is described in .env.example)"
    raise SettingsError(f"{name} is not set ({what}): {fix}.")


Loader = Literal["embedded", "airbyte"]
LOADERS: tuple[Loader, ...] = ("embedded", "airbyte")


def local_loader(env: Mapping[str, str] | None = None) -> Loader:
    """`HRS_LOADER`, validated: how local mode reads the lake, `embedded` (default, fast) or `airbyte`
    (the real Airbyte S3 source connector). Prod always runs Airbyte's own connections."""
    loader = _environment(env).get("HRS_LOADER") or "embedded"
    if loader not in LOADERS:
        raise SettingsError(f"HRS_LOADER={loader!r} is not a loader: use 'embedded' (default) or 'airbyte'.")
    return loader  # type: ignore[return-value]


DbtExecution = Literal["watcher", "local"]
DBT_EXECUTIONS: tuple[DbtExecution, ...] = ("watcher", "local")


def dbt_execution(env: Mapping[str, str] | None = None) -> DbtExecution:
    """`HRS_DBT_EXECUTION`, validated: how the hourly DAG runs dbt. `watcher` (default): one `dbt build` per
    task group with dbt's threads, a sensor task per model and per model's tests; `local`: one task per
    model, each its own `dbt build` (Cosmos's default, kept to compare against: `make bench-dag`)."""
    execution = _environment(env).get("HRS_DBT_EXECUTION") or "watcher"
    if execution not in DBT_EXECUTIONS:
        raise SettingsError(f"HRS_DBT_EXECUTION={execution!r} is not a dbt execution: use 'watcher' (default) "
                            "or 'local'.")
    return execution  # type: ignore[return-value]


DbtSensors = Literal["deferrable", "reschedule"]
DBT_SENSORS: tuple[DbtSensors, ...] = ("deferrable", "reschedule")
DBT_SENSORS_VARIABLE = "HRS_DBT_SENSORS"


def dbt_sensors(env: Mapping[str, str] | None = None) -> DbtSensors:
    """`HRS_DBT_SENSORS`, validated: how the watcher's sensor tasks wait for the build. `deferrable` (default):
    a sensor looks once, then waits in the triggerer (on a scheduler every poke of a rescheduling sensor is a
    new task process, several seconds of CPU each); `reschedule`: it pokes every few seconds and gives its
    slot back in between, what `dag.test()` needs (it runs a deferred trigger inline, one task at a time), so
    `python -m dev.dag_runs` sets it."""
    sensors = _environment(env).get(DBT_SENSORS_VARIABLE) or "deferrable"
    if sensors not in DBT_SENSORS:
        raise SettingsError(f"{DBT_SENSORS_VARIABLE}={sensors!r} is not a way to wait: use 'deferrable' (default) "
                            "or 'reschedule'.")
    return sensors  # type: ignore[return-value]


def airbyte_source_executable(env: Mapping[str, str] | None = None) -> Path:
    """The real Airbyte S3 source's entry point (`HRS_AIRBYTE_SOURCE_S3`; `make install` installs it)."""
    return Path(_required(_environment(env), "HRS_AIRBYTE_SOURCE_S3", "the Airbyte S3 source connector"))


def topic(env: Mapping[str, str] | None = None) -> str:
    """The heart-rate topic, which also names the lake's topic folder (`HRS_TOPIC`)."""
    return _environment(env).get("HRS_TOPIC") or DEFAULT_TOPIC


@dataclass(frozen=True)
class KafkaSettings:
    mode: Mode
    bootstrap_servers: str
    topic: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSettings:
        env = _environment(env)
        security = env.get("KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT"
        if security.startswith("SASL") and not (env.get("KAFKA_SASL_USERNAME") and env.get("KAFKA_SASL_PASSWORD")):
            raise SettingsError(
                f"KAFKA_SECURITY_PROTOCOL={security} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD "
                "(a Confluent Cloud API key and secret)."
            )
        return cls(
            mode=deployment_mode(env),
            bootstrap_servers=_required(env, "KAFKA_BOOTSTRAP_SERVERS", "the Kafka brokers"),
            topic=topic(env),
            security_protocol=security,
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or ("PLAIN" if security.startswith("SASL") else None),
            sasl_username=env.get("KAFKA_SASL_USERNAME"),
            sasl_password=env.get("KAFKA_SASL_PASSWORD"),
        )

    def client_config(self) -> dict[str, str]:
        """librdkafka settings shared by every producer, consumer and admin client."""
        config = {"bootstrap.servers": self.bootstrap_servers, "security.protocol": self.security_protocol}
        if self.sasl_mechanism:
            config |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.sasl_username or "",
                "sasl.password": self.sasl_password or "",
            }
        return config

    def consumer_config(self, group_id: str) -> dict[str, object]:
        """A consumer that commits by hand and starts at the earliest offset (fast group joins locally)."""
        tuning = EMBEDDED_BROKER_GROUP_TUNING if self.mode == "local" else {}
        return {
            **self.client_config(),
            **tuning,
            "group.id": group_id,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }


@dataclass(frozen=True)
class LakeSettings:
    bucket: str
    topic: str
    endpoint_url: str | None
    """None in prod: boto3 then talks to AWS itself."""
    region: str
    credentials: tuple[str, str] | None
    """Explicit keys (the local dummies, or AWS_ACCESS_KEY_ID/SECRET); None lets boto3 find its own."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LakeSettings:
        env = _environment(env)
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        return cls(
            bucket=_required(env, "HRS_LAKE_BUCKET", "the S3 lake's bucket"),
            topic=topic(env),
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_DEFAULT_REGION") or DEFAULT_AWS_REGION,
            credentials=(key, secret) if key and secret else None,
        )

    def s3_client(self) -> Any:
        """A boto3 S3 client for the lake: the local server in local mode, AWS in prod."""
        import boto3

        options: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        if self.credentials:
            options["aws_access_key_id"], options["aws_secret_access_key"] = self.credentials
        return boto3.client("s3", **options)

    @property
    def where(self) -> str:
        return f"s3://{self.bucket} at {self.endpoint_url or 'AWS S3'}"


@dataclass(frozen=True)
class OltpSettings:
    dsn: str
    cdc_slot: str = CDC_SLOT
    """The pgoutput replication slot the embedded CDC loader reads (Airbyte's, by default)."""
    cdc_publication: str = CDC_PUBLICATION

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OltpSettings:
        env = _environment(env)
        return cls(dsn=_required(env, "OLTP_DSN", "the OLTP PostgreSQL"), cdc_slot=env.get("HRS_CDC_SLOT") or CDC_SLOT)


SNOWFLAKE_CONN_ID = "snowflake_default"
"""The Airflow connection of the prod warehouse: dbt (through Cosmos) and the gate both log in with it."""


@dataclass(frozen=True)
class WarehouseSettings:
    """The local DuckDB warehouse and where the local serving refresh writes (local mode only; in prod
    Snowflake is the warehouse, reached through the Airflow connection SNOWFLAKE_CONN_ID)."""

    warehouse_path: Path
    dashboard_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WarehouseSettings:
        env = _environment(env)
        return cls(
            warehouse_path=Path(_required(env, "HRS_WAREHOUSE_PATH", "the local DuckDB warehouse file")),
            dashboard_dir=Path(_required(env, "HRS_DASHBOARD_DIR", "where the local dashboard is written")),
        )


def alerts_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where on-call alerts are recorded (`alerts.jsonl`): HRS_LOCAL_DIR, else `.local` of the working folder."""
    return Path(_environment(env).get("HRS_LOCAL_DIR") or ".local")
