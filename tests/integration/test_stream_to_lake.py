"""Producer -> Tansu -> sink -> S3, against the real services: every event lands exactly once."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from include.contracts.lake_layout import parse_key
from producer import oltp
from producer.readings import ReadingGenerator
from tests.integration.stream_fixtures import Stream, event_ids, lake_lines, lake_objects

pytestmark = pytest.mark.integration

END = "2026-03-01T12:00:00+00:00"


def _produce(stream: Stream, hours: float, seed: int = 42) -> int:
    result = stream.cli("produce", "--hours", str(hours), "--end", END, "--seed", str(seed),
                        "--sessions-per-user-hour", "0.3")
    assert result.returncode == 0, result.stdout + result.stderr
    # "produce: 12,345 produced in ..." -> 12345
    summary = next(line for line in result.stdout.splitlines() if " produced in " in line)
    return int(summary.split()[1].replace(",", ""))


def test_every_produced_event_lands_once_in_its_event_hour(stream: Stream, seeded_oltp: str) -> None:
    produced = _produce(stream, hours=2)
    assert produced > 1000

    sink = stream.cli("sink", "--group", stream.group, "--until-idle", "2", "--flush-size", "2000")
    assert sink.returncode == 0, sink.stdout + sink.stderr

    lines = lake_lines(stream.bucket)  # also checks every line sits in its event hour's folder
    ids = event_ids(lines)
    assert len(ids) == produced
    assert len(set(ids)) == produced

    # They are exactly the readings the generator makes for that seed and range.
    with oltp.connect(seeded_oltp) as conn:
        profiles = oltp.load_profiles(conn, datetime.now(tz=UTC).date())
        generator = ReadingGenerator(profiles, oltp.load_activities(conn), seed=42)
    end = int(datetime.fromisoformat(END).timestamp())
    # The CLI's rate: users in the OLTP now (other tests add and delete some) x sessions per user-hour.
    expected = {r[0] for r in generator.readings(end - 2 * 3600, end, sessions_per_hour=0.3 * len(profiles))}
    assert set(ids) == expected


def test_sink_killed_at_several_points_leaves_the_same_lake_as_an_uninterrupted_run(
        stream: Stream, seeded_oltp: str) -> None:
    _produce(stream, hours=3)
    s3 = boto3.client("s3")
    crash_bucket = f"{stream.bucket}-crash"
    s3.create_bucket(Bucket=crash_bucket)

    reference = stream.start_sink("--until-idle", "2", "--flush-size", "150")
    assert reference.wait(300) == 0, reference.stdout.read()
    expected = lake_objects(stream.bucket)
    assert len(expected) > 100

    stream.group += "-crash"
    kills = 0
    for threshold in (10, 40, 80):
        sink = stream.start_sink("--flush-size", "150", bucket=crash_bucket)
        deadline = time.monotonic() + 120
        while sink.poll() is None and time.monotonic() < deadline:
            if len(s3.list_objects_v2(Bucket=crash_bucket, Prefix="topics/").get("Contents", [])) >= threshold:
                sink.send_signal(signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.02)
        sink.wait(30)
    assert kills >= 2, "the sink finished before it could be killed: the test proved nothing"

    final = stream.start_sink("--until-idle", "2", "--flush-size", "150", bucket=crash_bucket)
    assert final.wait(300) == 0, final.stdout.read()
    assert lake_objects(crash_bucket) == expected


def test_original_format_and_malformed_messages(stream: Stream) -> None:
    from confluent_kafka import Producer

    from include.contracts.settings import KafkaSettings

    hour = int(datetime(2026, 2, 1, 10, tzinfo=UTC).timestamp())
    original = [
        f'{{"user_id": "10001", "heart_rate": "{70 + i}", "timestamp": "{hour + 60 * i}", "meta": '
        f'{{"activity_id": "20001", "location": {{"latitude": "1.5", "longitude": "2.5"}}}}}}'.encode()
        for i in range(3)
    ]
    bad = [b"\x00\x01 not json", b'{"user_id": 10001, "heart_rate": 80}']
    producer = Producer(KafkaSettings.from_env().client_config())
    for value in original + bad:
        producer.produce(stream.topic, value, b"10001")
    assert producer.flush(10) == 0

    sink = stream.cli("sink", "--group", stream.group, "--until-idle", "2")
    assert sink.returncode == 0, sink.stdout + sink.stderr
    assert "2 dead letters" in sink.stdout

    lines = lake_lines(stream.bucket)
    assert sorted(line for _, line in lines) == sorted(original)
    assert all("/year=2026/month=02/day=01/hour=10/" in key for key, _ in lines)
    letters = lake_objects(stream.bucket, prefix="dead-letter/")
    assert len(letters) == 2
    # In the hour folder of their Kafka timestamp (the producer left it at the time of sending: now).
    now = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
    assert {parse_key(key).hour for key in letters} <= {now, now - timedelta(hours=1)}
    assert all(parse_key(key).area == "dead-letter" for key in letters)
