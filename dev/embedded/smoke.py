"""A quick proof that each embedded service does real work, for `make demo` and for users.

Each check does what the pipeline will do with the service (Kafka round trip
through a consumer group, an S3 object, a pgoutput slot, a DuckDB query) and
leaves nothing behind.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from include.contracts.settings import KafkaSettings, LakeSettings, OltpSettings, WarehouseSettings
from include.warehouse import reader, writer


def check_kafka() -> str:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    kafka = KafkaSettings.from_env()
    config = kafka.client_config()
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(config)
    for future in admin.create_topics([NewTopic(topic, num_partitions=1)]).values():
        future.result(timeout=10)
    try:
        producer = Producer(config)
        producer.produce(topic, key=b"smoke", value=b"ping")
        if producer.flush(10):
            raise RuntimeError("message not delivered within 10 s")
        consumer = Consumer(kafka.consumer_config(group_id=topic))
        try:
            consumer.subscribe([topic])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is not None and not message.error():
                    consumer.commit(message=message, asynchronous=False)
                    return f"produced and consumed 1 message on {topic}, offset committed"
            raise RuntimeError("no message consumed within 30 s")
        finally:
            consumer.close()
    finally:
        admin.delete_topics([topic])


def check_s3() -> str:
    lake = LakeSettings.from_env()
    s3 = lake.s3_client()
    key = f"_smoke/{uuid.uuid4().hex}.txt"
    s3.put_object(Bucket=lake.bucket, Key=key, Body=b"ping")
    try:
        if s3.get_object(Bucket=lake.bucket, Key=key)["Body"].read() != b"ping":
            raise RuntimeError("object read back differs")
    finally:
        s3.delete_object(Bucket=lake.bucket, Key=key)
    return f"put and got s3://{lake.bucket}/{key}"


def check_postgres() -> str:
    import psycopg

    slot = f"smoke_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(OltpSettings.from_env().dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute("select 1")
        wal_level = conn.execute("show wal_level").fetchone()[0]
        if wal_level != "logical":
            raise RuntimeError(f"wal_level is {wal_level}, CDC needs logical")
        conn.execute("select pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
        conn.execute("select pg_drop_replication_slot(%s)", (slot,))
    return "select 1, wal_level=logical, pgoutput slot created and dropped"


def check_warehouse() -> str:
    path = WarehouseSettings.from_env().warehouse_path
    with writer(path) as conn:
        conn.execute("create schema if not exists _smoke")
        conn.execute("create or replace table _smoke.ping as select 1 as ok")
    with reader(path) as conn:
        conn.execute("select ok from _smoke.ping").fetchone()
    with writer(path) as conn:
        conn.execute("drop schema _smoke cascade")
    return f"DuckDB write then read at {path}"


CHECKS: dict[str, Callable[[], str]] = {
    "kafka": check_kafka,
    "s3": check_s3,
    "postgres": check_postgres,
    "warehouse": check_warehouse,
}


def run_all(say: Callable[[str], None] = print) -> bool:
    """Run every check against the services of the environment (`make env`), one line each; True when all passed."""
    ok = True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            detail = check()
            say(f"  ok   {name:<9} {detail} ({time.monotonic() - started:.1f} s)")
        except Exception as error:  # noqa: BLE001 - report every failing service, not just the first
            ok = False
            say(f"  FAIL {name:<9} {type(error).__name__}: {error}")
    return ok
