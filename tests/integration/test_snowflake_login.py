"""dbt and the gate log in to Snowflake with the one `snowflake_default` connection (key-pair in its extras).

Snowflake cannot run here, so the login is proven up to the wire: the Cosmos profile
mapping renders dbt's profile from the connection (secrets only as environment
variables), dbt-snowflake's own credentials class decrypts the key from it, and the
Snowflake provider's hook reads the same connection into its connect arguments.
"""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from include.contracts.settings import SNOWFLAKE_CONN_ID
from include.hourly.config import HourlyConfig
from include.hourly.dbt_task_groups import profile_config
from include.hourly.snowflake_login import SnowflakeKeyPairProfileMapping, dbt_profile_mapping

pytestmark = pytest.mark.integration

PASSPHRASE = "correct horse battery staple"


def _key(passphrase: str | None) -> str:
    """A fresh RSA key as Snowflake key-pair users hold it, base64 of the PEM (what the provider expects)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return base64.b64encode(pem).decode()


def _connect(monkeypatch: pytest.MonkeyPatch, passphrase: str | None) -> str:
    key = _key(passphrase)
    connection = {"conn_type": "snowflake", "login": "AIRFLOW_DBT", "extra": {
        "account": "xy12345.eu-central-1", "warehouse": "TRANSFORMING", "database": "HEART_RATE",
        "role": "TRANSFORMER", "private_key_content": key}}
    if passphrase:
        connection["password"] = passphrase
    monkeypatch.setenv(f"AIRFLOW_CONN_{SNOWFLAKE_CONN_ID.upper()}", json.dumps(connection))
    return key


def _dbt_credentials(mapping: SnowflakeKeyPairProfileMapping, text: str):
    """The profile as dbt reads it: env_var() filled from the mapping's environment, then dbt-snowflake's class."""
    from dbt.adapters.snowflake.connections import SnowflakeCredentials

    output = yaml.safe_load(text)["heart_rate"]["outputs"]["prod"]
    for field, value in list(output.items()):
        if isinstance(value, str) and "env_var(" in value:
            output[field] = mapping.env_vars[value.split("'")[1]]
    output.pop("type"), output.pop("threads")
    return SnowflakeCredentials.from_dict(output)


@pytest.mark.parametrize("passphrase", [PASSPHRASE, None], ids=["encrypted key", "unencrypted key"])
def test_dbt_gets_a_working_key_pair_login_from_the_connection(monkeypatch: pytest.MonkeyPatch,
                                                               passphrase: str | None) -> None:
    key = _connect(monkeypatch, passphrase)
    mapping = dbt_profile_mapping()
    assert mapping.can_claim_connection()
    text = mapping.get_profile_file_contents("heart_rate", target_name="prod")

    assert key not in text and "PRIVATE KEY" not in text  # secrets reach dbt as environment variables only
    assert passphrase is None or passphrase not in text
    output = yaml.safe_load(text)["heart_rate"]["outputs"]["prod"]
    assert {k: output[k] for k in ("type", "account", "user", "role", "warehouse", "database", "schema")} == {
        "type": "snowflake", "account": "xy12345.eu-central-1", "user": "AIRFLOW_DBT", "role": "TRANSFORMER",
        "warehouse": "TRANSFORMING", "database": "HEART_RATE", "schema": "analytics"}
    assert ("private_key_passphrase" in output) == bool(passphrase)

    credentials = _dbt_credentials(mapping, text)
    assert credentials.auth_args()["private_key"]  # dbt-snowflake decrypted the key into DER bytes


def test_the_gate_reads_the_same_connection_with_the_providers_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    _connect(monkeypatch, PASSPHRASE)
    params = SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID)._get_conn_params()
    assert params["user"] == "AIRFLOW_DBT" and params["role"] == "TRANSFORMER"
    assert params["private_key"]  # decrypted with the connection's password as the passphrase


def test_prod_dbt_tasks_use_the_connection_and_local_ones_the_profiles_file() -> None:
    prod = profile_config(HourlyConfig.from_env({"HRS_MODE": "prod", "HRS_LAKE_BUCKET": "lake"}))
    assert isinstance(prod.profile_mapping, SnowflakeKeyPairProfileMapping)
    assert prod.profile_mapping.conn_id == SNOWFLAKE_CONN_ID and prod.target_name == "prod"
    local = profile_config(HourlyConfig.from_env({"HRS_MODE": "local", "HRS_LAKE_BUCKET": "lake"}))
    assert local.profile_mapping is None and local.profiles_yml_filepath.name == "profiles.yml"
