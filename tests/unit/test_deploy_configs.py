"""The deployment files in deploy/ say what the code does: the same lake layout, the grants each writer needs.

Confluent Cloud and AWS cannot run here, so the managed connector's config, the ACL
script and the IAM policies are checked against the project's own contracts, and the
ACL script is run against a recording stand-in for the `confluent` CLI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from include.contracts.lake_layout import DEAD_LETTER_PREFIX, HOUR_FOLDER, MANIFESTS_PREFIX, TOPICS_PREFIX
from include.contracts.paths import PROJECT_ROOT
from include.contracts.settings import DEFAULT_TOPIC
from producer.s3_sink import DEFAULT_FLUSH_SIZE

pytestmark = pytest.mark.unit

DEPLOY = PROJECT_ROOT / "deploy"
SELF_MANAGED = json.loads((DEPLOY / "confluent/s3-sink-self-managed.json").read_text())["config"]
FULLY_MANAGED = json.loads((DEPLOY / "confluent/s3-sink-fully-managed.json").read_text())
SELF_MANAGED_ONLY = ("format.class", "storage.class", "partitioner.class", "key.converter", "value.converter",
                     "partition.duration.ms", "s3.region")


def _joda_to_strftime(path_format: str) -> str:
    """Connect's path.format (Joda, quoted literals) as the strftime format lake_layout uses."""
    converted = re.sub(r"'([^']*)'", lambda match: match.group(1), path_format)
    for joda, strftime in (("YYYY", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H")):
        converted = converted.replace(f"={joda}", f"={strftime}")
    return converted + "/"


@pytest.mark.parametrize("config", [SELF_MANAGED, FULLY_MANAGED], ids=["self-managed", "fully managed"])
def test_both_connector_configs_write_the_project_lake_layout(config: dict[str, str]) -> None:
    assert config["topics"] == DEFAULT_TOPIC
    assert config["topics.dir"] == TOPICS_PREFIX
    assert _joda_to_strftime(config["path.format"]) == HOUR_FOLDER
    assert config["timezone"] == "UTC"
    assert int(config["flush.size"]) == DEFAULT_FLUSH_SIZE


def test_the_fully_managed_config_uses_confluent_clouds_own_keys() -> None:
    assert FULLY_MANAGED["connector.class"] == "S3_SINK"
    assert FULLY_MANAGED["input.data.format"] == FULLY_MANAGED["output.data.format"] == "JSON"
    assert FULLY_MANAGED["kafka.auth.mode"] == "SERVICE_ACCOUNT" and "kafka.api.secret" not in FULLY_MANAGED
    assert FULLY_MANAGED["time.interval"] == "HOURLY"
    assert not [key for key in SELF_MANAGED_ONLY if key in FULLY_MANAGED]
    assert SELF_MANAGED["connector.class"] == "io.confluent.connect.s3.S3SinkConnector"


def test_the_acl_script_covers_the_connectors_group_and_dead_letter_topic(tmp_path: Path) -> None:
    recorder = tmp_path / "confluent"
    recorder.write_text('#!/bin/sh\necho "$*" >> "$ACL_LOG"\n')
    recorder.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "ACL_LOG": str(tmp_path / "acls"),
           "PRODUCER_SA": "sa-producer", "SINK_SA": "sa-sink", "CONNECTOR_SA": "sa-connector"}
    subprocess.run([str(DEPLOY / "confluent/acls.sh")], env=env, check=True, timeout=30)
    acls = (tmp_path / "acls").read_text().splitlines()
    connector = [line for line in acls if "sa-connector" in line]
    assert any("--operations read --prefix --consumer-group connect-lcc" in line for line in connector)
    assert any("create,write" in line and "--prefix --topic dlq-lcc" in line for line in connector)
    assert any(f"read,describe --topic {DEFAULT_TOPIC}" in line for line in connector)
    assert any("--consumer-group hr-s3-sink" in line for line in acls if "sa-sink" in line)
    assert any("idempotent-write" in line for line in acls if "sa-producer" in line)
    assert all(line.startswith("kafka acl create --allow") for line in acls)


def _statements(name: str) -> list[dict]:
    return json.loads((DEPLOY / "aws" / name).read_text())["Statement"]


def test_the_sink_may_upload_in_parts_and_only_where_the_layout_writes() -> None:
    actions = {action for statement in _statements("lake-sink-policy.json") for action in statement["Action"]}
    assert {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
            "s3:ListBucketMultipartUploads"} <= actions
    resources = [resource for statement in _statements("lake-sink-policy.json")
                 for resource in ([statement["Resource"]] if isinstance(statement["Resource"], str)
                                  else statement["Resource"])]
    paths = [resource.split(":::", 1)[1] for resource in resources]
    prefixes = {path.split("/", 1)[1] for path in paths if "/" in path}
    assert prefixes == {f"{area}/{DEFAULT_TOPIC}/*" for area in (TOPICS_PREFIX, MANIFESTS_PREFIX, DEAD_LETTER_PREFIX)}


def test_readers_get_read_and_list_only() -> None:
    actions = {action for statement in _statements("lake-reader-policy.json") for action in statement["Action"]}
    assert actions == {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}


def _env_example() -> dict[str, str]:
    env = {}
    for line in (PROJECT_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value.strip("'")
    return env


def test_env_example_is_a_complete_prod_configuration() -> None:
    from include.contracts.settings import KafkaSettings, OltpSettings
    from include.hourly.config import HourlyConfig

    env = _env_example()
    config = HourlyConfig.from_env(env)
    assert config.mode == "prod" and config.dbt_target == "prod"
    assert KafkaSettings.from_env(env).security_protocol == "SASL_SSL"
    assert OltpSettings.from_env(env).dsn.startswith("postgresql://")
    connections = {name: json.loads(value) for name, value in env.items() if name.startswith("AIRFLOW_CONN_")}
    snowflake = connections["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"]
    assert {"account", "warehouse", "database", "role", "private_key_content"} <= set(snowflake["extra"])
    assert {"AIRFLOW_CONN_AWS_LAKE", "AIRFLOW_CONN_AIRBYTE_DEFAULT", "AIRFLOW_CONN_SMTP_DEFAULT"} <= set(connections)
    variables = {"AIRFLOW_VAR_AIRBYTE_S3_CONNECTION_ID", "AIRFLOW_VAR_AIRBYTE_OLTP_CONNECTION_ID", "ALERT_EMAIL_FROM"}
    assert variables <= set(env)
