"""Kafka topic -> S3 lake, one folder per event hour, exactly once by construction.

Per Kafka partition, records are buffered in offset order and written as one
object when the buffer reaches `flush_size` records or the next record belongs
to another event hour; the object is named by the first offset it holds. After
each object its manifest is written (how many records, which offsets: the
warehouse's completeness check compares it with the rows that reached raw), and
only then is the offset after its last record committed.
Because boundaries depend only on the records, a sink restarted after a crash
re-reads from the last commit and rewrites the same keys with the same bytes:
no loss, no duplicates.

One boundary depends on time: a partition that is caught up (end of partition)
and whose buffer is older than `max_buffer_seconds` is flushed, so quiet hours
still land. A crash right after such a flush can only make the replay write a
*longer* object under the same key (a superset), never a duplicate line.

Only valid contract events reach the lake: a message that is not one (not JSON,
a missing field, a value out of the contract's range) goes to
`dead-letter/<topic>/<hour of its Kafka timestamp>/<topic>+<p>+<offset>.json` with
its Kafka coordinates and the reason, where the hourly checks count it; the sink
never stops on it.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from include.contracts.heart_rate_event import EventError, valid_lines_timestamps, validated_timestamp
from include.contracts.lake_layout import (
    MANIFESTS_PREFIX,
    TOPICS_PREFIX,
    dead_letter_document,
    dead_letter_key,
    manifest_document,
    manifest_key,
    object_key,
)

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Message

DEFAULT_FLUSH_SIZE = 10_000
DEFAULT_MAX_BUFFER_SECONDS = 30.0
BATCH_SIZE = 2_000

PutObject = Callable[[str, bytes], None]
# A Kafka message's accessors, called from C over a whole batch (map, groupby): no Python frame per message.
_VALUE, _PARTITION, _ERROR = methodcaller("value"), methodcaller("partition"), methodcaller("error")


class LakeUnavailable(RuntimeError):
    """The lake bucket cannot be reached or written; the message names the fix."""


class SinkRefused(RuntimeError):
    """Going on would lose or overwrite data (the broker's log went backwards, an object exists with other
    bytes, the topic is gone); the message says what happened and what to do."""


def is_replay_of(existing: bytes, new: bytes, key: str) -> bool:
    """Whether writing `new` over `existing` under `key` is a replay of the same records, not other data.

    Equal bytes are; so is a data object or manifest that a replay after a time-based flush extends (the
    same first records, more after them). Anything else would overwrite data the lake already holds."""
    if existing == new:
        return True
    if key.startswith(MANIFESTS_PREFIX + "/"):
        try:
            old, fresh = json.loads(existing), json.loads(new)
        except ValueError:
            return False
        return (old["object_key"], old["first_offset"]) == (fresh["object_key"], fresh["first_offset"]) \
            and fresh["last_offset"] >= old["last_offset"]
    return key.startswith(TOPICS_PREFIX + "/") and new.startswith(existing) and existing.endswith(b"\n")


def write_once(s3: Any, bucket: str) -> PutObject:
    """The sink's S3 writes: a key that exists is only rewritten by a replay of the same records, never with
    other data (`SinkRefused` then)."""
    from botocore.exceptions import ClientError

    def put_object(key: str, body: bytes) -> None:
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*")
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
        existing = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if existing == body:
            return
        if not is_replay_of(existing, body, key):
            raise SinkRefused(f"s3://{bucket}/{key} exists with other content ({len(existing)} bytes, not a "
                              f"replay of these {len(body)} bytes): refusing to overwrite the lake. Another writer, "
                              "or a broker whose offsets restarted, uses these names; see docs/operations.md.")
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")

    return put_object


@dataclass
class PartitionBuffer:
    partition: int
    lines: list[bytes] = field(default_factory=list)
    start_offset: int = -1
    last_offset: int = -1
    timestamp: int = 0
    """Event time of the first record: names the object's hour folder."""
    hour: int = -1
    opened_at: float = 0.0
    caught_up: bool = False


@dataclass
class SinkStats:
    records: int = 0
    objects: int = 0
    dead_letters: int = 0
    bytes: int = 0


def _line(value: bytes) -> bytes:
    """The event as one JSON line: the bytes as sent, unless they span lines."""
    if b"\n" in value or b"\r" in value:
        return json.dumps(json.loads(value), separators=(",", ":"), ensure_ascii=False).encode()
    return value


def _kafka_timestamp_ms(message: Message) -> int | None:
    from confluent_kafka import TIMESTAMP_NOT_AVAILABLE

    kind, timestamp_ms = message.timestamp()
    return timestamp_ms if kind != TIMESTAMP_NOT_AVAILABLE else None


Writes = list[tuple[str, bytes]]


class BackgroundUploads:
    """Writes objects on `workers` threads while the sink keeps consuming.

    A flush is one unit (its object, then its manifest, on one thread); units run
    side by side (S3 latency overlaps), but offsets are handed back only for the
    longest run of units that are all written, in submission order: nothing is
    committed past a write that has not finished or that failed. The sink commits
    them from its own thread (`completed`). At most `depth` units wait, which
    bounds memory and pushes back on the consumer when S3 is slow.
    """

    def __init__(self, put_object: PutObject, workers: int = 2, depth: int = 4) -> None:
        self._put = put_object
        self._pending: queue.Queue[tuple[int, Writes, tuple[int, int] | None] | None] = queue.Queue(depth)
        self._lock = threading.Lock()
        self._submitted = 0
        self._released = 0
        self._finished: dict[int, tuple[int, int] | None] = {}
        self._done: deque[tuple[int, int]] = deque()
        self._error: BaseException | None = None
        self._workers = [threading.Thread(target=self._run, name=f"lake-uploads-{n}", daemon=True)
                         for n in range(workers)]
        for worker in self._workers:
            worker.start()

    def _run(self) -> None:
        while (item := self._pending.get()) is not None:
            sequence, writes, commit = item
            try:
                if self._error is None:
                    for key, body in writes:
                        self._put(key, body)
                    with self._lock:
                        self._finished[sequence] = commit
                        while self._released in self._finished:
                            if (ready := self._finished.pop(self._released)) is not None:
                                self._done.append(ready)
                            self._released += 1
            except BaseException as error:  # noqa: BLE001 - handed to the sink's thread
                self._error = error
            finally:
                self._pending.task_done()
        self._pending.task_done()

    def submit(self, writes: Writes, commit: tuple[int, int] | None) -> None:
        """Queue one unit (called from the sink's thread only: it numbers them)."""
        self._raise_failure()
        self._pending.put((self._submitted, writes, commit))
        self._submitted += 1

    def completed(self) -> list[tuple[int, int]]:
        """(partition, next offset) of every unit released since the last call, in submission order."""
        self._raise_failure()
        done = []
        while self._done:
            done.append(self._done.popleft())
        return done

    def wait(self) -> None:
        self._pending.join()
        self._raise_failure()

    def close(self) -> None:
        for _ in self._workers:
            self._pending.put(None)
        for worker in self._workers:
            worker.join(30)

    def _raise_failure(self) -> None:
        if isinstance(self._error, SinkRefused):
            raise self._error
        if self._error is not None:
            raise LakeUnavailable(f"writing to the lake failed: {self._error}") from self._error


class LakeWriter:
    """The sink's logic without Kafka: feed it messages, it writes objects and says what to commit.

    With `background=True` objects are written by `BackgroundUploads` workers
    and `commit` is called (from the caller's thread) by `commit_completed()`;
    otherwise each object is written and committed before `add` returns.
    """

    def __init__(self, topic: str, put_object: PutObject, commit: Callable[[int, int], None],
                 flush_size: int = DEFAULT_FLUSH_SIZE, max_buffer_seconds: float = DEFAULT_MAX_BUFFER_SECONDS,
                 clock: Callable[[], float] = time.monotonic, background: bool = False) -> None:
        if flush_size < 1:
            raise ValueError(f"flush_size must be at least 1, got {flush_size}")
        self.topic = topic
        self.put_object = put_object
        self.commit = commit
        self.flush_size = flush_size
        self.max_buffer_seconds = max_buffer_seconds
        self.clock = clock
        self.buffers: dict[int, PartitionBuffer] = {}
        self.stats = SinkStats()
        self.uploads = BackgroundUploads(put_object) if background else None

    def add(self, partition: int, offset: int, value: bytes | None, key: bytes | None = None,
            timestamp_ms: int | None = None) -> None:
        """One message: buffered if it is a valid contract event, else dead-lettered with its coordinates."""
        buffer = self.buffers.get(partition)
        if buffer is None:
            buffer = self.buffers[partition] = PartitionBuffer(partition)
        buffer.caught_up = False
        try:
            if value is None:
                raise EventError("empty message (null value)")
            timestamp = validated_timestamp(value)
        except EventError as error:
            self._dead_letter(partition, offset, key, value, timestamp_ms, str(error))
            return
        value = _line(value)
        hour = timestamp // 3600
        if buffer.lines and hour != buffer.hour:
            self.flush(buffer)
        if not buffer.lines:
            buffer.start_offset, buffer.timestamp, buffer.hour = offset, timestamp, hour
            buffer.opened_at = self.clock()
        buffer.lines.append(value)
        buffer.last_offset = offset
        if len(buffer.lines) >= self.flush_size:
            self.flush(buffer)

    def add_batch(self, partition: int, offsets: list[int], values: list[bytes | None],
                  keys: list[bytes | None], timestamps_ms: list[int | None] | None = None) -> None:
        """Add one partition's messages from a consume batch, in offset order.

        The same result as `add` one by one, faster: when every message is a valid
        event in the typed form (decoded and checked in C), runs of one hour are
        appended as slices.
        """
        stamps = valid_lines_timestamps(values) if None not in values else None
        if stamps is None:
            for index, (offset, value, key) in enumerate(zip(offsets, values, keys, strict=True)):
                self.add(partition, offset, value, key, timestamps_ms[index] if timestamps_ms else None)
            return
        self._append_valid(partition, offsets.__getitem__, values, stamps)

    def add_messages(self, partition: int, messages: list[Message]) -> None:
        """`add_batch` for one partition's Kafka messages, reading only what it needs of each: the value, and
        offsets at object boundaries (keys and Kafka timestamps only for the batch that holds a dead letter)."""
        values = list(map(_VALUE, messages))
        stamps = valid_lines_timestamps(values) if None not in values else None
        if stamps is None:
            self.add_batch(partition, [m.offset() for m in messages], values, [m.key() for m in messages],
                           [_kafka_timestamp_ms(m) for m in messages])
            return
        self._append_valid(partition, lambda index: messages[index].offset(), values, stamps)

    def _append_valid(self, partition: int, offset_at: Callable[[int], int], values: list[bytes | None],
                      stamps: list[int]) -> None:
        """Buffer a run of valid events (`offset_at(i)` is the offset of `values[i]`), cutting objects at
        event-hour changes and at `flush_size`."""
        buffer = self.buffers.get(partition)
        if buffer is None:
            buffer = self.buffers[partition] = PartitionBuffer(partition)
        buffer.caught_up = False
        # Mostly a batch holds one event hour: then no per-event scan for where the hour changes.
        hours = None if min(stamps) // 3600 == max(stamps) // 3600 else [stamp // 3600 for stamp in stamps]
        i, n = 0, len(values)
        while i < n:
            if buffer.lines and (hours[i] if hours else stamps[i] // 3600) != buffer.hour:
                self.flush(buffer)
            if not buffer.lines:
                buffer.start_offset, buffer.timestamp, buffer.hour = offset_at(i), stamps[i], stamps[i] // 3600
                buffer.opened_at = self.clock()
            limit = j = min(n, i + self.flush_size - len(buffer.lines))
            if hours:
                j = i
                while j < limit and hours[j] == buffer.hour:
                    j += 1
            buffer.lines.extend(values[i:j])
            buffer.last_offset = offset_at(j - 1)
            if len(buffer.lines) >= self.flush_size:
                self.flush(buffer)
            i = j

    def reached_end(self, partition: int) -> None:
        """The consumer reached the end of this partition (for now)."""
        self.buffers.setdefault(partition, PartitionBuffer(partition)).caught_up = True

    def flush_stale(self) -> None:
        now = self.clock()
        for buffer in self.buffers.values():
            if buffer.lines and buffer.caught_up and now - buffer.opened_at >= self.max_buffer_seconds:
                self.flush(buffer)

    def flush_all(self) -> None:
        """Write every buffer and wait until all objects are written and committed."""
        for buffer in self.buffers.values():
            if buffer.lines:
                self.flush(buffer)
        if self.uploads is not None:
            self.uploads.wait()
            self.commit_completed()

    def commit_completed(self) -> None:
        if self.uploads is not None:
            for partition, next_offset in self.uploads.completed():
                self.commit(partition, next_offset)

    def close(self) -> None:
        if self.uploads is not None:
            self.uploads.close()

    def _write(self, writes: Writes, commit: tuple[int, int] | None) -> None:
        """Write these objects in order, then commit (at once, or once released by the background uploads)."""
        if self.uploads is not None:
            self.uploads.submit(writes, commit)
            return
        for key, body in writes:
            self.put_object(key, body)
        if commit is not None:
            self.commit(*commit)

    def flush(self, buffer: PartitionBuffer) -> None:
        """Write the buffer as one object, then its manifest, then (once both are written) commit past it."""
        body = b"\n".join(buffer.lines) + b"\n"
        key = object_key(self.topic, buffer.partition, buffer.start_offset, buffer.timestamp)
        manifest = manifest_document(key, len(buffer.lines), buffer.partition, buffer.start_offset, buffer.last_offset)
        self._write([(key, body), (manifest_key(key), manifest)], (buffer.partition, buffer.last_offset + 1))
        self.stats.objects += 1
        self.stats.records += len(buffer.lines)
        self.stats.bytes += len(body)
        buffer.lines = []

    def forget(self, partition: int) -> None:
        """Drop a revoked partition's buffer: its new owner re-reads it from the last commit."""
        if self.uploads is not None:  # finish and commit what was already cut for this partition
            self.uploads.wait()
            self.commit_completed()
        self.buffers.pop(partition, None)

    def _dead_letter(self, partition: int, offset: int, key: bytes | None, value: bytes | None,
                     timestamp_ms: int | None, error: str) -> None:
        document = dead_letter_document(self.topic, partition, offset, timestamp_ms, key, value, error)
        self._write([(dead_letter_key(self.topic, partition, offset, timestamp_ms), document)], None)
        self.stats.dead_letters += 1


@dataclass
class Ownership:
    """Which partitions this sink owns now, and which of them it has read to the end since it got them."""

    owned: set[int] = field(default_factory=set)
    at_end: set[int] = field(default_factory=set)
    resume_at: dict[int, int] = field(default_factory=dict)
    """The group's committed offset per newly assigned partition: its first record must not come before it
    (a broker that lost its log restarts offsets at 0, and the consumer's reset would follow it silently)."""

    @property
    def caught_up(self) -> bool:
        return bool(self.owned) and self.owned <= self.at_end


def went_backwards(topic: str, partition: int, committed: int, first: int) -> str:
    """Why the sink refuses when a partition's first record after assignment lies before the group's commit."""
    return (f"partition {partition} of {topic}: the group committed up to offset {committed}, but the broker "
            f"now serves offset {first} first, so it lost (or re-created) the topic's log. The lake already holds "
            "objects named by those offsets, and reading on would overwrite them. Keep the lake as it is and "
            "start the sink with a new consumer group and a new topic (HRS_TOPIC), or restore the broker's log.")


def run(consumer: Consumer, writer: LakeWriter, stop: threading.Event,
        until_idle_seconds: float | None = None, progress: Callable[[str], None] | None = None,
        progress_every: float = 5.0, unassigned_limit_seconds: float = 60.0) -> SinkStats:
    """Consume until `stop` is set, or (`until_idle_seconds`) until every partition this sink owns has been
    read to its end, written and committed, and nothing new came for that long.

    Several sinks may share a consumer group: a revoked partition's unwritten buffer is dropped (its new owner
    re-reads it from the last commit and cuts the same objects), and idleness only counts while this sink owns
    partitions and has reached the end of each since it got them."""
    from confluent_kafka import KafkaError

    ownership = Ownership()
    started = time.monotonic()
    last_message = started

    def on_assign(assigned_consumer: Consumer, partitions: list) -> None:
        nonlocal last_message
        for committed in assigned_consumer.committed(partitions, timeout=30):
            if committed.offset >= 0:
                ownership.resume_at[committed.partition] = committed.offset
        ownership.owned.update(p.partition for p in partitions)
        ownership.at_end.difference_update(p.partition for p in partitions)
        last_message = time.monotonic()
        if progress is not None:
            progress(f"sink: assigned partitions {sorted(p.partition for p in partitions)}")

    def on_revoke(_consumer: Consumer, partitions: list) -> None:
        for p in partitions:
            writer.forget(p.partition)
            ownership.owned.discard(p.partition)
            ownership.at_end.discard(p.partition)
            ownership.resume_at.pop(p.partition, None)

    def take(partition: int, messages: list[Message]) -> None:
        """One partition's run of data messages, in offset order."""
        ownership.at_end.discard(partition)
        if (committed := ownership.resume_at.pop(partition, None)) is not None \
                and (first := messages[0].offset()) < committed:
            raise SinkRefused(went_backwards(writer.topic, partition, committed, first))
        writer.add_messages(partition, messages)

    consumer.subscribe([writer.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    last_progress = started
    warned_unassigned = False
    try:
        while not stop.is_set():
            got_data = False
            # The batch in runs of one partition (offset order is kept within each), each added at once; only a
            # run that holds an error (end of partition, mostly) is looked at message by message.
            for partition, group in groupby(consumer.consume(num_messages=BATCH_SIZE, timeout=0.5), _PARTITION):
                messages = list(group)
                if not any(map(_ERROR, messages)):
                    take(partition, messages)
                    got_data = True
                    continue
                data: list[Message] = []
                for message in messages:
                    if (error := message.error()) is None:
                        data.append(message)
                    elif error.code() == KafkaError._PARTITION_EOF:
                        if data:
                            take(partition, data)
                            got_data, data = True, []
                        writer.reached_end(partition)
                        ownership.at_end.add(partition)
                    elif error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
                        raise SinkRefused(f"the topic {writer.topic} does not exist on the broker ({error.str()}): "
                                          "create it (or check HRS_TOPIC); nothing was written for it")
                    else:
                        raise RuntimeError(f"Kafka consumer error: {error}")
                if data:
                    take(partition, data)
                    got_data = True
            writer.commit_completed()
            now = time.monotonic()
            if got_data:
                last_message = now
            writer.flush_stale()
            if progress is not None and now - last_progress >= progress_every:
                last_progress = now
                s = writer.stats
                progress(f"sink: {s.records:,} records in {s.objects:,} objects, {s.dead_letters:,} dead letters; "
                         f"owns partitions {sorted(ownership.owned) or 'none'}")
            if not ownership.owned and now - max(started, last_message) >= unassigned_limit_seconds:
                message = (f"no partition of {writer.topic} was assigned to this sink for "
                           f"{unassigned_limit_seconds:.0f} s: the group has more sinks than the topic has "
                           "partitions, or the broker stopped assigning it (the local broker, Tansu 0.6, can leave "
                           "a group unassignable after members were killed). A new consumer group re-reads the "
                           "topic from the start and rewrites the same objects (no duplicates), then goes on")
                if until_idle_seconds is not None:
                    raise SinkRefused(message + "; nothing was sunk by this sink")
                if progress is not None and not warned_unassigned:
                    progress(f"sink: {message}")
                warned_unassigned = True
            if until_idle_seconds is not None and ownership.caught_up and now - last_message >= until_idle_seconds \
                    and all(b.caught_up or not b.lines for b in writer.buffers.values()):
                writer.flush_all()
                break
        # Objects already cut are complete and deterministic: finish and commit them before leaving.
        if writer.uploads is not None:
            writer.uploads.wait()
            writer.commit_completed()
    finally:
        writer.close()
    return writer.stats
