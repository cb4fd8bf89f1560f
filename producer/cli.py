"""`python -m producer <command>`: the producer container's one entry point.

Connections come from the environment (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SASL_*,
HRS_TOPIC, OLTP_DSN, HRS_LAKE_BUCKET, AWS_*); in local mode they default to the
embedded services (`make env`). Errors a user can cause print one line and
exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from include.contracts.cli_arguments import number
from include.contracts.lake_layout import topic_prefix
from include.contracts.raw_schema import CDC_PUBLICATION, CDC_SLOT
from include.contracts.settings import KafkaSettings, LakeSettings, OltpSettings, SettingsError
from producer.heart_rate_producer import KafkaUnavailable
from producer.oltp import OltpError
from producer.s3_sink import LakeUnavailable, SinkRefused

EXIT_USAGE = 2


HEARTBEAT_VARIABLE = "HRS_HEARTBEAT_FILE"


def _say(message: str) -> None:
    """Print a progress line; also touch the heartbeat file the container healthcheck reads."""
    print(message, flush=True)
    heartbeat = os.environ.get(HEARTBEAT_VARIABLE)
    if heartbeat:
        Path(heartbeat).touch()


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM ask the loop to stop; it then flushes and reports before exiting."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        _say(f"received {signal.Signals(signum).name}: finishing cleanly")
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _when(text: str) -> datetime:
    if text == "now":
        return datetime.now(tz=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not 'now' or an ISO date-time like 2026-11-27T12:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    return number(kind, above=0)


# --- commands ----------------------------------------------------------------

def cmd_seed_oltp(args: argparse.Namespace) -> int:
    from producer import oltp, original_csv
    from producer.synthetic import make_activities, make_users

    # Files are read and checked before the database is touched: a bad file imports nothing.
    users = original_csv.read_users(args.import_csv) if args.import_csv else make_users(args.users, args.seed)
    activities = (original_csv.read_activities(args.import_activities_csv) if args.import_activities_csv
                  else make_activities(args.seed))
    with oltp.connect(OltpSettings.from_env().dsn) as conn:
        oltp.apply_schema(conn)
        if not args.import_activities_csv and conn.execute("select exists (select from activities)").fetchone()[0]:
            activities = []  # the built-in 23 only seed an empty table (imported ones may be there)
        if args.import_csv or args.import_activities_csv:
            original_csv.refuse_conflicts(conn, users, activities)
        with conn.transaction():
            new_activities = oltp.insert_activities(conn, activities)
            new_users = oltp.insert_users(conn, users)
        _say(f"seed-oltp: {new_users} new users ({len(users) - new_users} already there), "
             f"{new_activities} new activities; publication {CDC_PUBLICATION} and slot {CDC_SLOT} ready")
        if args.export_csv:
            count = oltp.export_users_csv(conn, args.export_csv)
            _say(f"seed-oltp: exported {count} users to {args.export_csv} (original CSV format)")
    return 0


def cmd_simulate_oltp(args: argparse.Namespace) -> int:
    from producer import oltp
    from producer.oltp_changes import simulate

    with oltp.connect(OltpSettings.from_env().dsn) as conn:
        done = simulate(conn, args.changes, args.seed, args.interval, say=_say)
    _say("simulate-oltp: " + ", ".join(f"{count} {kind}" for kind, count in sorted(done.items())))
    return 0


def cmd_produce(args: argparse.Namespace) -> int:
    from confluent_kafka import Producer

    from producer import oltp
    from producer.heart_rate_producer import (
        PRODUCER_TUNING,
        batch_messages,
        check_reachable,
        ensure_topic,
        publish,
        real_time_pace,
    )
    from producer.readings import ReadingGenerator, sessions_per_hour_for_rate

    settings = KafkaSettings.from_env()
    kafka = settings.client_config()
    check_reachable(kafka)
    with oltp.connect(OltpSettings.from_env().dsn) as conn:
        today = datetime.now(tz=UTC).date()
        profiles = oltp.load_profiles(conn, today)
        activities = oltp.load_activities(conn)
    if ensure_topic(kafka, settings.topic):
        _say(f"produce: created topic {settings.topic}")
    generator = ReadingGenerator(profiles, activities, args.seed)
    stop = _stop_on_signals()
    if args.mode == "simulate":
        end = args.end
        start = end - timedelta(hours=args.hours)
        rate = len(profiles) * args.sessions_per_user_hour
        pace = None
        _say(f"produce: simulating {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC for "
             f"{len(profiles)} users ({rate:.0f} sessions/hour)")
    else:
        start = datetime.now(tz=UTC)
        end = start + timedelta(seconds=args.duration) if args.duration else datetime(2100, 1, 1, tzinfo=UTC)
        rate = sessions_per_hour_for_rate(args.rate)
        pace = real_time_pace(stop.wait)
        _say(f"produce: live at about {args.rate:g} events/s until "
             f"{'stopped' if not args.duration else f'{end:%H:%M:%S} UTC'}")
    producer = Producer({**kafka, **PRODUCER_TUNING})
    messages = batch_messages(generator.batches(int(start.timestamp()), int(end.timestamp()), rate))
    stats = publish(producer, settings.topic, messages, stop=stop, pace=pace, progress=_say)
    _say(f"produce: {stats.produced:,} produced in {stats.seconds:.1f} s ({stats.rate:,.0f}/s); "
         f"{stats.delivered:,} delivered, {stats.failed:,} failed, {stats.undelivered:,} unconfirmed"
         + (f"; errors: {stats.errors}" if stats.errors else ""))
    return 0 if stats.failed == 0 and stats.undelivered == 0 else 1


def cmd_sink(args: argparse.Namespace) -> int:
    from confluent_kafka import Consumer, TopicPartition

    from producer.heart_rate_producer import check_reachable
    from producer.s3_sink import LakeWriter, run, write_once

    kafka, lake = KafkaSettings.from_env(), LakeSettings.from_env()
    check_reachable(kafka.client_config())
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = lake.s3_client()
    try:
        s3.head_bucket(Bucket=lake.bucket)
    except (BotoCoreError, ClientError) as error:
        raise LakeUnavailable(
            f"cannot use bucket {lake.bucket!r} at {lake.endpoint_url or 'AWS S3'} ({error}). "
            "Check HRS_LAKE_BUCKET and the AWS credentials, or start the local services with `make up`."
        ) from None
    consumer = Consumer({**kafka.consumer_config(args.group), "enable.partition.eof": True})
    topic = kafka.topic

    put_object = write_once(s3, lake.bucket)

    def commit(partition: int, next_offset: int) -> None:
        consumer.commit(offsets=[TopicPartition(topic, partition, next_offset)], asynchronous=False)

    writer = LakeWriter(topic, put_object, commit, flush_size=args.flush_size,
                        max_buffer_seconds=args.max_buffer_seconds, background=True)
    stop = _stop_on_signals()
    started = time.monotonic()
    _say(f"sink: {topic} -> s3://{lake.bucket}/{topic_prefix(topic)} (group {args.group})")
    try:
        stats = run(consumer, writer, stop, until_idle_seconds=args.until_idle, progress=_say)
    finally:
        consumer.close()
    took = time.monotonic() - started
    _say(f"sink: {stats.records:,} records in {stats.objects:,} objects, {stats.dead_letters:,} dead letters "
         f"in {took:.1f} s")
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    heartbeat = os.environ.get(HEARTBEAT_VARIABLE)
    if not heartbeat:
        print(f"unhealthy: {HEARTBEAT_VARIABLE} is not set", file=sys.stderr)
        return 1
    try:
        age = time.time() - Path(heartbeat).stat().st_mtime
    except FileNotFoundError:
        print(f"unhealthy: no heartbeat yet at {heartbeat}", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"unhealthy: last progress {age:.0f} s ago (limit {args.max_age:.0f} s)", file=sys.stderr)
        return 1
    print(f"healthy: last progress {age:.0f} s ago")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m producer",
        description="Synthetic OLTP, heart-rate producer and S3 sink (the producer container).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    seed = sub.add_parser("seed-oltp", help="create the OLTP schema (CDC-ready) and load synthetic users",
                          description=f"Create tables, publication {CDC_PUBLICATION} and slot {CDC_SLOT}, "
                                      "then insert users and the 23 activities. Idempotent.")
    seed.add_argument("--users", type=_positive(int), default=1000, help="how many users (default 1000)")
    seed.add_argument("--seed", type=int, default=42, help="random seed: same seed, same rows (default 42)")
    seed.add_argument("--import-csv", type=Path, metavar="USERS_CSV",
                      help="load users from the original system's users.csv instead of synthetic ones")
    seed.add_argument("--import-activities-csv", type=Path, metavar="ACTIVITIES_CSV",
                      help="load activities from the original system's activities.csv instead of the built-in 23")
    seed.add_argument("--export-csv", type=Path, help="also write all users to this CSV (original format)")

    changes = sub.add_parser("simulate-oltp", help="apply random OLTP changes (weight, moves, new users, deletes)",
                             description="Each change commits on its own, as a CDC source sees real traffic.")
    changes.add_argument("--changes", type=_positive(int), default=20, help="how many changes (default 20)")
    changes.add_argument("--interval", type=float, default=0.0, help="seconds between changes (default 0)")
    changes.add_argument("--seed", type=int, default=7, help="random seed (default 7)")

    produce = sub.add_parser("produce", help="send heart-rate readings to Kafka",
                             description="simulate: fast-forward a past event-time range as fast as possible; "
                                         "live: real-time pacing at about --rate events/s.")
    produce.add_argument("--mode", choices=("simulate", "live"), default="simulate")
    produce.add_argument("--hours", type=_positive(float), default=6.0,
                         help="simulate: hours of event time (default 6)")
    produce.add_argument("--end", type=_when, default="now", help="simulate: end of the range, 'now' or ISO (UTC)")
    produce.add_argument("--sessions-per-user-hour", type=_positive(float), default=0.25,
                         help="simulate: workout sessions per user per hour (default 0.25)")
    produce.add_argument("--rate", type=_positive(float), default=50.0, help="live: events per second (default 50)")
    produce.add_argument("--duration", type=_positive(float), help="live: stop after this many seconds")
    produce.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    sink = sub.add_parser("sink", help="write the topic to the S3 lake by event hour",
                          description="Consumer group -> s3://$HRS_LAKE_BUCKET/topics/<topic>/year=/month=/day=/"
                                      "hour=/<topic>+<partition>+<startOffset>.json, offsets committed after writes.")
    sink.add_argument("--group", default="hr-s3-sink", help="consumer group id (default hr-s3-sink)")
    sink.add_argument("--flush-size", type=_positive(int), default=10_000, help="records per object at most")
    sink.add_argument("--max-buffer-seconds", type=float, default=30.0,
                      help="flush a caught-up partition's records after this long (default 30)")
    sink.add_argument("--until-idle", type=_positive(float),
                      help="stop after every partition has been caught up for this many seconds")

    health = sub.add_parser("healthcheck", help="exit 0 if the running command reported progress recently",
                            description=f"Reads the heartbeat file named by ${HEARTBEAT_VARIABLE} (the container's "
                                        "HEALTHCHECK).")
    health.add_argument("--max-age", type=_positive(float), default=120.0, help="seconds (default 120)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "healthcheck":
        return cmd_healthcheck(args)
    handlers = {"seed-oltp": cmd_seed_oltp, "simulate-oltp": cmd_simulate_oltp,
                "produce": cmd_produce, "sink": cmd_sink}
    try:
        return handlers[args.command](args)
    except (SettingsError, OltpError, KafkaUnavailable, LakeUnavailable, SinkRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
