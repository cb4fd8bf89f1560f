"""Helpers for the stream tests: a private topic, bucket and group per test, and the CLIs as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import psycopg
import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.heart_rate_event import parse
from include.contracts.lake_layout import TOPICS_PREFIX, event_hour, parse_key
from include.contracts.paths import PROJECT_ROOT
from producer import oltp
from producer.synthetic import make_activities, make_users

SEED_USERS = 150


@dataclass
class Stream:
    """One test's private topic, lake bucket and consumer group."""

    topic: str
    bucket: str
    group: str

    def env(self, **overrides: str) -> dict[str, str]:
        return {**os.environ, "HRS_TOPIC": self.topic, "HRS_LAKE_BUCKET": self.bucket, **overrides}

    def cli(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "producer", *args], cwd=PROJECT_ROOT,
                              env=self.env(**env), capture_output=True, text=True, timeout=timeout, check=False)

    def start_sink(self, *args: str, bucket: str | None = None) -> subprocess.Popen[str]:
        env = self.env(**({"HRS_LAKE_BUCKET": bucket} if bucket else {}))
        return subprocess.Popen([sys.executable, "-m", "producer", "sink", "--group", self.group, *args],
                                cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)


def lake_objects(bucket: str, prefix: str = TOPICS_PREFIX + "/") -> dict[str, bytes]:
    s3 = boto3.client("s3")
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return objects


def lake_lines(bucket: str) -> list[tuple[str, bytes]]:
    """(key, line) for every line of every lake object, each checked to sit in its event hour's folder."""
    lines = []
    for key, body in lake_objects(bucket).items():
        folder_hour = parse_key(key).hour
        for line in body.splitlines():
            assert event_hour(parse(line).timestamp) == folder_hour, f"{line!r} is in the wrong folder {key}"
            lines.append((key, line))
    return lines


def event_ids(lines: list[tuple[str, bytes]]) -> list[str]:
    return [json.loads(line)["event_id"] for _, line in lines]


@pytest.fixture(scope="session")
def seeded_oltp(embedded: EmbeddedLayout) -> str:
    """The session's OLTP with the schema, CDC objects, 150 users and the activities."""
    dsn = embedded.oltp_dsn()
    with oltp.connect(dsn) as conn:
        oltp.apply_schema(conn)
        oltp.insert_activities(conn, make_activities(42))
        oltp.insert_users(conn, make_users(SEED_USERS, 42))
    return dsn


@pytest.fixture()
def stream(embedded: EmbeddedLayout) -> Iterator[Stream]:
    name = f"hr-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=name)
    yield Stream(topic=name, bucket=name, group=f"sink-{name}")


def create_oltp_database(layout: EmbeddedLayout, users: int, seed: int = 1) -> tuple[str, str]:
    """A fresh OLTP database with the shipped schema, `users` users and a private pgoutput slot.

    airbyte_slot is cluster-wide and belongs to the session's OLTP, so this database
    gets a slot of its own, created after the seed (the loader's snapshot covers the seed).
    """
    name = f"oltp_{uuid.uuid4().hex[:8]}"
    slot = f"slot_{name}"
    with psycopg.connect(layout.oltp_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    dsn = layout.oltp_dsn(name)
    with oltp.connect(dsn) as conn:
        oltp.apply_schema(conn)
        conn.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                     "where slot_name = 'airbyte_slot' and database = current_database()")
        oltp.insert_activities(conn, make_activities(seed))
        oltp.insert_users(conn, make_users(users, seed))
        conn.execute("select pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
    return dsn, slot


def drop_oltp_database(layout: EmbeddedLayout, dsn: str, slot: str) -> None:
    with psycopg.connect(layout.oltp_dsn("postgres"), autocommit=True) as admin:
        admin.execute("select pg_drop_replication_slot(%s)", (slot,))
        admin.execute(f'drop database "{dsn.rsplit("/", 1)[1]}"')


@pytest.fixture()
def oltp_db(embedded: EmbeddedLayout, seeded_oltp: str) -> Iterator[tuple[str, str]]:
    """(dsn, slot) of a fresh OLTP database with 20 users."""
    dsn, slot = create_oltp_database(embedded, users=20)
    yield dsn, slot
    drop_oltp_database(embedded, dsn, slot)
