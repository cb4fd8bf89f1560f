"""The Astro project's local stack (docker-compose.override.yml, airflow_settings.yaml) is consistent with
the code: no Docker engine runs here, so what can be checked without one is checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dev.embedded.layout import COSMOS_CACHE_VARIABLE, EmbeddedLayout
from include.contracts.paths import PROJECT_ROOT
from include.contracts.settings import (
    LOCAL_LAKE_BUCKET,
    KafkaSettings,
    LakeSettings,
    OltpSettings,
    WarehouseSettings,
    deployment_mode,
)
from include.hourly.lake_sensor import AWS_CONN_ID
from include.hourly.load_tasks import DUCKDB_WRITER_POOL
from producer.cli import build_parser

pytestmark = pytest.mark.unit

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.override.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")


def test_every_airflow_component_runs_the_dags_in_local_mode_against_the_stack() -> None:
    for component in AIRFLOW_COMPONENTS:
        env = SERVICES[component]["environment"]
        assert deployment_mode(env) == "local"
        assert KafkaSettings.from_env(env).bootstrap_servers == "kafka:9092"
        assert LakeSettings.from_env(env).endpoint_url == "http://minio:9000"
        assert "oltp-postgres" in OltpSettings.from_env(env).dsn
        assert WarehouseSettings.from_env(env).warehouse_path.is_absolute()


def test_the_producer_containers_run_real_producer_commands_with_a_complete_prod_config() -> None:
    for name in ("seed-oltp", "producer", "sink"):
        service = SERVICES[name]
        assert service["build"]["dockerfile"] == "producer/Dockerfile"
        build_parser().parse_args(service["command"])  # exits (fails the test) on an unknown command or flag
        env = {**service["environment"], "HRS_MODE": "prod"}  # the image's mode
        assert KafkaSettings.from_env(env).bootstrap_servers == "kafka:9092"
        assert LakeSettings.from_env(env).bucket == LOCAL_LAKE_BUCKET
        assert OltpSettings.from_env(env).dsn.startswith("postgresql://")


def test_airflow_settings_define_the_pool_and_the_lake_connection_of_the_stack() -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text())["airflow"]
    assert {pool["pool_name"]: pool["pool_slot"] for pool in settings["pools"]} == {DUCKDB_WRITER_POOL: 1}
    (lake,) = [conn for conn in settings["connections"] if conn["conn_id"] == AWS_CONN_ID]
    minio = SERVICES["minio"]["environment"]
    assert (lake["conn_login"], lake["conn_password"]) == (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])
    assert lake["conn_extra"]["endpoint_url"] == SERVICES["scheduler"]["environment"]["AWS_ENDPOINT_URL"]


def test_the_laptop_runs_cosmos_with_the_settings_of_the_image() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    image = dict(re.findall(r"(AIRFLOW__COSMOS__\w+)=(\w+)", dockerfile))
    layout = EmbeddedLayout.from_env({})
    laptop = {name: value for name, value in layout.environment().items() if name.startswith("AIRFLOW__COSMOS__")}
    assert "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY" in image
    # Only where Cosmos caches differs: the laptop keeps it in its local folder, apart from other sessions.
    assert Path(laptop.pop(COSMOS_CACHE_VARIABLE)).is_relative_to(layout.local_dir)
    assert {name: value.lower() for name, value in laptop.items()} == image
