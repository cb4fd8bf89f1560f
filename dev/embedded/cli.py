"""`python -m dev.embedded`: run the embedded local services (behind `make up/down/status/env`)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence

from dev.embedded.layout import LOOPBACK, EmbeddedLayout, LayoutError
from dev.embedded.services import SERVICE_ORDER, service_specs, start_all, stop_all
from dev.embedded.supervisor import ServiceError, State, status

EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_up(layout: EmbeddedLayout, names: Sequence[str]) -> int:
    start_all(layout, names, say=_say)
    _say(f"all up. Settings: `make env` (warehouse: {layout.warehouse_path})")
    return 0


def cmd_down(layout: EmbeddedLayout, names: Sequence[str]) -> int:
    stop_all(layout, names, say=_say)
    return 0


def cmd_status(layout: EmbeddedLayout, names: Sequence[str]) -> int:
    specs = service_specs(layout)
    all_running = True
    for name in names:
        report = status(specs[name])
        pid = f"pid {report.pid}" if report.pid else "-"
        line = f"{report.name:<9} {report.state.value:<10} {LOOPBACK}:{report.port:<6} {pid}"
        _say(line + (f"\n  {report.detail}" if report.detail else ""))
        all_running &= report.state is State.RUNNING
    for line in durability(layout):
        _say(line)
    if not all_running:
        _say("not everything is running: `make up` starts what is missing")
    return 0 if all_running else EXIT_NOT_RUNNING


def durability(layout: EmbeddedLayout) -> list[str]:
    """What survives `make down` / `make up` (only `make clean` deletes data)."""
    broker = ("kept in the local S3 server, durable (HRS_KAFKA_STORAGE=s3)" if layout.kafka_storage == "s3" else
              "in memory, lost on `make down` (HRS_KAFKA_STORAGE=s3 keeps it; the sink refuses to overwrite the "
              "lake after a broker lost its log)")
    return [
        "durable across `make down` / `make up` (only `make clean` deletes them):",
        f"  lake (local S3): {layout.data_dir('s3')} (every change recorded, replayed at start, less what later "
        "deletes undid)",
        f"  OLTP and Airflow metadata (PostgreSQL): {layout.data_dir('postgres')}",
        f"  warehouse (DuckDB): {layout.warehouse_path}",
        f"  broker log: {broker}",
    ]


def cmd_env(layout: EmbeddedLayout, fmt: str) -> int:
    environment = layout.environment()
    if fmt == "json":
        print(json.dumps(environment, indent=2))
    elif fmt == "dotenv":
        for key, value in environment.items():
            print(f"{key}={value}")
    else:
        for key, value in environment.items():
            print(f"export {key}={shlex.quote(value)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dev.embedded",
        description=(
            "Run the embedded local services on 127.0.0.1: moto S3 (s3), PostgreSQL (postgres), "
            "the Tansu Kafka broker (kafka). Data under .local/ (HRS_LOCAL_DIR); ports from "
            "HRS_S3_PORT, HRS_PG_PORT, HRS_KAFKA_PORT."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("up", "start services (all by default) and wait until each is healthy; harmless if running"),
        ("down", "stop services by PID (SIGINT, then SIGTERM, then SIGKILL)"),
        ("status", "show each service's state; exit 3 unless all are running"),
    ):
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument("services", nargs="*", choices=[[], *SERVICE_ORDER], metavar="SERVICE",
                             help=f"any of {', '.join(SERVICE_ORDER)} (default: all)")
    env = sub.add_parser("env", help="print the settings everything else reads",
                         description="Print the connection settings (Kafka, S3, OLTP, warehouse, "
                                     "AIRFLOW_CONN_*) of the embedded services.")
    env.add_argument("--format", choices=("shell", "dotenv", "json"), default="shell",
                     help="shell: `eval \"$(... env)\"`; dotenv: for .env files; json")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        layout = EmbeddedLayout.from_env()
        if args.command == "env":
            return cmd_env(layout, args.format)
        names = [name for name in SERVICE_ORDER if not args.services or name in args.services]
        handler = {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.command]
        return handler(layout, names)
    except (ServiceError, LayoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: `make down` stops whatever was started", file=sys.stderr)
        return 130
