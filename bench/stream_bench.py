"""Stream benchmarks, measured side by side in one run against the local services.

    make bench-stream            (starts the embedded services if needed)
    python bench/stream_bench.py --events 300000 --help

Prints events/s of: the encode-only ceiling (generate + serialise, no broker),
the producer in simulate mode, the original flush-after-every-message pattern;
the sink against a bare consume of the same topic; peak memory of the producer
and sink processes; and bytes per event for JSON, gzip JSON, Avro (schemaless
with a registry header, and container files) and Parquet, with a chart in
docs/bench/bytes_per_event.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import itertools
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch  # noqa: E402
from dev.embedded.layout import apply_environment  # noqa: E402
from include.contracts.heart_rate_event import encode  # noqa: E402
from include.contracts.settings import KafkaSettings, LakeSettings  # noqa: E402
from producer.heart_rate_producer import PRODUCER_TUNING, Message, batch_messages, ensure_topic, publish  # noqa: E402
from producer.oltp import UserProfile  # noqa: E402
from producer.readings import ReadingGenerator  # noqa: E402
from producer.synthetic import make_activities, make_users  # noqa: E402

END = 1_790_000_000 - 1_790_000_000 % 3600
CHART = ROOT / "docs" / "bench" / "bytes_per_event.png"
SIMULATED = (END - 48 * 3600, END, 2000)
"""start, end and sessions an hour of the simulated stream"""


def _generator(seed: int) -> ReadingGenerator:
    users = make_users(1000, seed)
    profiles = [UserProfile(u.user_id, u.sex, 40.0, u.weight / (u.height / 100) ** 2, u.blood_type,
                            u.address_country_code) for u in users]
    return ReadingGenerator(profiles, make_activities(seed), seed)


def readings(count: int, seed: int = 1) -> Iterator[tuple]:
    """The simulate mode's readings (generated on the fly, as the producer does), cut at `count`."""
    return itertools.islice(_generator(seed).readings(*SIMULATED), count)


def messages(count: int, seed: int = 1) -> Iterator[Message]:
    """The simulate mode's Kafka messages, values and keys formatted as the producer does, cut at `count`."""
    return itertools.islice(batch_messages(_generator(seed).batches(*SIMULATED)), count)


def encode_ceiling(count: int) -> float:
    """Generate and serialise, no broker: the most any producer of this stream could do."""
    started = time.perf_counter()
    n = sum(1 for _ in messages(count, seed=2))
    return n / (time.perf_counter() - started)


def produce_rate(kafka: KafkaSettings, topic: str, count: int, flush_each: bool = False) -> float:
    """Generate, serialise and produce `count` readings (what `produce --mode simulate` does)."""
    from confluent_kafka import Producer

    producer = Producer({**kafka.client_config(), **PRODUCER_TUNING})
    stats = publish(producer, topic, messages(count, seed=2), flush_each=flush_each)
    assert stats.delivered == count, stats
    return stats.produced / stats.seconds


def _consume_all(kafka: KafkaSettings, topic: str, group: str, handle, finish=None) -> tuple[int, float]:
    """Consume the whole topic, then `finish`; seconds from the first message until finished."""
    from confluent_kafka import Consumer, KafkaError

    consumer = Consumer({**kafka.consumer_config(group), "enable.partition.eof": True})
    consumer.subscribe([topic])
    count, first, finished = 0, None, set()
    try:
        while len(finished) < 6:
            for message in consumer.consume(num_messages=2000, timeout=0.5):
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        finished.add(message.partition())
                    continue
                first = first or time.perf_counter()
                handle(consumer, message)
                count += 1
        if finish is not None:
            finish()
        return count, time.perf_counter() - (first or time.perf_counter())
    finally:
        consumer.close()


def bare_consume_rate(kafka: KafkaSettings, topic: str) -> float:
    count, seconds = _consume_all(kafka, topic, f"bare-{uuid.uuid4().hex[:6]}", lambda c, m: m.value())
    return count / seconds


def sink_rate(kafka: KafkaSettings, topic: str, s3: Any, bucket: str) -> float:
    """The sink's own loop (`s3_sink.run`) over the whole topic.

    Timed from its first message to its last record added, plus the final flush
    (writes and commits of the last partial objects); the idle wait before that
    final flush is not the sink's work and is left out.
    """
    from confluent_kafka import Consumer, TopicPartition

    from producer.s3_sink import LakeWriter, run, write_once

    s3.create_bucket(Bucket=bucket)
    consumer = Consumer({**kafka.consumer_config(f"sink-{uuid.uuid4().hex[:6]}"),
                         "enable.partition.eof": True})
    marks: dict[str, float] = {}

    def commit(partition: int, offset: int) -> None:
        consumer.commit(offsets=[TopicPartition(topic, partition, offset)], asynchronous=False)

    writer = LakeWriter(topic, write_once(s3, bucket), commit, background=True)
    add_messages, flush_all = writer.add_messages, writer.flush_all

    def timed_add_messages(*args) -> None:
        marks.setdefault("first_message", time.perf_counter())
        add_messages(*args)
        marks["last_added"] = time.perf_counter()

    def timed_flush_all() -> None:
        started = time.perf_counter()
        flush_all()
        marks["final_flush"] = time.perf_counter() - started

    writer.add_messages = timed_add_messages  # type: ignore[method-assign]
    writer.flush_all = timed_flush_all  # type: ignore[method-assign]
    try:
        stats = run(consumer, writer, threading.Event(), until_idle_seconds=1.0)
    finally:
        consumer.close()
    return stats.records / (marks["last_added"] - marks["first_message"] + marks["final_flush"])


@contextmanager
def in_memory_s3() -> Iterator[Any]:
    """A plain moto S3 server (in memory, no request recording) on a free port, for as long as the block runs.

    The sink's S3 in production is a remote service, not a process on this laptop's cores; `make up`'s S3
    also records every request to disk (the local lake's durability), ~20 ms of this machine's CPU per
    2 MB object. Against this server the figure is the sink's own work; the local lake's is printed too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s3 = dataclasses.replace(LakeSettings.from_env(), endpoint_url=f"http://127.0.0.1:{port}").s3_client()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                s3.list_buckets()
                break
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"moto.server did not start on port {port}") from None
                time.sleep(0.2)
        yield s3
    finally:
        server.terminate()
        server.wait(10)


class DiscardingS3:
    """An S3 client that keeps nothing: the sink's own work, without any S3 server's CPU on this machine."""

    def create_bucket(self, **_: Any) -> None:
        pass

    def put_object(self, **_: Any) -> None:
        pass


def sink_against_bare(kafka: KafkaSettings, topic: str, runs: int) -> dict[str, tuple[float, float]]:
    """Median events/s and median ratio to bare consume, of `runs` rounds each measuring bare consume, the sink
    with its writes discarded, into an in-memory S3 and into the local lake, back to back on the same topic.

    Rounds rather than best-ofs: a bare consume of the same topic here measures 160k or 370k events/s from one
    run to the next (2 cores shared with the broker and S3), so each sink run is set against the bare consume
    measured just before it."""
    local_lake = LakeSettings.from_env().s3_client()
    figures: dict[str, list[tuple[float, float]]] = {"bare": [], "none": [], "s3": [], "local": []}
    with in_memory_s3() as s3:
        for run in range(runs):
            bare = bare_consume_rate(kafka, topic)
            figures["bare"].append((bare, 1.0))
            for name, client in (("none", DiscardingS3()), ("s3", s3), ("local", local_lake)):
                rate = sink_rate(kafka, topic, client, f"{topic}-{name}-{run}")
                figures[name].append((rate, rate / bare))
    return {name: (statistics.median(r for r, _ in values), statistics.median(q for _, q in values))
            for name, values in figures.items()}


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    watcher = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, watcher.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.05)
    output = process.stdout.read()
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{output}")
    return peak / 2**20, output.strip().splitlines()[-1]


def sizes(data: list[tuple]) -> dict[str, float]:
    """Bytes per event of one 10,000-event lake object in each encoding."""
    import fastavro
    import pyarrow as pa
    import pyarrow.parquet as pq

    sample = data[:10_000]
    lines = "\n".join(encode(*r) for r in sample).encode() + b"\n"
    records = [{"event_id": r[0], "user_id": r[1], "heart_rate": r[2], "timestamp": r[3],
                "meta": {"activity_id": r[4], "location": {"latitude": r[5], "longitude": r[6]}}} for r in sample]
    schema = fastavro.parse_schema({
        "type": "record", "name": "HeartRateEvent", "fields": [
            {"name": "event_id", "type": "string"}, {"name": "user_id", "type": "int"},
            {"name": "heart_rate", "type": "int"}, {"name": "timestamp", "type": "long"},
            {"name": "meta", "type": {"type": "record", "name": "Meta", "fields": [
                {"name": "activity_id", "type": "int"},
                {"name": "location", "type": {"type": "record", "name": "Location", "fields": [
                    {"name": "latitude", "type": "double"}, {"name": "longitude", "type": "double"}]}}]}}]})
    schemaless = 0
    for record in records:
        buffer = io.BytesIO()
        buffer.write(b"\x00" + struct.pack(">I", 1))  # Confluent wire format: magic byte + schema id
        fastavro.schemaless_writer(buffer, schema, record)
        schemaless += buffer.tell()
    container = {}
    for codec in ("null", "deflate"):
        buffer = io.BytesIO()
        fastavro.writer(buffer, schema, records, codec=codec)
        container[codec] = buffer.tell()
    table = pa.table({
        "event_id": [r[0] for r in sample], "user_id": pa.array([r[1] for r in sample], pa.int32()),
        "heart_rate": pa.array([r[2] for r in sample], pa.int16()), "timestamp": [r[3] for r in sample],
        "activity_id": pa.array([r[4] for r in sample], pa.int32()),
        "latitude": [r[5] for r in sample], "longitude": [r[6] for r in sample],
    })
    parquet = io.BytesIO()
    pq.write_table(table, parquet, compression="zstd")
    n = len(sample)
    return {
        "JSON": len(lines) / n,
        "JSON gzip": len(gzip.compress(lines)) / n,
        "Avro schemaless\n+ registry header": schemaless / n,
        "Avro container": container["null"] / n,
        "Avro container\ndeflate": container["deflate"] / n,
        "Parquet zstd": parquet.tell() / n,
    }


def chart(byte_sizes: dict[str, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4))
    bars = ax.bar(list(byte_sizes), list(byte_sizes.values()), color="#c0392b")
    ax.bar_label(bars, fmt="%.1f")
    ax.set_ylabel("bytes per event")
    ax.set_title("One 10,000-event lake object, bytes per heart-rate event")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000, help="events for the producer and sink runs")
    parser.add_argument("--flush-each-events", type=int, default=3_000, help="events for the flush-per-message run")
    parser.add_argument("--runs", type=int, default=3,
                        help="rounds of bare consume and sink runs (medians are shown)")
    args = parser.parse_args()
    apply_environment()
    kafka = KafkaSettings.from_env()
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    topics = [topic, f"{topic}-flush", f"{topic}-rss"]
    with scratch([f"{topic}-local-{run}" for run in range(args.runs)] + [f"{topic}-rss"], topics):
        ensure_topic(kafka.client_config(), topic)
        ceiling = encode_ceiling(args.events)
        producer = produce_rate(kafka, topic, args.events)
        flush_each = produce_rate(kafka, f"{topic}-flush", args.flush_each_events, flush_each=True)
        sinks = sink_against_bare(kafka, topic, args.runs)

        LakeSettings.from_env().s3_client().create_bucket(Bucket=f"{topic}-rss")
        env = {**os.environ, "HRS_TOPIC": f"{topic}-rss", "HRS_LAKE_BUCKET": f"{topic}-rss"}
        subprocess.run([sys.executable, "-m", "producer", "seed-oltp"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        producer_mb, _ = peak_rss_mb([sys.executable, "-m", "producer", "produce", "--hours", "6",
                                      "--sessions-per-user-hour", "0.25"], env)
        sink_mb, _ = peak_rss_mb([sys.executable, "-m", "producer", "sink", "--until-idle", "2"], env)

    print(f"events: {args.events:,} (flush-per-message run: {args.flush_each_events:,}); "
          f"bare consume and sinks: medians of {args.runs} rounds")
    print(f"encode-only ceiling        {ceiling:>12,.0f} events/s")
    print(f"producer (simulate mode)   {producer:>12,.0f} events/s   {producer / ceiling:5.0%} of the ceiling")
    print(f"flush after every message  {flush_each:>12,.0f} events/s   "
          f"producer is {producer / flush_each:,.0f}x faster")
    (bare, _), (sink, ratio), (sink_local, ratio_local) = sinks["bare"], sinks["s3"], sinks["local"]
    sink_none, ratio_none = sinks["none"]
    print(f"bare consume               {bare:>12,.0f} events/s")
    print(f"sink, writes discarded     {sink_none:>12,.0f} events/s   {ratio_none:5.0%} of bare consume"
          "   (its own work: validation, batching, commits)")
    print(f"sink to S3                 {sink:>12,.0f} events/s   {ratio:5.0%} of bare consume"
          "   (S3: an in-memory moto server)")
    print(f"sink to the local lake     {sink_local:>12,.0f} events/s   {ratio_local:5.0%} of bare consume"
          "   (make up's S3: moto recording every request to disk)")
    print(f"peak memory: producer {producer_mb:.0f} MiB, sink {sink_mb:.0f} MiB")
    byte_sizes = sizes(list(readings(10_000)))
    for name, value in byte_sizes.items():
        label = name.replace("\n", " ")
        print(f"{label:<36} {value:7.1f} bytes/event  {value / byte_sizes['JSON']:5.0%} of JSON")
    chart(byte_sizes)
    print(f"chart: {CHART.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
