"""Object names in the S3 lake: the same as Confluent's S3 sink with a field-time partitioner.

    topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<kafkaPartition>+<startOffset>.json[.gz]

The hour is the record's `timestamp` field in UTC; the start offset is the Kafka
offset of the object's first record, zero-padded to 10 digits as Confluent's
`filename.offset.zero.pad.width` default does. Confluent's sink with gzip
compression adds `.gz`; the loaders and the sensor read both.

Two more areas, in the same hour folders, are written by the project's sink:

    manifests/<topic>/<hour folder>/<topic>+<partition>+<startOffset>.json
        one line per data object: how many records it holds and which offsets, so the
        warehouse can prove every record of the object reached raw (the completeness check);
    dead-letter/<topic>/<hour folder>/<topic>+<partition>+<offset>.json
        one line per message that is not a valid contract event, with its Kafka coordinates;
        the hour is the Kafka record's timestamp (the event time, as the producer sets it).

Each area is one Airbyte stream of the same S3 source (one raw table each).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOPICS_PREFIX = "topics"
MANIFESTS_PREFIX = "manifests"
DEAD_LETTER_PREFIX = "dead-letter"
HOUR_FOLDER = "year=%Y/month=%m/day=%d/hour=%H/"
"""strftime format of an event hour's folder; the DAG's S3 sensor renders it from the data interval."""
OFFSET_WIDTH = 10
EXTENSION = ".json"
GZIP_EXTENSION = ".json.gz"
DATA_EXTENSIONS = (EXTENSION, GZIP_EXTENSION)
HOUR = timedelta(hours=1)

_KEY = re.compile(
    r"^(?P<area>topics|manifests|dead-letter)/(?P<topic>[^/]+)/year=(?P<year>\d{4})/month=(?P<month>\d{2})/"
    r"day=(?P<day>\d{2})/hour=(?P<hour>\d{2})/(?P=topic)\+(?P<partition>\d+)\+(?P<offset>\d+)(?P<ext>\.json(?:\.gz)?)$"
)


@dataclass(frozen=True)
class LakeObject:
    topic: str
    partition: int
    start_offset: int
    hour: datetime
    """The folder's hour, UTC (the event hour of the object's records)."""
    area: str = TOPICS_PREFIX
    extension: str = EXTENSION

    @property
    def name(self) -> str:
        return f"{self.topic}+{self.partition}+{self.start_offset:0{OFFSET_WIDTH}d}{self.extension}"

    @property
    def key(self) -> str:
        return f"{self.area}/{self.topic}/" + self.hour.astimezone(UTC).strftime(HOUR_FOLDER) + self.name


def event_hour(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp - timestamp % 3600, tz=UTC)


def interval_hours(start: datetime, end: datetime) -> list[datetime]:
    """The event hours [start, end) covers, in UTC: the lake folders (and warehouse hours) of an interval."""
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < end:
        hours.append(hour)
        hour += HOUR
    return hours


def area_prefix(area: str, topic: str) -> str:
    """Every object of one area (`topics`, `manifests`, `dead-letter`) of a topic, with a trailing slash."""
    return f"{area}/{topic}/"


def topic_prefix(topic: str) -> str:
    """Every data object of a topic lies under this prefix (with a trailing slash)."""
    return area_prefix(TOPICS_PREFIX, topic)


def hour_prefix(topic: str, hour: datetime) -> str:
    """The folder of one event hour, with a trailing slash (what the hourly S3 sensor waits on)."""
    return topic_prefix(topic) + hour.astimezone(UTC).strftime(HOUR_FOLDER)


def object_key(topic: str, partition: int, start_offset: int, timestamp: int, extension: str = EXTENSION) -> str:
    return LakeObject(topic, partition, start_offset, event_hour(timestamp), extension=extension).key


def parse_key(key: str) -> LakeObject:
    """A data, manifest or dead-letter object's name, parsed; ValueError names the expected shape."""
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"{key!r} is not a lake object name "
                         "(topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<partition>+<offset>.json[.gz])")
    hour = datetime(int(match["year"]), int(match["month"]), int(match["day"]), int(match["hour"]), tzinfo=UTC)
    return LakeObject(match["topic"], int(match["partition"]), int(match["offset"]), hour, match["area"],
                      match["ext"])


def is_data_object(key: str) -> bool:
    return key.endswith(DATA_EXTENSIONS)


def manifest_key(data_key: str) -> str:
    """Where the sink records a data object's record count: the same name under `manifests/`."""
    data = parse_key(data_key)
    return LakeObject(data.topic, data.partition, data.start_offset, data.hour, MANIFESTS_PREFIX).key


def dead_letter_key(topic: str, partition: int, offset: int, timestamp_ms: int | None) -> str:
    """One object per message that is not a contract event, named by its Kafka coordinates, in the hour
    folder of its Kafka timestamp (the event time the producer set), or hour 0 of 1970 without one."""
    hour = event_hour((timestamp_ms or 0) // 1000)
    return LakeObject(topic, partition, offset, hour, DEAD_LETTER_PREFIX).key


def manifest_document(data_key: str, records: int, partition: int, first_offset: int, last_offset: int) -> bytes:
    """The manifest line of one data object (the fields of raw.heart_rate_manifests)."""
    return json.dumps({"object_key": data_key, "records": records, "kafka_partition": partition,
                       "first_offset": first_offset, "last_offset": last_offset}, sort_keys=True).encode() + b"\n"


def dead_letter_document(topic: str, partition: int, offset: int, timestamp_ms: int | None, key: bytes | None,
                         value: bytes | None, error: str) -> bytes:
    """The dead-letter line of one message (the fields of raw.heart_rate_dead_letters): the message as sent,
    base64, and why it is not a contract event."""
    return json.dumps({
        "kafka_topic": topic, "kafka_partition": partition, "kafka_offset": offset, "kafka_timestamp_ms": timestamp_ms,
        "message_key": key.decode("utf-8", "replace") if key is not None else None,
        "value_base64": base64.b64encode(value).decode() if value is not None else None,
        "error": error,
    }, sort_keys=True).encode() + b"\n"
