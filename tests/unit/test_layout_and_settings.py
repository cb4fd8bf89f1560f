"""The one source of connection settings: layout defaults, overrides and errors."""

from __future__ import annotations

import json

import pytest

from include.embedded.layout import DEFAULT_PORTS, EmbeddedLayout, LayoutError
from include.settings import Settings, SettingsError

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


def test_local_settings_fall_back_on_the_layout_and_explicit_values_win() -> None:
    settings = Settings.from_env({"HRS_KAFKA_PORT": "17000", "HRS_TOPIC": "hr-test"})
    assert settings.is_local
    assert settings.kafka.bootstrap_servers == "127.0.0.1:17000"
    assert settings.kafka.topic == "hr-test"
    assert settings.s3_endpoint_url.startswith("http://127.0.0.1:")
    explicit = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "broker:9092"})
    assert explicit.kafka.bootstrap_servers == "broker:9092"


def test_prod_names_every_missing_setting() -> None:
    with pytest.raises(SettingsError, match="HRS_MODE=prod needs KAFKA_BOOTSTRAP_SERVERS, HRS_LAKE_BUCKET, OLTP_DSN"):
        Settings.from_env({"HRS_MODE": "prod"})


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(SettingsError, match="HRS_MODE='staging' is not a mode"):
        Settings.from_env({"HRS_MODE": "staging"})


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
    settings = Settings.from_env(env)
    assert settings.s3_endpoint_url is None
    assert settings.kafka.client_config() == {
        "bootstrap.servers": "pkc.example:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "key",
        "sasl.password": "secret",
    }
    with pytest.raises(SettingsError, match="needs KAFKA_SASL_USERNAME"):
        Settings.from_env({**env, "KAFKA_SASL_USERNAME": ""})
