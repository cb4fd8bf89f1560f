"""On-call alerts: one message that names the DAG, the task, the interval, the failing check and the log.

Every alert is appended to `alerts.jsonl` (under HRS_LOCAL_DIR) and logged first,
so it exists before any channel is tried; when `SLACK_WEBHOOK_URL` is set it is
also posted there. A channel that fails never raises (an unreachable Slack must
not hide the failure being reported) and never fails silently either: the
failure is logged at error level and appended to `alerts.jsonl` as a
`delivery_failed` line naming the channel, the error and the alert.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from include.contracts.settings import alerts_dir

log = logging.getLogger(__name__)
ALERTS_FILE = "alerts.jsonl"
SLACK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    dag_id: str
    task_id: str
    run_id: str
    interval_start: str
    interval_end: str
    failing_check: str
    log_url: str
    raised_at: str = ""
    details: str = ""
    """Further lines of the failure (for a held hour: the check, by how much, the objects to look at)."""
    severity: str = "page"
    """`page`: the task failed for good; `warning`: a try failed and Airflow will retry it."""

    @property
    def text(self) -> str:
        if self.severity == "warning":
            head = f":warning: {self.dag_id}.{self.task_id} failed a try (Airflow retries it)"
        else:
            head = f":rotating_light: {self.dag_id}.{self.task_id} failed"
        text = (f"{head} for [{self.interval_start}, {self.interval_end}) (run {self.run_id}): "
                f"{self.failing_check}. Log: {self.log_url}")
        return f"{text}\n{self.details}" if self.details else text


def record(alert: Alert, folder: Path) -> Path:
    """Append the alert as one JSON line; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ALERTS_FILE
    document = {**asdict(alert), "raised_at": alert.raised_at or datetime.now(tz=UTC).isoformat(),
                "text": alert.text}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(document, sort_keys=True) + "\n")
    log.error("ALERT %s", alert.text)
    return path


def record_delivery_failure(alert: Alert, channel: str, error: str, folder: Path | None = None) -> None:
    """A channel could not deliver the alert: say so in the log and in alerts.jsonl, next to the alert."""
    folder = folder or alerts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    document = {"kind": "delivery_failed", "channel": channel, "error": error, "dag_id": alert.dag_id,
                "task_id": alert.task_id, "run_id": alert.run_id, "failed_at": datetime.now(tz=UTC).isoformat(),
                "alert_text": alert.text}
    with open(folder / ALERTS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(document, sort_keys=True) + "\n")
    log.error("ALERT NOT DELIVERED by %s (%s): %s", channel, error, alert.text.splitlines()[0])


def post_to_slack(alert: Alert, webhook_url: str, timeout: float = SLACK_TIMEOUT_SECONDS) -> bool:
    """POST the alert to a Slack incoming webhook; False when that fails (the caller records why)."""
    request = urllib.request.Request(  # noqa: S310 - the operator's own webhook URL
        webhook_url, data=json.dumps({"text": alert.text}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return 200 <= response.status < 300


def send(alert: Alert, folder: Path | None = None, webhook_url: str | None = None) -> None:
    """Record the alert locally, then post it to Slack when a webhook is configured."""
    folder = folder or alerts_dir()
    record(alert, folder)
    webhook_url = webhook_url if webhook_url is not None else os.environ.get("SLACK_WEBHOOK_URL")
    if not webhook_url:
        return
    try:
        delivered, error = post_to_slack(alert, webhook_url), "Slack answered with a non-2xx status"
    except (urllib.error.URLError, TimeoutError, OSError) as failure:
        delivered, error = False, f"{type(failure).__name__}: {failure}"
    if not delivered:
        record_delivery_failure(alert, "slack", error, folder)
