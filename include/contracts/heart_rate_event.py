"""The heart-rate event contract: encode the typed form, parse both typed and original forms.

The ranges live in `heart_rate_event.schema.json` next to this module (the one home of
the contract, also used by tests and the loader's validation); this module
reads them from there, so a range is never written twice. Parsing is done by
hand rather than by a JSON Schema validator because the sink and the loader
parse every line and a validator is ~20x slower.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any

import msgspec

SCHEMA_PATH = Path(__file__).with_name("heart_rate_event.schema.json")


class EventError(ValueError):
    """A message is not a valid heart-rate event; the message names the field."""


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def limits() -> dict[str, tuple[float, float]]:
    """The contract's [minimum, maximum] per numeric field, from the JSON Schema."""
    properties = schema()["properties"]
    meta = properties["meta"]["properties"]
    location = meta["location"]["properties"]
    fields = {
        "user_id": properties["user_id"],
        "heart_rate": properties["heart_rate"],
        "timestamp": properties["timestamp"],
        "activity_id": meta["activity_id"],
        "latitude": location["latitude"],
        "longitude": location["longitude"],
    }
    return {name: (spec["minimum"], spec["maximum"]) for name, spec in fields.items()}


@dataclass(frozen=True, slots=True)
class HeartRateEvent:
    event_id: str | None
    user_id: int
    heart_rate: int
    timestamp: int
    activity_id: int
    latitude: float
    longitude: float

    def to_json(self) -> str:
        """The typed form, compact, keys in contract order (same event, same bytes)."""
        return encode(self.event_id, self.user_id, self.heart_rate, self.timestamp,
                      self.activity_id, self.latitude, self.longitude)


def encode(event_id: str | None, user_id: int, heart_rate: int, timestamp: int,
           activity_id: int, latitude: float, longitude: float) -> str:
    """Typed-form JSON without building a dict."""
    user, meta = shared_fields(user_id, activity_id, latitude, longitude)
    head = f'{{"event_id":"{event_id}",' if event_id is not None else "{"
    return f'{head}{user}"heart_rate":{heart_rate},"timestamp":{timestamp},{meta}'


def shared_fields(user_id: int, activity_id: int, latitude: float, longitude: float) -> tuple[str, str]:
    """The typed form's text for what a workout session's readings share (its user; its activity and place), so
    the producer formats it once a session, not once a reading: (the user_id member, the meta member)."""
    return (f'"user_id":{user_id},',
            f'"meta":{{"activity_id":{activity_id},"location":{{"latitude":{latitude},"longitude":{longitude}}}}}}}')


def encode_many(event_ids: Iterable[str], heart_rates: Iterable[int], timestamps: Iterable[int],
                users: Iterable[str], metas: Iterable[str]) -> list[str]:
    """`encode` for many readings at once, their shared members from `shared_fields` (the producer's hot path:
    ~0.5 us a reading against ~3 us for `encode`, which formats every float again)."""
    return [f'{{"event_id":"{event_id}",{user}"heart_rate":{heart_rate},"timestamp":{timestamp},{meta}'
            for event_id, heart_rate, timestamp, user, meta
            in zip(event_ids, heart_rates, timestamps, users, metas, strict=True)]


def _number(value: Any, name: str, integer: bool) -> int | float:
    if isinstance(value, bool) or value is None:
        raise EventError(f"{name} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise EventError(f"{name} must be a number, got {value!r}") from None
    elif integer and isinstance(value, float):
        if not value.is_integer():
            raise EventError(f"{name} must be a whole number, got {value!r}")
        value = int(value)
    elif not isinstance(value, int | float):
        raise EventError(f"{name} must be a number, got {type(value).__name__}")
    low, high = limits()[name]
    if not low <= value <= high:
        raise EventError(f"{name}={value} is out of range [{low}, {high}]")
    return value


def from_dict(record: Any) -> HeartRateEvent:
    if not isinstance(record, dict):
        raise EventError(f"event must be a JSON object, got {type(record).__name__}")
    try:
        meta = record["meta"]
        location = meta["location"]
        event_id = record.get("event_id")
        if event_id is not None and not (isinstance(event_id, str) and len(event_id) == 36):
            raise EventError(f"event_id must be a UUID string, got {event_id!r}")
        return HeartRateEvent(
            event_id=event_id,
            user_id=_number(record["user_id"], "user_id", True),
            heart_rate=_number(record["heart_rate"], "heart_rate", True),
            timestamp=_number(record["timestamp"], "timestamp", True),
            activity_id=_number(meta["activity_id"], "activity_id", True),
            latitude=_number(location["latitude"], "latitude", False),
            longitude=_number(location["longitude"], "longitude", False),
        )
    except KeyError as missing:
        raise EventError(f"missing field {missing.args[0]!r}") from None
    except TypeError as error:
        raise EventError(f"malformed event structure: {error}") from None


def parse(raw: bytes | str) -> HeartRateEvent:
    """Parse one message or lake line in either form; EventError says what is wrong."""
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EventError(f"not valid UTF-8 JSON: {error}") from None
    return from_dict(record)


# Exactly the bytes `encode` writes: a line that matches is valid JSON in the typed form.
# Groups: event_id, user_id, heart_rate, timestamp, meta (its JSON text), activity_id, latitude, longitude.
_NUMBER = rb"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_TYPED_PATTERN = (
    rb'\{"event_id":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})","user_id":(\d{1,10}),'
    rb'"heart_rate":(\d{1,3}),"timestamp":(\d{1,10}),"meta":(\{"activity_id":(\d{1,5}),"location":\{"latitude":('
    + _NUMBER + rb'),"longitude":(' + _NUMBER + rb")\}\})\}"
)
_TYPED_LINE = re.compile(_TYPED_PATTERN)
_TYPED_FIELDS = ("user_id", "heart_rate", "timestamp", "activity_id", "latitude", "longitude")
_TYPED_GROUPS = (2, 3, 4, 6, 7, 8)


def match_typed(line: bytes) -> re.Match[bytes] | None:
    """The fields of a line in the exact form `encode` writes (fast: no JSON parse), else None."""
    return _TYPED_LINE.fullmatch(line)


def typed_error(match: re.Match[bytes]) -> str | None:
    """What `from_dict` would object to in a typed line (ranges only: its shape is already right)."""
    ranges = limits()
    for name, group in zip(_TYPED_FIELDS, _TYPED_GROUPS, strict=True):
        value = float(match[group])
        low, high = ranges[name]
        if not low <= value <= high:
            shown = int(value) if value.is_integer() else value
            return f"{name}={shown} is out of range [{low}, {high}]"
    return None


def exactly_typed(body: bytes) -> bool:
    """True when every line of `body` (each ending in a newline) is a valid event written exactly as `encode`
    writes it: such lines are the ones `match_typed` matches and `typed_error` passes, in the one spelling
    `typed_line_sql` can split.

    Decoded against the contract and written back by msgspec, in C (~1.7 us a line; the regex took ~4 us): any
    other spelling of the same event (spaces, key order, `37.40`, a blank line) comes back different."""
    try:
        return _exact_encoder().encode_lines(_exact_decoder().decode_lines(body)) == body
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False


def typed_line_sql(line: str, parts: str) -> dict[str, str]:
    """DuckDB SQL for each event column's text in a VARCHAR `line` that `exactly_typed` accepted, given `parts`,
    its `string_split(line, ',')`: the exact form puts each member in a known comma-separated part, after a known
    prefix. The embedded loader splits whole objects this way inside DuckDB."""
    def member(position: int, prefix: str) -> str:
        return f"substr({parts}[{position}], {len(prefix) + 1})"

    meta_start = f"""strpos({line}, ',"meta":') + {len(',"meta":')}"""
    return {
        "event_id": f"""substr({line}, {len('{"event_id":"') + 1}, 36)""",
        "user_id": member(2, '"user_id":'),
        "heart_rate": member(3, '"heart_rate":'),
        "timestamp": member(4, '"timestamp":'),
        "meta": f"substr({line}, {meta_start}, length({line}) - ({meta_start}))",
    }


_TIMESTAMP = attrgetter("timestamp")


def _event_struct(exact: bool) -> type:
    """The contract as a msgspec type, its ranges taken from the JSON Schema. `exact`: the event id first,
    required and in the schema's pattern (the spelling `encode` writes); else optional and any 36 characters."""
    ranges = limits()

    def bounded(kind: type, name: str) -> Any:
        low, high = ranges[name]
        return Annotated[kind, msgspec.Meta(ge=kind(low), le=kind(high))]

    location = msgspec.defstruct("Location", [("latitude", bounded(float, "latitude")),
                                              ("longitude", bounded(float, "longitude"))], gc=False)
    meta = msgspec.defstruct("Meta", [("activity_id", bounded(int, "activity_id")), ("location", location)],
                             gc=False)
    members = [("user_id", bounded(int, "user_id")), ("heart_rate", bounded(int, "heart_rate")),
               ("timestamp", bounded(int, "timestamp")), ("meta", meta)]
    if exact:
        pattern = schema()["properties"]["event_id"]["pattern"]
        return msgspec.defstruct("Event", [("event_id", Annotated[str, msgspec.Meta(pattern=pattern)]), *members],
                                 gc=False)
    return msgspec.defstruct("Event", [
        *members, ("event_id", Annotated[str, msgspec.Meta(min_length=36, max_length=36)] | None, None),
    ], gc=False)


@cache
def _event_decoder() -> msgspec.json.Decoder:
    """A msgspec decoder for valid events in the typed form (~1 us an event, in C; the regex and range checks
    in Python it replaced took ~5 us).

    Everything it accepts, `parse` accepts with the same values: it only narrows (JSON numbers of the right
    kind, no numeric strings; a duplicate key is checked at each occurrence); what it refuses goes the slow
    way, which says what is wrong."""
    return msgspec.json.Decoder(_event_struct(exact=False))


@cache
def _exact_decoder() -> msgspec.json.Decoder:
    return msgspec.json.Decoder(_event_struct(exact=True))


@cache
def _exact_encoder() -> msgspec.json.Encoder:
    return msgspec.json.Encoder()


def valid_lines_timestamps(values: list[bytes]) -> list[int] | None:
    """Event times of a batch of messages if every one is a valid event in the typed form on one line, else
    None (the caller then takes the one-by-one path, which says what is wrong with which message).

    The sink's fast path when it keeps up with a busy topic: each message is decoded on its own (a batch joined
    into one document could splice two broken messages into valid JSON)."""
    joined = b"\n".join(values)
    if joined.count(b"\n") != len(values) - 1 or b"\r" in joined:
        return None  # a line break inside a message: the slow path writes it on one line
    if not joined.isascii():
        try:  # msgspec does not check the bytes of fields it skips; the lake holds UTF-8 only
            joined.decode()
        except UnicodeDecodeError:
            return None
    try:
        return list(map(_TIMESTAMP, map(_event_decoder().decode, values)))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def validated_timestamp(value: bytes) -> int:
    """The event time of a message in either form, after checking it against the whole contract;
    EventError says what is wrong. What the sink writes to the lake is exactly what passes this."""
    stamps = valid_lines_timestamps([value])
    return stamps[0] if stamps is not None else parse(value).timestamp
