"""The local dashboard: one static HTML page built from the serving marts (open the file; no server).

One panel per research question (from `include.serving.research_findings`), a
data-quality panel (each hour's checks, held hours) and the pipeline's
freshness. The page is `templates/dashboard.html.j2` (Jinja, autoescaped) with
`static/dashboard.css` and `static/dashboard.js` inlined, and the data embedded
as JSON: the script draws the charts as SVG and nothing is fetched, so the page
works offline and from any folder. Rebuilt by the DAG's local serving refresh
after every published hour; written to a temporary file and renamed, so a
reader never sees half a page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from include.contracts.warehouse_relations import DQ_HOURLY, FACT_HEART_RATES, PUBLISHED_HOURS
from include.serving.research_findings import Finding, all_findings, suppression_note

PAGE = "index.html"
DQ_HOURS = 48
HERE = Path(__file__).parent
TEMPLATE = "dashboard.html.j2"


def quality_hours(conn: Any, limit: int = DQ_HOURS) -> list[dict[str, Any]]:
    """The latest hours' checks, and whether each is in serving (published at least once)."""
    rows = conn.execute(
        f"select checks.event_hour, checks.readings, checks.passed, checks.failing_checks, "  # noqa: S608 - constants
        f"exists (select 1 from {PUBLISHED_HOURS} as published where published.event_hour = checks.event_hour) "
        f"from {DQ_HOURLY} as checks order by checks.event_hour desc limit ?", [limit]).fetchall()
    return [{"hour": hour.astimezone(UTC).strftime("%Y-%m-%d %H:00"), "readings": int(readings),
             "passed": bool(passed), "failing": failing or "", "in_serving": bool(in_serving)}
            for hour, readings, passed, failing, in_serving in reversed(rows)]


def freshness(conn: Any, built_at: datetime) -> dict[str, str]:
    last_event, last_load = conn.execute(
        f"select max(event_at), max(loaded_at) from {FACT_HEART_RATES}").fetchone()  # noqa: S608 - a constant

    def stamp(value: datetime | None) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"

    lag = f"{(built_at - last_event).total_seconds() / 60:,.0f} min" if last_event else "n/a"
    return {"last reading": stamp(last_event), "last load": stamp(last_load),
            "dashboard built": stamp(built_at), "newest reading's age": lag}


def build(warehouse_path: Path, out_dir: Path) -> Path:
    """Write `index.html` into out_dir from the warehouse's serving marts and checks; returns its path."""
    from include.warehouse import reader

    built_at = datetime.now(tz=UTC)
    with reader(warehouse_path) as conn:
        findings = all_findings(conn)
        quality = quality_hours(conn)
        fresh = freshness(conn, built_at)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PAGE
    temporary = path.with_name(f".{PAGE}.tmp")
    temporary.write_text(render(findings, quality, fresh), encoding="utf-8")
    temporary.replace(path)
    return path


@cache
def _template() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                              undefined=StrictUndefined, keep_trailing_newline=True)
    return environment.get_template(TEMPLATE)


def render(findings: list[Finding], quality: list[dict[str, Any]], fresh: dict[str, str]) -> str:
    data = {"findings": [{"number": f.number, "chart": f.chart} for f in findings], "quality": quality}
    held = [hour for hour in quality if not hour["passed"]]
    held_text = ("; ".join(f"{h['hour']} ({h['failing']})" for h in held) if held
                 else f"none in the last {len(quality)} hours")
    # `</` cannot appear inside the JSON script block, so the data cannot close it early.
    payload = json.dumps(data).replace("</", "<\\/")
    return _template().render(
        findings=findings, freshness=fresh, held=held_text, payload=payload, suppression=suppression_note(),
        style=(HERE / "static" / "dashboard.css").read_text(), script=(HERE / "static" / "dashboard.js").read_text(),
    )
