"""How the hourly DAG runs, retries and pages: one home for the schedule and task defaults.

- Schedule: contiguous one-hour data intervals in UTC (`CronDataIntervalTimetable`),
  so a run for [H, H+1) starts at H+1 with the interval in its templates. Airflow
  3's plain cron string would give zero-length intervals.
- Backfills are safe: one run at a time (`max_active_runs=1`), since each hour's
  fact rebuild and late-data pickup assume the previous hour has finished, and
  every step is idempotent for its interval (a re-run rebuilds the same rows).
- Failures: a warning to on-call on every failed try that will be retried (so a
  broken service is known within minutes), two retries 2 minutes apart, then the
  page. The delay is fixed, not exponential: Airflow's backoff grows with the try
  number, which keeps counting when an hour is cleared and re-run, so a re-run hour
  would wait up to the cap between tries and page half an hour late.
  A run still going 45 minutes after it was queued raises a deadline alert: the
  next hour is about to queue behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import AsyncCallback, CronDataIntervalTimetable, DeadlineAlert, DeadlineReference

from include.hourly.notifications import OnCallNotifier, run_overran

OWNER = "data-platform"
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
HOURLY = CronDataIntervalTimetable("0 * * * *", timezone="UTC")
RUN_TIMEOUT = timedelta(minutes=55)
RETRY_DELAY = timedelta(minutes=2)
DEADLINE_AFTER_QUEUED = timedelta(minutes=45)
TAGS = ["wearables", "hourly", "dbt", "data-quality"]

TASK_TIMEOUT = timedelta(minutes=40)
"""The longest any one task may run (and how long a dbt sensor waits for the build to report its node)."""

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": 0,
    "execution_timeout": TASK_TIMEOUT,
    "on_failure_callback": [OnCallNotifier()],
    "on_retry_callback": [OnCallNotifier(severity="warning")],
}

RUN_DEADLINE = DeadlineAlert(
    reference=DeadlineReference.DAGRUN_QUEUED_AT,
    interval=DEADLINE_AFTER_QUEUED,
    callback=AsyncCallback(run_overran),
    name="hourly run overran",
)
