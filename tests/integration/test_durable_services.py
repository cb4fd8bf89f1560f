"""Local data survives `make down` / `make up`: the lake (both broker storage settings) and, with
HRS_KAFKA_STORAGE=s3, the broker's log (whose writes the replay compacts like any other). Only `make clean`
deletes data; what a delete undid is not replayed again."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest
from confluent_kafka import Consumer, Producer

from dev.embedded.layout import LOCAL_AWS_KEY, EmbeddedLayout
from dev.embedded.s3_store import RECORDING
from dev.embedded.services import start_all, stop_all
from tests.conftest import free_port

pytestmark = pytest.mark.integration
SERVICES = ("s3", "kafka")  # PostgreSQL keeps its data directory anyway


def _layout(folder: Path, storage: str) -> EmbeddedLayout:
    return EmbeddedLayout.from_env({
        "HRS_LOCAL_DIR": str(folder), "HRS_KAFKA_STORAGE": storage, "HRS_S3_PORT": str(free_port()),
        "HRS_PG_PORT": str(free_port()), "HRS_KAFKA_PORT": str(free_port()),
    })


def _s3(layout: EmbeddedLayout):
    return boto3.client("s3", endpoint_url=layout.s3_endpoint_url, aws_access_key_id=LOCAL_AWS_KEY,
                        aws_secret_access_key=LOCAL_AWS_KEY, region_name="us-east-1")


def _objects(layout: EmbeddedLayout, bucket: str) -> dict[str, bytes]:
    s3 = _s3(layout)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed}


def _consume_all(layout: EmbeddedLayout, topic: str, expected: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": layout.kafka_bootstrap, "group.id": f"check-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values: list[bytes] = []
    for _ in range(60):
        values += [message.value() for message in consumer.consume(500, timeout=1) if message.error() is None]
        if len(values) >= expected:
            break
    consumer.close()
    return values


@pytest.mark.parametrize("storage", ["memory", "s3"])
def test_the_lake_and_the_s3_broker_log_survive_down_and_up(tmp_path: Path, storage: str) -> None:
    layout = _layout(tmp_path / "local", storage)
    say = lambda _: None  # noqa: E731
    start_all(layout, names=SERVICES, say=say)
    try:
        s3 = _s3(layout)
        s3.put_object(Bucket=layout.lake_bucket, Key="topics/t/a.json", Body=b'{"a": 1}\n')
        s3.put_object(Bucket=layout.lake_bucket, Key="topics/t/b.json.gz", Body=bytes(range(256)) * 10,
                      IfNoneMatch="*")
        s3.put_object(Bucket=layout.lake_bucket, Key="topics/t/gone.json", Body=b"x")
        s3.delete_object(Bucket=layout.lake_bucket, Key="topics/t/gone.json")
        s3.create_bucket(Bucket="another")
        s3.put_object(Bucket="another", Key="k", Body=b"v")
        s3.create_bucket(Bucket="scratch")  # a benchmark's bucket, emptied and deleted
        for n in range(3):
            s3.put_object(Bucket="scratch", Key=f"topics/t/part={n}.json", Body=b"x" * 1000)
        s3.delete_objects(Bucket="scratch", Delete={"Objects": [{"Key": f"topics/t/part={n}.json"}
                                                                for n in range(3)]})
        s3.delete_bucket(Bucket="scratch")
        topic = f"durable-{uuid.uuid4().hex[:6]}"
        producer = Producer({"bootstrap.servers": layout.kafka_bootstrap})
        for n in range(200):
            producer.produce(topic, key=str(n % 5).encode(), value=f"event {n}".encode())
        assert producer.flush(30) == 0
        lake, other = _objects(layout, layout.lake_bucket), _objects(layout, "another")
    finally:
        stop_all(layout, names=SERVICES, say=say)

    start_all(layout, names=SERVICES, say=say)  # `make up` again
    try:
        # replayed and recorded again, less what the deletes undid
        recording = (layout.data_dir("s3") / RECORDING).read_text()
        assert "gone.json" not in recording and "scratch" not in recording and "a.json" in recording
        assert "scratch" not in [bucket["Name"] for bucket in _s3(layout).list_buckets()["Buckets"]]
        assert _objects(layout, layout.lake_bucket) == lake
        assert set(lake) == {"topics/t/a.json", "topics/t/b.json.gz"}
        assert _objects(layout, "another") == other
        if storage == "s3":
            assert sorted(_consume_all(layout, topic, 200)) == sorted(f"event {n}".encode() for n in range(200))
    finally:
        stop_all(layout, names=SERVICES, say=say)
