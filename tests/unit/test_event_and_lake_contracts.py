"""The event contract (typed and original forms) and the lake object names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from include.contracts.heart_rate_event import EventError, encode, parse, schema
from include.contracts.lake_layout import (
    dead_letter_key,
    hour_prefix,
    is_data_object,
    manifest_key,
    object_key,
    parse_key,
)

pytestmark = pytest.mark.unit

TYPED = ('{"event_id":"0b7f5e0e-7a2c-4a51-9a0e-1f2f3a4b5c6d","user_id":10001,"heart_rate":128,'
         '"timestamp":1711943972,"meta":{"activity_id":20890,"location":{"latitude":37.416834,'
         '"longitude":-121.975002}}}')
ORIGINAL = ('{"user_id": "10001", "heart_rate": "128", "timestamp": "1711943972", "meta": '
            '{"activity_id": "20890", "location": {"latitude": "37.416834", "longitude": "-121.975002"}}}')


def test_typed_and_original_forms_parse_to_the_same_reading() -> None:
    typed, original = parse(TYPED), parse(ORIGINAL)
    assert typed.event_id == "0b7f5e0e-7a2c-4a51-9a0e-1f2f3a4b5c6d"
    assert original.event_id is None
    assert (typed.user_id, typed.heart_rate, typed.timestamp, typed.activity_id) == (10001, 128, 1711943972, 20890)
    assert (original.user_id, original.heart_rate, original.timestamp, original.activity_id) == (
        10001, 128, 1711943972, 20890)
    assert (original.latitude, original.longitude) == (typed.latitude, typed.longitude) == (37.416834, -121.975002)


def test_encode_round_trips_and_matches_the_json_schema() -> None:
    event = parse(TYPED)
    assert event.to_json() == TYPED
    jsonschema.validate(json.loads(event.to_json()), schema())
    jsonschema.validate(json.loads(ORIGINAL), schema())
    assert encode(None, 1, 60, 1711943972, 20001, 0.0, 0.0).startswith('{"user_id":1,')


@pytest.mark.parametrize(("raw", "message"), [
    (b"\xff\xfe", "not valid UTF-8 JSON"),
    ("{not json", "not valid UTF-8 JSON"),
    ("[1, 2]", "event must be a JSON object"),
    (TYPED.replace('"heart_rate":128', '"heart_rate":400'), r"heart_rate=400 is out of range \[20, 250\]"),
    (TYPED.replace('"heart_rate":128', '"heart_rate":"fast"'), "heart_rate must be a number, got 'fast'"),
    (TYPED.replace('"heart_rate":128', '"heart_rate":true'), "heart_rate must be a number, got True"),
    (TYPED.replace('"heart_rate":128', '"heart_rate":12.5'), "heart_rate must be a whole number"),
    (TYPED.replace('"user_id":10001,', ""), "missing field 'user_id'"),
    (TYPED.replace('"latitude":37.416834', '"latitude":91'), r"latitude=91 is out of range"),
    (TYPED.replace('"activity_id":20890', '"activity_id":30000'), r"activity_id=30000 is out of range"),
    (TYPED.replace('0b7f5e0e-7a2c-4a51-9a0e-1f2f3a4b5c6d', "x"), "event_id must be a UUID string"),
])
def test_bad_events_name_the_problem(raw: str | bytes, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse(raw)


def test_lake_keys_follow_the_confluent_layout() -> None:
    key = object_key("heart-rate", 3, 1234, 1711943972)
    assert key == "topics/heart-rate/year=2024/month=04/day=01/hour=03/heart-rate+3+0000001234.json"
    parsed = parse_key(key)
    assert (parsed.topic, parsed.partition, parsed.start_offset) == ("heart-rate", 3, 1234)
    assert parsed.hour == datetime(2024, 4, 1, 3, tzinfo=UTC)
    assert parsed.key == key
    assert hour_prefix("heart-rate", parsed.hour) == "topics/heart-rate/year=2024/month=04/day=01/hour=03/"
    with pytest.raises(ValueError, match="is not a lake object name"):
        parse_key("topics/heart-rate/whatever.json")


def test_manifests_and_dead_letters_sit_in_the_same_hour_folders() -> None:
    key = object_key("heart-rate", 3, 1234, 1711943972)
    assert manifest_key(key) == "manifests/heart-rate/year=2024/month=04/day=01/hour=03/heart-rate+3+0000001234.json"
    assert dead_letter_key("heart-rate", 2, 17, 1711943972_000) == \
        "dead-letter/heart-rate/year=2024/month=04/day=01/hour=03/heart-rate+2+0000000017.json"
    assert parse_key(manifest_key(key)).area == "manifests"


def test_gzip_objects_are_lake_objects_too() -> None:
    key = object_key("heart-rate", 0, 5, 1711943972, extension=".json.gz")
    assert key.endswith("/heart-rate+0+0000000005.json.gz")
    assert parse_key(key).extension == ".json.gz" and is_data_object(key)
    assert manifest_key(key).endswith("/heart-rate+0+0000000005.json")
