"""How Airflow pages on-call: a task-failure notifier and the DAG run's deadline callback.

Both build one `include.hourly.alerts.Alert` (DAG, task, interval, the failing check, a
link to the log) and hand it to `alerts.send`: always `alerts.jsonl` plus the
log, Slack when `SLACK_WEBHOOK_URL` is set. E-mail goes out too when
`ALERT_EMAIL` is set, through the SMTP provider's notifier (connection
`smtp_default`), from `ALERT_EMAIL_FROM` or else the connection's `from_email`
extra: the notifier refuses to send without a sender. A notifier never raises:
the failure it reports must stay visible; a channel that fails is itself
reported (log and a `delivery_failed` line in alerts.jsonl).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseNotifier

from include.hourly.alerts import Alert, record_delivery_failure, send

log = logging.getLogger(__name__)


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def failing_check(exception: BaseException | str | None) -> str:
    """The one line that says what failed: the gate's held checks, a dbt test, a timeout."""
    if exception is None:
        return "unknown failure (no exception in the context; see the log)"
    if isinstance(exception, str):
        return exception.strip().splitlines()[0] if exception.strip() else "unknown failure"
    lines = str(exception).strip().splitlines()
    return f"{type(exception).__name__}: {lines[0] if lines else '(no message)'}"


def failure_details(exception: BaseException | str | None) -> str:
    """The lines after the first of the failure's message (the gate puts each held hour's why there)."""
    if exception is None:
        return ""
    return "\n".join(str(exception).strip().splitlines()[1:])


def alert_from_context(context: Mapping[str, Any], severity: str = "page") -> Alert:
    """The alert for a failed task instance, from its Airflow context."""
    ti = context["ti"]
    return Alert(
        severity=severity,
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        interval_start=_iso(context.get("data_interval_start")),
        interval_end=_iso(context.get("data_interval_end")),
        failing_check=failing_check(context.get("exception")),
        log_url=getattr(ti, "log_url", ""),
        details=failure_details(context.get("exception")),
    )


def _email(alert: Alert, context: Mapping[str, Any], to: str) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    what = "failed a try (retrying)" if alert.severity == "warning" else "failed"
    subject = f"[on-call] {alert.dag_id}.{alert.task_id} {what} for {alert.interval_start}"
    SmtpNotifier(to=to, from_email=os.environ.get("ALERT_EMAIL_FROM") or None, subject=subject,
                 html_content=f"<p>{alert.text}</p>").notify(context)


class OnCallNotifier(BaseNotifier):
    """Every task's `on_failure_callback` (severity `page`) and `on_retry_callback` (`warning`): record the
    alert, post to Slack, e-mail when configured."""

    def __init__(self, severity: str = "page") -> None:
        super().__init__()
        self.severity = severity

    def notify(self, context: Any) -> None:
        try:
            alert = alert_from_context(context, self.severity)
            send(alert)
        except Exception:  # a broken alert must not mask the task's own failure
            log.exception("could not record the on-call alert")
            return
        to = os.environ.get("ALERT_EMAIL")
        if to:
            try:
                _email(alert, context, to)
            except Exception as error:  # noqa: BLE001 - any channel failure is recorded, never raised
                record_delivery_failure(alert, f"email to {to}", f"{type(error).__name__}: {error}")


async def run_overran(context: Mapping[str, Any] | None = None, **_: Any) -> None:
    """Deadline callback (run by the triggerer): the hourly run is still going after its deadline."""
    context = context or {}
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    send(Alert(
        dag_id=str(dag_run.get("dag_id", "")),
        task_id="(run deadline)",
        run_id=str(dag_run.get("dag_run_id") or dag_run.get("run_id", "")),
        interval_start=str(dag_run.get("data_interval_start", "")),
        interval_end=str(dag_run.get("data_interval_end", "")),
        failing_check=f"deadline: the run had not finished by {deadline.get('deadline_time', 'its deadline')}",
        log_url=f"{_base_url()}/dags/{dag_run.get('dag_id', '')}/runs/"
                f"{dag_run.get('dag_run_id') or dag_run.get('run_id', '')}",
    ))


def _base_url() -> str:
    """The Airflow UI's address, as the task log links use it ([api] base_url)."""
    return os.environ.get("AIRFLOW__API__BASE_URL", "http://localhost:8080").rstrip("/")
