"""Benchmarks' scratch buckets and topics, deleted afterwards.

The local S3 server and Kafka broker keep everything in memory (and S3 records it to disk), so a benchmark
that left its millions of readings behind would make every later one, and the services' memory, worse.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from include.contracts.settings import KafkaSettings, LakeSettings


def delete_bucket(s3: Any, bucket: str) -> None:
    """Every object of the bucket, then the bucket; a bucket that is gone already is fine."""
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)


def delete_topics(topics: list[str]) -> None:
    if not topics:
        return
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(KafkaSettings.from_env().client_config())
    for future in admin.delete_topics(topics, operation_timeout=30).values():
        with contextlib.suppress(Exception):  # a topic that was never created
            future.result(timeout=30)


@contextlib.contextmanager
def scratch(buckets: list[str], topics: list[str], keep: bool = False) -> Iterator[None]:
    """Delete these local buckets and topics when the block ends (unless `keep`), however it ends."""
    try:
        yield
    finally:
        if not keep:
            s3 = LakeSettings.from_env().s3_client()
            for bucket in buckets:
                delete_bucket(s3, bucket)
            delete_topics(topics)
