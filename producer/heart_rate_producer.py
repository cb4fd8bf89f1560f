"""Publish heart-rate readings to Kafka: batched, compressed, idempotent, counted.

Follows confluent-kafka's own examples: `produce()` then `poll(0)` so delivery
callbacks run, callbacks count instead of logging each message, `BufferError`
is answered by polling, and `flush()` happens once at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from include.contracts.heart_rate_event import encode
from producer.readings import Reading, ReadingBatch

if TYPE_CHECKING:
    from confluent_kafka import KafkaError, Message, Producer

TOPIC_PARTITIONS = 6
TOPIC_RETENTION_MS = 7 * 24 * 3600 * 1000
REACH_TIMEOUT_SECONDS = 10.0
FLUSH_TIMEOUT_SECONDS = 60.0
PROGRESS_EVERY_SECONDS = 5.0

PRODUCER_TUNING = {
    # Exactly one copy per event even when a batch is retried after a broker hiccup.
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "zstd",
    "linger.ms": 50,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
    # Give up on a message after 2 minutes; it is then counted as failed, never silently lost.
    "delivery.timeout.ms": 120_000,
}


class KafkaUnavailable(RuntimeError):
    """The Kafka cluster cannot be reached or refused an operation; the message names the fix."""


def check_reachable(config: dict[str, object], timeout: float = REACH_TIMEOUT_SECONDS) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({**config, "log_level": 0})
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as error:
        metadata = None
        detail = str(error.args[0]) if error.args else str(error)
    else:
        detail = "no brokers in metadata"
    if metadata is None or not metadata.brokers:
        raise KafkaUnavailable(
            f"cannot reach Kafka at {config.get('bootstrap.servers')} within {timeout:.0f} s ({detail}). "
            "Check KAFKA_BOOTSTRAP_SERVERS (and SASL settings), or start the local services with `make up`."
        )


def ensure_topic(config: dict[str, object], topic: str, partitions: int = TOPIC_PARTITIONS,
                 retention_ms: int = TOPIC_RETENTION_MS) -> bool:
    """Create the topic when it does not exist; True when it was created."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(config)
    if topic in admin.list_topics(timeout=REACH_TIMEOUT_SECONDS).topics:
        return False
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, config={"retention.ms": str(retention_ms)})]
    )
    try:
        futures[topic].result(timeout=REACH_TIMEOUT_SECONDS)
    except KafkaException as error:
        if error.args and error.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise KafkaUnavailable(f"cannot create topic {topic!r}: {error}") from None
    return True


@dataclass
class DeliveryReport:
    """Counts what the broker acknowledged and what it did not."""

    delivered: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def __call__(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.failed += 1
            name = error.name()
            self.errors[name] = self.errors.get(name, 0) + 1


@dataclass
class PublishStats:
    produced: int
    delivered: int
    failed: int
    undelivered: int
    """Still queued when the flush timed out: neither confirmed nor failed."""
    seconds: float
    errors: dict[str, int]

    @property
    def rate(self) -> float:
        return self.produced / self.seconds if self.seconds else 0.0


Message = tuple[str, str, int]
"""(value: the event's typed JSON, key: its user id, its event time in epoch seconds)"""

POLL_EVERY_MESSAGES = 1000
"""Serve delivery reports this often: per message (confluent-kafka's examples) cost ~0.3 us each for nothing."""


def reading_messages(readings: Iterable[Reading]) -> Iterator[Message]:
    """Messages for readings one at a time (tests and the original project's pattern)."""
    for reading in readings:
        yield encode(*reading), str(reading[1]), reading[3]


def batch_messages(batches: Iterable[ReadingBatch]) -> Iterator[Message]:
    """Messages for the generator's batches, each batch's values and keys formatted in bulk (the fast way)."""
    for batch in batches:
        yield from zip(batch.typed_json(), batch.user_ids_text(), batch.timestamps.tolist(), strict=True)


def publish(
    producer: Producer,
    topic: str,
    messages: Iterable[Message],
    stop: threading.Event | None = None,
    pace: Callable[[int], None] | None = None,
    progress: Callable[[str], None] | None = None,
    flush_each: bool = False,
) -> PublishStats:
    """Produce every message until done or `stop` is set, then flush once.

    `pace` is called with each event time before it is sent (live mode sleeps
    there); `flush_each` is the original project's flush-per-message pattern,
    kept only so the benchmark can compare against it.
    """
    report = DeliveryReport()
    produce = producer.produce
    poll = producer.poll
    started = last_progress = time.monotonic()
    produced = 0
    for value, key, event_time in messages:
        if stop is not None and stop.is_set():
            break
        if pace is not None:
            pace(event_time)
        while True:
            try:
                # The record timestamp is the event time too, so Confluent's managed
                # S3 sink (timestamp.extractor=Record) lays out the lake identically.
                produce(topic, value, key, on_delivery=report, timestamp=event_time * 1000)
                break
            except BufferError:
                poll(0.05)
        produced += 1
        if flush_each:
            producer.flush()
        elif pace is not None or produced % POLL_EVERY_MESSAGES == 0:
            poll(0)
            if progress is not None:
                now = time.monotonic()
                if now - last_progress >= PROGRESS_EVERY_SECONDS:
                    last_progress = now
                    progress(f"produced {produced:,} ({produced / (now - started):,.0f}/s), "
                             f"delivered {report.delivered:,}, failed {report.failed:,}")
    undelivered = producer.flush(FLUSH_TIMEOUT_SECONDS)
    return PublishStats(produced, report.delivered, report.failed, undelivered,
                        time.monotonic() - started, report.errors)


def real_time_pace(sleep: Callable[[float], None] = time.sleep) -> Callable[[int], None]:
    """Live mode: hold each event until the wall clock reaches its timestamp."""

    def pace(timestamp: int) -> None:
        wait = timestamp - time.time()
        if wait > 0:
            sleep(wait)

    return pace
