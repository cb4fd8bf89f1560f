"""Where the embedded services live and how to reach them.

This is the one source of local connection settings: `make env` prints
`EmbeddedLayout.environment()`, and every laptop command (`make demo`,
`make airflow`, the tests, the benchmarks) puts the same variables into its
environment, so the producer, the loaders, dbt and Airflow can never disagree
about a port or a path. Laptop tooling only: nothing under `include/` imports it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from include.contracts.paths import DAGS_DIR, PROJECT_ROOT
from include.contracts.settings import DEFAULT_AWS_REGION, DEFAULT_TOPIC, LOCAL_LAKE_BUCKET

LOOPBACK = "127.0.0.1"
DEFAULT_PORTS = {"postgres": 15432, "kafka": 19092, "s3": 15000}
PORT_VARIABLES = {"postgres": "HRS_PG_PORT", "kafka": "HRS_KAFKA_PORT", "s3": "HRS_S3_PORT"}
KAFKA_STORAGES = ("memory", "s3")

TANSU_STORAGE_BUCKET = "tansu"
OLTP_DATABASE = "oltp"
AIRFLOW_DATABASE = "airflow"
"""Airflow's metadata database, in the embedded PostgreSQL (SQLite locks under a scheduler and a CLI)."""
COSMOS_CACHE_VARIABLE = "AIRFLOW__COSMOS__CACHE_DIR"
"""Where Cosmos keeps dbt's partial-parse state: per local folder on the laptop (the image keeps its default),
because dbt's parse state hashes the warehouse path and the default /tmp/cosmos is shared by every session on
the machine, so runs of different warehouses re-parsed the whole project after each other's."""
OLTP_USER = "postgres"
AWS_REGION = DEFAULT_AWS_REGION
# moto accepts any key; these are deliberately not secrets.
LOCAL_AWS_KEY = "local-dummy"
SOURCE_S3_EXECUTABLE = PROJECT_ROOT / ".venv-source-s3" / "bin" / "source-s3"
"""The real Airbyte S3 source, which `make install` puts in its own virtualenv (the Makefile's SOURCE_S3_VENV)."""


class LayoutError(ValueError):
    """A local-services setting from the environment cannot be used."""


def _port(env: Mapping[str, str], service: str) -> int:
    variable = PORT_VARIABLES[service]
    raw = env.get(variable)
    if raw is None or raw == "":
        return DEFAULT_PORTS[service]
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1024 <= port <= 65535:
        raise LayoutError(
            f"{variable}={raw!r} is not a usable port: give a number from 1024 to 65535 "
            f"(default {DEFAULT_PORTS[service]}), or unset it."
        )
    return port


@dataclass(frozen=True)
class EmbeddedLayout:
    """Ports, folders and addresses of the embedded services, read once from the environment."""

    project_root: Path
    local_dir: Path
    postgres_port: int
    kafka_port: int
    s3_port: int
    kafka_storage: str = "memory"
    topic: str = DEFAULT_TOPIC
    lake_bucket: str = LOCAL_LAKE_BUCKET

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmbeddedLayout:
        env = os.environ if env is None else env
        local_dir = Path(env.get("HRS_LOCAL_DIR") or PROJECT_ROOT / ".local").resolve()
        storage = env.get("HRS_KAFKA_STORAGE", "memory") or "memory"
        if storage not in KAFKA_STORAGES:
            raise LayoutError(
                f"HRS_KAFKA_STORAGE={storage!r} is not supported: use 'memory' (default) "
                "or 's3' (the broker keeps its log in the local S3 server)."
            )
        ports = {service: _port(env, service) for service in DEFAULT_PORTS}
        if len(set(ports.values())) != len(ports):
            raise LayoutError(f"the embedded services need three different ports, got {ports}")
        return cls(
            project_root=PROJECT_ROOT,
            local_dir=local_dir,
            postgres_port=ports["postgres"],
            kafka_port=ports["kafka"],
            s3_port=ports["s3"],
            kafka_storage=storage,
            topic=env.get("HRS_TOPIC") or DEFAULT_TOPIC,
            lake_bucket=env.get("HRS_LAKE_BUCKET") or LOCAL_LAKE_BUCKET,
        )

    # folders -------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.local_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.local_dir / "logs"

    def data_dir(self, service: str) -> Path:
        return self.local_dir / service

    @property
    def warehouse_path(self) -> Path:
        return self.local_dir / "warehouse" / "warehouse.duckdb"

    @property
    def dashboard_dir(self) -> Path:
        return self.local_dir / "dashboard"

    # addresses -----------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.kafka_port}"

    @property
    def s3_endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.s3_port}"

    def oltp_dsn(self, database: str = OLTP_DATABASE) -> str:
        return f"postgresql://{OLTP_USER}@{LOOPBACK}:{self.postgres_port}/{database}"

    def airflow_database_url(self) -> str:
        return f"postgresql+psycopg2://{OLTP_USER}@{LOOPBACK}:{self.postgres_port}/{AIRFLOW_DATABASE}"

    def environment(self) -> dict[str, str]:
        """Every variable the rest of the project reads in local mode."""
        s3_connection = {
            "conn_type": "aws",
            "login": LOCAL_AWS_KEY,
            "password": LOCAL_AWS_KEY,
            "extra": {"endpoint_url": self.s3_endpoint_url, "region_name": AWS_REGION},
        }
        oltp_connection = {
            "conn_type": "postgres",
            "host": LOOPBACK,
            "port": self.postgres_port,
            "login": OLTP_USER,
            "schema": OLTP_DATABASE,
        }
        return {
            "HRS_MODE": "local",
            "HRS_LOCAL_DIR": str(self.local_dir),
            "HRS_TOPIC": self.topic,
            "HRS_LAKE_BUCKET": self.lake_bucket,
            "HRS_WAREHOUSE_PATH": str(self.warehouse_path),
            "HRS_DASHBOARD_DIR": str(self.dashboard_dir),
            "HRS_AIRBYTE_SOURCE_S3": str(SOURCE_S3_EXECUTABLE),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "AWS_ENDPOINT_URL": self.s3_endpoint_url,
            "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY,
            "AWS_DEFAULT_REGION": AWS_REGION,
            "OLTP_DSN": self.oltp_dsn(),
            "AIRFLOW_HOME": str(self.local_dir / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.airflow_database_url(),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",  # as the Dockerfile, which says why
            COSMOS_CACHE_VARIABLE: str(self.local_dir / "cosmos"),
            "AIRFLOW_CONN_AWS_LAKE": json.dumps(s3_connection),
            "AIRFLOW_CONN_OLTP_POSTGRES": json.dumps(oltp_connection),
        }


def apply_environment(env: Mapping[str, str] | None = None) -> EmbeddedLayout:
    """Put the embedded services' settings into this process's environment (variables already set win), so
    that it and every command it starts read what `make env` prints. Returns the layout."""
    layout = EmbeddedLayout.from_env(env)
    os.environ.update({**layout.environment(), **os.environ})
    return layout
