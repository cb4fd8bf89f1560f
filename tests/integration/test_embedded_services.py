"""The embedded services are the real thing: Kafka, S3, PostgreSQL with logical decoding, DuckDB."""

from __future__ import annotations

import time
import uuid

import boto3
import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from dev.embedded.layout import EmbeddedLayout
from dev.embedded.services import service_specs
from dev.embedded.supervisor import State, start, status
from include.contracts.settings import KafkaSettings, LakeSettings, OltpSettings, WarehouseSettings
from include.warehouse import reader, writer

pytestmark = pytest.mark.integration


def test_kafka_produce_consume_with_a_committed_group_offset(embedded: EmbeddedLayout) -> None:
    kafka = KafkaSettings.from_env().client_config()
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(kafka)  # keep a reference: the futures die with the client
    for future in admin.create_topics([NewTopic(topic, num_partitions=3)]).values():
        future.result(timeout=10)

    delivered = []
    producer = Producer({**kafka, "enable.idempotence": True, "compression.type": "zstd"})
    producer.produce(topic, key=b"10001", value=b'{"heart_rate": 72}',
                     on_delivery=lambda err, msg: delivered.append((err, msg.partition(), msg.offset())))
    assert producer.flush(10) == 0
    assert delivered and delivered[0][0] is None

    consumer = Consumer(KafkaSettings.from_env().consumer_config(group_id=f"g-{topic}"))
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            candidate = consumer.poll(0.5)
            if candidate is not None and candidate.error() is None:
                message = candidate
        assert message is not None, "no message consumed within 30 s"
        assert (message.key(), message.value()) == (b"10001", b'{"heart_rate": 72}')
        consumer.commit(message=message, asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, message.partition())], timeout=10)
        assert committed[0].offset == message.offset() + 1
    finally:
        consumer.close()


def test_s3_put_and_get_in_the_lake_bucket(embedded: EmbeddedLayout) -> None:
    bucket = LakeSettings.from_env().bucket
    s3 = boto3.client("s3")  # endpoint, keys and region come from the environment, as in real use
    key = "topics/smoke/year=2026/month=01/day=01/hour=00/smoke+0+0000000000.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"a": 1}\n')
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b'{"a": 1}\n'


def test_postgres_logical_replication_with_pgoutput(embedded: EmbeddedLayout) -> None:
    dsn = OltpSettings.from_env().dsn
    slot = f"smoke_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        assert conn.execute("show wal_level").fetchone() == ("logical",)
        conn.execute("create table if not exists smoke (id int primary key, note text)")
        conn.execute(f"create publication {slot}_pub for table smoke")
        conn.execute("select pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
        conn.execute("insert into smoke values (1, 'first')")
        changes = conn.execute(
            "select count(*) from pg_logical_slot_peek_binary_changes(%s, null, null, "
            "'proto_version', '1', 'publication_names', %s)",
            (slot, f"{slot}_pub"),
        ).fetchone()[0]
        # BEGIN, RELATION, INSERT, COMMIT at least.
        assert changes >= 4
        conn.execute("select pg_drop_replication_slot(%s)", (slot,))
        conn.execute(f"drop publication {slot}_pub")
        conn.execute("drop table smoke")


def test_duckdb_warehouse_write_then_read(embedded: EmbeddedLayout) -> None:
    path = WarehouseSettings.from_env().warehouse_path
    with writer(path) as conn:
        conn.execute("create or replace table smoke as select range as n from range(10)")
    with reader(path) as conn:
        assert conn.execute("select sum(n) from smoke").fetchone() == (45,)


def test_up_twice_is_harmless(embedded: EmbeddedLayout, capsys: pytest.CaptureFixture[str]) -> None:
    specs = service_specs(embedded)
    before = {name: status(spec).pid for name, spec in specs.items()}
    for spec in specs.values():
        start(spec)
    out = capsys.readouterr().out
    assert out.count("already running") == 3
    after = {name: status(spec) for name, spec in specs.items()}
    assert {name: report.pid for name, report in after.items()} == before
    assert all(report.state is State.RUNNING for report in after.values())
