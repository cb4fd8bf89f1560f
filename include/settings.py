"""The project's configuration: one typed object built once from the environment.

`local` mode (the default) falls back on the embedded services' settings, the
same values `make env` prints; `prod` mode requires every connection setting and
names the missing ones. Standard library only, so DAG files may read it at parse
time without cost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from include.embedded.layout import DEFAULT_TOPIC, EmbeddedLayout

MODES = ("local", "prod")
DEFAULT_CDC_SLOT = "airbyte_slot"
PROD_REQUIRED = ("KAFKA_BOOTSTRAP_SERVERS", "HRS_LAKE_BUCKET", "OLTP_DSN")


# Tansu assigns a new consumer group's partitions after a few heartbeats: with
# librdkafka's default 3 s heartbeat that is ~23 s, with 0.5 s about 3 s.
CONSUMER_GROUP_TUNING = {"heartbeat.interval.ms": 500, "session.timeout.ms": 6000}


class SettingsError(ValueError):
    """The environment does not describe a usable configuration."""


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    topic: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None

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
        """A consumer that commits by hand, starts at the earliest offset and joins fast."""
        return {
            **self.client_config(),
            **CONSUMER_GROUP_TUNING,
            "group.id": group_id,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }


@dataclass(frozen=True)
class Settings:
    mode: str
    kafka: KafkaSettings
    lake_bucket: str
    s3_endpoint_url: str | None
    """None in prod: boto3 then talks to AWS itself."""
    aws_region: str
    aws_credentials: tuple[str, str] | None
    """Explicit keys (the local dummies, or AWS_ACCESS_KEY_ID/SECRET); None lets boto3 find its own."""
    oltp_dsn: str
    warehouse_path: Path
    """The local DuckDB warehouse (unused in prod, where Snowflake is the warehouse)."""
    dashboard_dir: Path
    """Where the local serving refresh writes the static dashboard."""
    cdc_slot: str = DEFAULT_CDC_SLOT
    """The OLTP's pgoutput replication slot the embedded CDC loader reads (Airbyte's, by default)."""

    @property
    def is_local(self) -> bool:
        return self.mode == "local"

    def s3_client(self) -> Any:
        """A boto3 S3 client for the lake: the local server in local mode, AWS in prod."""
        import boto3

        options: dict[str, Any] = {"region_name": self.aws_region}
        if self.s3_endpoint_url:
            options["endpoint_url"] = self.s3_endpoint_url
        if self.aws_credentials:
            options["aws_access_key_id"], options["aws_secret_access_key"] = self.aws_credentials
        return boto3.client("s3", **options)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = env.get("HRS_MODE", "local") or "local"
        if mode not in MODES:
            raise SettingsError(f"HRS_MODE={mode!r} is not a mode: use 'local' (default) or 'prod'.")
        if mode == "local":
            # Explicit variables win; the embedded layout fills in the rest.
            env = {**EmbeddedLayout.from_env(env).environment(), **env}
        else:
            missing = [name for name in PROD_REQUIRED if not env.get(name)]
            if missing:
                raise SettingsError(
                    f"HRS_MODE=prod needs {', '.join(missing)}; see .env.example for each setting."
                )
        security = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
        if security.startswith("SASL") and not env.get("KAFKA_SASL_USERNAME"):
            raise SettingsError(
                f"KAFKA_SECURITY_PROTOCOL={security} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD "
                "(a Confluent Cloud API key and secret)."
            )
        return cls(
            mode=mode,
            kafka=KafkaSettings(
                bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
                topic=env.get("HRS_TOPIC") or DEFAULT_TOPIC,
                security_protocol=security,
                sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or ("PLAIN" if security.startswith("SASL") else None),
                sasl_username=env.get("KAFKA_SASL_USERNAME"),
                sasl_password=env.get("KAFKA_SASL_PASSWORD"),
            ),
            lake_bucket=env["HRS_LAKE_BUCKET"],
            s3_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            aws_region=env.get("AWS_DEFAULT_REGION") or "us-east-1",
            aws_credentials=(
                (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
                if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY") else None
            ),
            oltp_dsn=env["OLTP_DSN"],
            warehouse_path=Path(env.get("HRS_WAREHOUSE_PATH") or "warehouse.duckdb"),
            dashboard_dir=Path(env.get("HRS_DASHBOARD_DIR") or "dashboard"),
            cdc_slot=env.get("HRS_CDC_SLOT") or DEFAULT_CDC_SLOT,
        )
