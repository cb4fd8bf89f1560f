"""Run the real hourly DAG in this process, one `dag.test()` per hour: what `make demo` and the tests do.

    python -m dev.dag_runs --from 2026-11-27T10:00Z --to 2026-11-27T13:00Z

runs the hours 10:00, 11:00 and 12:00 (UTC) in order, exactly as the scheduler
would: the same DAG file, tasks, gate and alerts, against the configured
services (`make up` for the embedded ones). It works from a plain shell: it
puts `make env`'s settings in place (variables already set win) before it
imports anything of Airflow, which reads them once, at import. Airflow's
metadata database is the embedded PostgreSQL's, migrated on first use. Airflow's own
task logs go to `--log` (default `.local/logs/dag_runs.log`); the terminal
gets one line per run. A run whose gate holds serving ends `failed`, as it
does in the scheduler; the exit code is 1 when any run did not succeed.

Before Airflow starts, a preflight checks what every run needs (the lake, the
OLTP database, a writable warehouse) and refuses hours that have not ended yet,
so a mistake is one line at once instead of retries in the log. SIGTERM and
Ctrl+C stop it between or inside a run: what a task committed stays (each load
and dbt model commits whole or not at all), the exit code is 130.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dev.embedded.layout import EmbeddedLayout, apply_environment
from include.contracts.lake_layout import HOUR, interval_hours
from include.contracts.paths import DAGS_DIR
from include.contracts.settings import DBT_SENSORS_VARIABLE

DAG_ID = "heart_rate_hourly"
DAG_FILE = DAGS_DIR / f"{DAG_ID}.py"


class DagRunError(RuntimeError):
    """The DAG could not be loaded or run (not a failed run: that is a result)."""


@dataclass(frozen=True)
class HourRun:
    hour: datetime
    state: str
    seconds: float
    task_states: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    @property
    def published(self) -> bool:
        from include.hourly.serving_refresh import TASK_ID as REFRESH_SERVING

        return self.task_states.get(REFRESH_SERVING) == "success"

    @property
    def held(self) -> bool:
        """The gate held the hour (the run failed on purpose, serving untouched)."""
        from include.hourly.gate_tasks import HOLD

        return self.task_states.get(HOLD) == "failed"

    @property
    def failed_tasks(self) -> list[str]:
        return sorted(task for task, state in self.task_states.items() if state in ("failed", "upstream_failed"))

    def line(self) -> str:
        outcome = "published" if self.published else ("held" if self.held else "failed")
        failed = f" (failed: {', '.join(self.failed_tasks)})" if self.failed_tasks else ""
        return f"{self.hour:%Y-%m-%d %H:00} UTC  {self.state:<8} {outcome:<9} {self.seconds:5.1f} s{failed}"


def parse_hour(text: str) -> datetime:
    """An ISO time, read as UTC when it has no zone, floored to the hour."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DagRunError(f"{text!r} is not an ISO time such as 2026-11-27T10:00Z") from None
    moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime, end: datetime, now: datetime | None = None,
                  given: tuple[str, str] | None = None) -> list[datetime]:
    """The whole hours from `start` to `end` (both floored to the hour), all of them already over."""
    if end <= start:
        asked = f" (you gave --from {given[0]} --to {given[1]})" if given else ""
        raise DagRunError(f"--to must be at least one whole hour after --from: both are floored to the hour, "
                          f"so this is [{start:%Y-%m-%d %H:00}, {end:%Y-%m-%d %H:00}) UTC, no hour{asked}")
    hours = interval_hours(start, end)
    now = now or datetime.now(tz=UTC)
    if hours[-1] + HOUR > now:
        raise DagRunError(f"the hour {hours[-1]:%Y-%m-%d %H:00} UTC has not ended yet (it ends at "
                          f"{hours[-1] + HOUR:%H:00}, now is {now:%H:%M}): its objects may still be coming, and "
                          "the run's sensor would wait for them up to an hour. Run hours that have ended.")
    return hours


def preflight() -> None:
    """Everything a local run needs, checked in seconds, each failure one line naming what to do."""
    from botocore.exceptions import BotoCoreError, ClientError

    from include.contracts.oltp_connection import OltpError, connect
    from include.contracts.settings import LakeSettings, OltpSettings, SettingsError, WarehouseSettings
    from include.warehouse import WarehouseError, writer

    try:
        lake, oltp, warehouse = LakeSettings.from_env(), OltpSettings.from_env(), WarehouseSettings.from_env()
    except SettingsError as error:
        raise DagRunError(str(error)) from None
    try:
        lake.s3_client().head_bucket(Bucket=lake.bucket)
    except (BotoCoreError, ClientError) as error:
        raise DagRunError(f"the lake {lake.where} cannot be reached: {error}. Start the services "
                          "(`make up`) or check HRS_LAKE_BUCKET / AWS_ENDPOINT_URL.") from None
    try:
        connect(oltp.dsn).close()
    except OltpError as error:
        raise DagRunError(str(error)) from None
    try:
        with writer(warehouse.warehouse_path, wait_seconds=30):
            pass
    except WarehouseError as error:
        raise DagRunError(str(error)) from None


def _stop_on_sigterm() -> None:
    """SIGTERM (`timeout`, `kill`, a supervisor) stops the runs as Ctrl+C does, instead of being ignored."""
    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)


def _prepare_airflow() -> None:
    """Point Airflow at the project's settings and make sure its metadata database exists and is migrated."""
    from dev.embedded.services import create_databases

    layout = apply_environment()
    if os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == layout.airflow_database_url():
        create_databases(layout)
    from airflow.utils.db import upgradedb

    upgradedb()


def load_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    if bag.import_errors:
        errors = "; ".join(error.strip().splitlines()[-1] for error in bag.import_errors.values())
        raise DagRunError(f"{DAG_FILE.name} does not import: {errors}")
    dag = bag.dags[DAG_ID]
    # Airflow 3.3's dag.test() does not register deadline alerts in the database and then fails
    # to look them up by id when the run succeeds; the scheduler is unaffected. The deadline
    # callback itself is tested on its own (tests/integration/test_on_call_notifications.py).
    dag.deadline = None
    return dag


@contextmanager
def output_to(log_path: Path | None, indent: str = "") -> Iterator[Callable[[str], None]]:
    """Send everything written to stdout/stderr (Airflow's task logs) to log_path; yield a printer
    that still reaches the terminal. With no log_path, nothing is redirected."""
    if log_path is None:
        yield lambda message: print(f"{indent}{message}", flush=True)
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with open(log_path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield lambda message: print(f"{indent}{message}", file=terminal, flush=True)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            terminal.close()


def run_hours(hours: Sequence[datetime], log_path: Path | None = None, indent: str = "") -> list[HourRun]:
    """One `dag.test()` per hour, in order; each hour's run covers the data interval [hour, hour + 1h).
    Progress lines go to the terminal (indented), Airflow's logs to log_path when given."""
    with output_to(log_path, indent) as say:
        return _run_hours(hours, say)


def _run_hours(hours: Sequence[datetime], say: Callable[[str], None]) -> list[HourRun]:
    # dag.test() runs a deferred trigger inline: the dbt sensors must reschedule instead (include.hourly).
    os.environ.setdefault(DBT_SENSORS_VARIABLE, "reschedule")
    _prepare_airflow()
    dag = load_dag()
    results = []
    for index, hour in enumerate(hours, start=1):
        say(f"run {index}/{len(hours)}: {dag.dag_id} for [{hour:%Y-%m-%d %H:00}, {hour + HOUR:%H:00}) UTC ...")
        started = time.monotonic()
        try:
            with _manual_runs_cover_the_hour_they_start():
                dag_run = dag.test(logical_date=hour)
        except Exception as error:  # noqa: BLE001 - Airflow could not start the run: say why, in one line
            raise DagRunError(f"Airflow could not run the hour {hour:%Y-%m-%d %H:00}: {error}") from None
        states = {ti.task_id: _state(ti.state) for ti in dag_run.get_task_instances()}
        result = HourRun(hour, _state(dag_run.state), time.monotonic() - started, states)
        say(f"  {result.line()}")
        results.append(result)
    return results


@contextmanager
def _manual_runs_cover_the_hour_they_start() -> Iterator[None]:
    """While `dag.test()` creates a run, a manual run's data interval is the hour that starts at its logical
    date: the scheduler and `airflow backfill create` give the run of hour H the logical date H (its interval's
    start), and Airflow keeps one run per logical date. A run made here is then the very run the scheduler would
    make for that hour, so `make airflow` and backfills skip the hours done here. (Left to infer the hour that
    ends at the logical date, a run of hour H had to take the logical date H+1h, and the scheduler skipped the
    hour after it: "run already exists".) Only this process's timetable class is touched, only meanwhile."""
    from airflow.timetables.base import DataInterval
    from airflow.timetables.interval import CronDataIntervalTimetable

    inferred = CronDataIntervalTimetable.infer_manual_data_interval

    def the_hour_from(self: CronDataIntervalTimetable, *, run_after: datetime) -> DataInterval:
        start = self._align_to_prev(run_after)
        return DataInterval(start=start, end=self._get_next(start))

    CronDataIntervalTimetable.infer_manual_data_interval = the_hour_from  # type: ignore[method-assign]
    try:
        yield
    finally:
        CronDataIntervalTimetable.infer_manual_data_interval = inferred  # type: ignore[method-assign]


def _state(state: object) -> str:
    """'success', 'failed', ... from Airflow's state enums (or None for a task that never ran)."""
    return str(getattr(state, "value", state))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.dag_runs", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--from", dest="start", required=True, help="first hour to run (ISO, UTC)")
    parser.add_argument("--to", dest="end", required=True, help="end of the range, exclusive (ISO, UTC)")
    parser.add_argument("--log", type=Path, help="file for Airflow's task logs (default .local/logs/dag_runs.log)")
    parser.add_argument("--verbose", action="store_true", help="show Airflow's task logs here instead")
    args = parser.parse_args(argv)
    log_path = None if args.verbose else (args.log or EmbeddedLayout.from_env().log_dir / "dag_runs.log")
    _stop_on_sigterm()
    try:
        hours = hours_between(parse_hour(args.start), parse_hour(args.end), given=(args.start, args.end))
        apply_environment()
        preflight()
        if log_path:
            print(f"Airflow task logs: {log_path}", flush=True)
        results = run_hours(hours, log_path=log_path)
    except DagRunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"interrupted ({interrupt or 'SIGINT'}): runs stopped; what their tasks committed stays, "
              "re-run the hours to finish them", file=sys.stderr)
        return 130
    print("summary:")
    for result in results:
        print(f"  {result.line()}")
    return 0 if all(result.succeeded for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
