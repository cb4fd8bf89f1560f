"""The local dashboard: one static HTML page built from the serving marts (no server needed to view it).

Rebuilt by the DAG's local serving refresh after every published hour.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

from include.serving_marts import SERVING_MARTS

PAGE = "index.html"


def _rows(conn, relation: str) -> tuple[list[str], list[tuple]]:
    cursor = conn.execute(f"select * from {relation}")  # noqa: S608 - relation names are constants
    return [column[0] for column in cursor.description], cursor.fetchall()


def build(warehouse_path: Path, out_dir: Path) -> Path:
    """Write `index.html` into out_dir from the marts in the warehouse; returns its path."""
    from include.warehouse import reader

    panels = {}
    with reader(warehouse_path) as conn:
        for mart in SERVING_MARTS:
            columns, rows = _rows(conn, mart.relation)
            panels[mart.name] = {"question": mart.question, "columns": columns,
                                 "rows": [[_plain(value) for value in row] for row in rows]}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PAGE
    body = "\n".join(
        f"<section id='{name}'><h2>{html.escape(panel['question'])}</h2><p>{len(panel['rows'])} rows</p></section>"
        for name, panel in panels.items()
    )
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        f"<!doctype html><meta charset='utf-8'><title>Heart-rate research dashboard</title>"
        f"<p>built {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC</p>{body}"
        f"<script type='application/json' id='data'>{html.escape(json.dumps(panels))}</script>",
        encoding="utf-8",
    )
    temporary.replace(path)
    return path


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)
