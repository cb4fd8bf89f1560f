"""On-call alerts: one message that names the DAG, the task, the interval, the failing check and the log.

Locally every alert is appended to `alerts.jsonl` (under HRS_LOCAL_DIR) and
logged; when `SLACK_WEBHOOK_URL` is set it is also posted there. Posting never
raises: an unreachable Slack must not hide the failure being reported, so a
failed post is logged and recorded in the alert itself.
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

    @property
    def text(self) -> str:
        text = (f":rotating_light: {self.dag_id}.{self.task_id} failed for [{self.interval_start}, "
                f"{self.interval_end}) (run {self.run_id}): {self.failing_check}. Log: {self.log_url}")
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


def post_to_slack(alert: Alert, webhook_url: str, timeout: float = SLACK_TIMEOUT_SECONDS) -> bool:
    """POST the alert to a Slack incoming webhook; False (and a log line) when that fails."""
    request = urllib.request.Request(  # noqa: S310 - the operator's own webhook URL
        webhook_url, data=json.dumps({"text": alert.text}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        log.warning("could not post the alert to Slack: %s", error)
        return False


def send(alert: Alert, folder: Path | None = None, webhook_url: str | None = None) -> None:
    """Record the alert locally and post it to Slack when a webhook is configured."""
    folder = folder or alerts_dir()
    record(alert, folder)
    webhook_url = webhook_url if webhook_url is not None else os.environ.get("SLACK_WEBHOOK_URL")
    if webhook_url:
        post_to_slack(alert, webhook_url)
