"""The first step of every hourly run: wait until the interval's event hour has objects in the lake.

`LakeHourSensor` is the Amazon provider's S3 key sensor, deferrable, reduced to
what this DAG needs and with its imports moved into the methods that run on
the worker: the provider's sensor module imports boto3 (0.55 s here), which
every parse of the DAG file would otherwise pay. It waits for
`topics/<topic>/year=.../hour=HH/*.json*` (plain or gzip), rendered from the data interval's
start, through the Airflow connection `aws_lake` (the embedded S3 server
locally, AWS in prod): one check on the worker, then the provider's
`S3KeyTrigger` in the triggerer, not holding a worker slot. No objects within
the hour means the stream or the sink is down: the sensor times out and
on-call is paged.
"""

from __future__ import annotations

from datetime import timedelta
from fnmatch import fnmatch
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from include.contracts.lake_layout import EXTENSION, HOUR_FOLDER, topic_prefix
from include.contracts.settings import LakeSettings

AWS_CONN_ID = "aws_lake"
WAIT_AT_MOST = timedelta(hours=1)


def hour_objects_pattern(topic: str) -> str:
    """The templated key pattern of the data interval's hour folder: `.json` objects, and the `.json.gz` ones
    Confluent's sink writes with gzip compression."""
    hour_folder = f"{{{{ data_interval_start.in_timezone('UTC').strftime('{HOUR_FOLDER}') }}}}"
    return f"{topic_prefix(topic)}{hour_folder}*{EXTENSION}*"


class LakeHourSensor(BaseSensorOperator):
    """Deferrable wait for at least one S3 object matching a wildcard key (the provider's S3KeyTrigger)."""

    template_fields = ("bucket_name", "bucket_key")
    ui_color = "#7c98b6"

    def __init__(self, *, bucket_name: str, bucket_key: str, aws_conn_id: str = AWS_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bucket_name = bucket_name
        self.bucket_key = bucket_key
        self.aws_conn_id = aws_conn_id

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Refuse a run without a data interval at once (no retries), saying what to do: Airflow 3 gives a
        manual run triggered without a logical date none, and the key's template could only fail obscurely."""
        if context.get("data_interval_start") is None:
            raise AirflowFailException(
                f"run {context.get('run_id')!r} has no data interval, so there is no event hour to wait for: "
                "Airflow 3 gives a run triggered without a logical date none. Trigger the DAG with one "
                f"(`airflow dags trigger {self.dag_id} --logical-date <now, ISO>`: the last whole hour), or "
                "run given hours with `airflow backfill create` (docs/operations.md)")
        super().render_template_fields(context, jinja_env)

    def poke(self, context: Any) -> bool:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        prefix = self.bucket_key.split("*", 1)[0]
        keys = S3Hook(aws_conn_id=self.aws_conn_id).list_keys(bucket_name=self.bucket_name, prefix=prefix)
        found = [key for key in keys if fnmatch(key, self.bucket_key)]
        self.log.info("s3://%s/%s: %d object(s)", self.bucket_name, self.bucket_key, len(found))
        return bool(found)

    def execute(self, context: Any) -> None:
        if self.poke(context):
            return
        from airflow.providers.amazon.aws.triggers.s3 import S3KeyTrigger

        self.defer(
            timeout=timedelta(seconds=self.timeout),
            trigger=S3KeyTrigger(bucket_name=self.bucket_name, bucket_key=self.bucket_key, wildcard_match=True,
                                 aws_conn_id=self.aws_conn_id, poke_interval=self.poke_interval),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        if not event or event.get("status") == "error":
            raise AirflowException(f"waiting for s3://{self.bucket_name}/{self.bucket_key} failed: "
                                   f"{(event or {}).get('message', 'no event from the trigger')}")


def wait_for_hour(lake: LakeSettings) -> LakeHourSensor:
    return LakeHourSensor(
        task_id="wait_for_hour",
        bucket_name=lake.bucket,
        bucket_key=hour_objects_pattern(lake.topic),
        poke_interval=60,
        timeout=WAIT_AT_MOST.total_seconds(),
        doc_md="Waits (deferred) for the interval's event-hour folder in the lake to hold at least one object.",
    )
