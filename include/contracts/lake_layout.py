"""Object names in the S3 lake: the same as Confluent's S3 sink with a field-time partitioner.

    topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<kafkaPartition>+<startOffset>.json

The hour is the record's `timestamp` field in UTC; the start offset is the Kafka
offset of the object's first record, zero-padded to 10 digits as Confluent's
`filename.offset.zero.pad.width` default does. The sink writes these names,
the loader and the S3 sensors read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOPICS_PREFIX = "topics"
DEAD_LETTER_PREFIX = "dead-letter"
HOUR_FOLDER = "year=%Y/month=%m/day=%d/hour=%H/"
"""strftime format of an event hour's folder; the DAG's S3 sensor renders it from the data interval."""
OFFSET_WIDTH = 10
EXTENSION = ".json"
_KEY = re.compile(
    r"^topics/(?P<topic>[^/]+)/year=(?P<year>\d{4})/month=(?P<month>\d{2})/day=(?P<day>\d{2})/"
    r"hour=(?P<hour>\d{2})/(?P=topic)\+(?P<partition>\d+)\+(?P<offset>\d+)\.json$"
)


@dataclass(frozen=True)
class LakeObject:
    topic: str
    partition: int
    start_offset: int
    hour: datetime
    """The event hour, UTC, truncated to the hour."""

    @property
    def key(self) -> str:
        name = f"{self.topic}+{self.partition}+{self.start_offset:0{OFFSET_WIDTH}d}{EXTENSION}"
        return hour_prefix(self.topic, self.hour) + name


HOUR = timedelta(hours=1)


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


def topic_prefix(topic: str) -> str:
    """Every object of a topic lies under this prefix (with a trailing slash)."""
    return f"{TOPICS_PREFIX}/{topic}/"


def hour_prefix(topic: str, hour: datetime) -> str:
    """The folder of one event hour, with a trailing slash (what the hourly S3 sensor waits on)."""
    return topic_prefix(topic) + hour.astimezone(UTC).strftime(HOUR_FOLDER)


def object_key(topic: str, partition: int, start_offset: int, timestamp: int) -> str:
    return LakeObject(topic, partition, start_offset, event_hour(timestamp)).key


def parse_key(key: str) -> LakeObject:
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"{key!r} is not a lake object name (topics/<topic>/year=.../<topic>+<p>+<offset>.json)")
    hour = datetime(int(match["year"]), int(match["month"]), int(match["day"]), int(match["hour"]), tzinfo=UTC)
    return LakeObject(match["topic"], int(match["partition"]), int(match["offset"]), hour)


def dead_letter_key(topic: str, partition: int, offset: int) -> str:
    """One object per undecodable message, named by its Kafka coordinates."""
    return f"{DEAD_LETTER_PREFIX}/{topic}/{topic}+{partition}+{offset:0{OFFSET_WIDTH}d}{EXTENSION}"
