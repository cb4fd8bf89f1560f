"""The one source of connection settings (the embedded layout) and the settings each deployable builds."""

from __future__ import annotations

import json

import pytest

from dev.embedded.layout import DEFAULT_PORTS, EmbeddedLayout, LayoutError
from include.contracts.settings import (
    EMBEDDED_BROKER_GROUP_TUNING,
    KafkaSettings,
    LakeSettings,
    OltpSettings,
    SettingsError,
    WarehouseSettings,
    airbyte_source_executable,
    deployment_mode,
)
from include.hourly.config import HourlyConfig

pytestmark = pytest.mark.unit


def test_defaults_are_loopback_and_project_local() -> None:
    layout = EmbeddedLayout.from_env({})
    env = layout.environment()
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"127.0.0.1:{DEFAULT_PORTS['kafka']}"
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{DEFAULT_PORTS['s3']}"
    assert env["OLTP_DSN"] == f"postgresql://postgres@127.0.0.1:{DEFAULT_PORTS['postgres']}/oltp"
    assert layout.local_dir == layout.project_root / ".local"
    assert env["HRS_WAREHOUSE_PATH"].startswith(str(layout.local_dir))


def test_airflow_connections_are_json_pointing_at_the_services() -> None:
    env = EmbeddedLayout.from_env({"HRS_S3_PORT": "16000", "HRS_PG_PORT": "16001"}).environment()
    aws = json.loads(env["AIRFLOW_CONN_AWS_LAKE"])
    assert aws["conn_type"] == "aws"
    assert aws["extra"]["endpoint_url"] == "http://127.0.0.1:16000"
    oltp = json.loads(env["AIRFLOW_CONN_OLTP_POSTGRES"])
    assert (oltp["host"], oltp["port"], oltp["schema"]) == ("127.0.0.1", 16001, "oltp")


@pytest.mark.parametrize("bad", ["abc", "80", "70000", "-1"])
def test_bad_port_names_the_variable_and_the_fix(bad: str) -> None:
    with pytest.raises(LayoutError, match=r"HRS_KAFKA_PORT='.*' is not a usable port: give a number from 1024"):
        EmbeddedLayout.from_env({"HRS_KAFKA_PORT": bad})


def test_ports_must_differ() -> None:
    with pytest.raises(LayoutError, match="three different ports"):
        EmbeddedLayout.from_env({"HRS_KAFKA_PORT": "16000", "HRS_S3_PORT": "16000"})


def test_unknown_kafka_storage_is_refused() -> None:
    with pytest.raises(LayoutError, match="HRS_KAFKA_STORAGE='disk' is not supported"):
        EmbeddedLayout.from_env({"HRS_KAFKA_STORAGE": "disk"})


def test_the_layout_environment_satisfies_every_settings_object() -> None:
    env = EmbeddedLayout.from_env({"HRS_KAFKA_PORT": "17000", "HRS_TOPIC": "hr-test"}).environment()
    kafka = KafkaSettings.from_env(env)
    assert (kafka.mode, kafka.bootstrap_servers, kafka.topic) == ("local", "127.0.0.1:17000", "hr-test")
    lake = LakeSettings.from_env(env)
    assert lake.endpoint_url.startswith("http://127.0.0.1:") and lake.topic == "hr-test"
    assert OltpSettings.from_env(env).dsn == env["OLTP_DSN"]
    assert str(WarehouseSettings.from_env(env).warehouse_path) == env["HRS_WAREHOUSE_PATH"]


@pytest.mark.parametrize("build", [KafkaSettings.from_env, LakeSettings.from_env, OltpSettings.from_env,
                                   WarehouseSettings.from_env])
def test_local_mode_without_the_layout_names_the_variable_and_make_env(build) -> None:
    with pytest.raises(SettingsError, match=r"is not set \(.*\): load the embedded services' settings first: "
                                            r"`eval \"\$\(make -s env\)\"`"):
        build({})


def test_prod_names_the_missing_setting_and_where_settings_are_described() -> None:
    with pytest.raises(SettingsError, match=r"KAFKA_BOOTSTRAP_SERVERS is not set \(the Kafka brokers\): set it in the "
                                            r"deployment's environment \(each setting is described in .env.example"):
        KafkaSettings.from_env({"HRS_MODE": "prod"})


def test_the_dag_parses_in_prod_with_the_lake_bucket_alone() -> None:
    config = HourlyConfig.from_env({"HRS_MODE": "prod", "HRS_LAKE_BUCKET": "lake"})
    assert (config.mode, config.lake.bucket, config.lake.topic, config.dbt_target) == ("prod", "lake", "heart-rate",
                                                                                       "prod")
    assert config.lake.endpoint_url is None and config.tableau_datasource is None
    with pytest.raises(SettingsError, match="HRS_LAKE_BUCKET is not set"):
        HourlyConfig.from_env({"HRS_MODE": "prod"})


@pytest.mark.parametrize("typo", ["staging", "prd", "Prod"])
def test_an_unknown_mode_is_refused_everywhere(typo: str) -> None:
    env = {**EmbeddedLayout.from_env({}).environment(), "HRS_MODE": typo}
    for build in (deployment_mode, KafkaSettings.from_env, HourlyConfig.from_env):
        with pytest.raises(SettingsError, match=f"HRS_MODE='{typo}' is not a mode"):
            build(env)


def test_the_local_loader_is_chosen_once_and_validated() -> None:
    env = EmbeddedLayout.from_env({}).environment()
    assert HourlyConfig.from_env(env).loader == "embedded"
    assert HourlyConfig.from_env({**env, "HRS_LOADER": "airbyte"}).loader == "airbyte"
    assert airbyte_source_executable(env).name == "source-s3"  # `make env` points at the connector's venv
    with pytest.raises(SettingsError, match="HRS_LOADER='airbite' is not a loader"):
        HourlyConfig.from_env({**env, "HRS_LOADER": "airbite"})


def test_the_dbt_execution_and_how_its_sensors_wait_are_chosen_once_and_validated() -> None:
    env = EmbeddedLayout.from_env({}).environment()
    config = HourlyConfig.from_env(env)
    assert (config.dbt_execution, config.dbt_sensors) == ("watcher", "deferrable")  # what a scheduler runs
    config = HourlyConfig.from_env({**env, "HRS_DBT_EXECUTION": "local", "HRS_DBT_SENSORS": "reschedule"})
    assert (config.dbt_execution, config.dbt_sensors) == ("local", "reschedule")
    with pytest.raises(SettingsError, match="HRS_DBT_SENSORS='defer' is not a way to wait"):
        HourlyConfig.from_env({**env, "HRS_DBT_SENSORS": "defer"})
    with pytest.raises(SettingsError, match="HRS_DBT_EXECUTION='cosmos' is not a dbt execution"):
        HourlyConfig.from_env({**env, "HRS_DBT_EXECUTION": "cosmos"})


def test_embedded_broker_tuning_stays_local() -> None:
    local = KafkaSettings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"}).consumer_config("g")
    prod = KafkaSettings.from_env({"HRS_MODE": "prod", "KAFKA_BOOTSTRAP_SERVERS": "b:9092"}).consumer_config("g")
    assert EMBEDDED_BROKER_GROUP_TUNING.items() <= local.items()
    assert not set(EMBEDDED_BROKER_GROUP_TUNING) & set(prod)


def test_confluent_cloud_sasl_settings() -> None:
    env = {
        "HRS_MODE": "prod",
        "KAFKA_BOOTSTRAP_SERVERS": "pkc.example:9092",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_USERNAME": "key",
        "KAFKA_SASL_PASSWORD": "secret",
        "HRS_LAKE_BUCKET": "lake",
        "OLTP_DSN": "postgresql://u@h/db",
    }
    assert LakeSettings.from_env(env).endpoint_url is None
    assert KafkaSettings.from_env(env).client_config() == {
        "bootstrap.servers": "pkc.example:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "key",
        "sasl.password": "secret",
    }
    with pytest.raises(SettingsError, match="needs KAFKA_SASL_USERNAME"):
        KafkaSettings.from_env({**env, "KAFKA_SASL_USERNAME": ""})
