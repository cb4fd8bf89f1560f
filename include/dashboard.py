"""The local dashboard: one static HTML page built from the serving marts (open the file; no server).

One panel per research question (from `include.research_findings`), a
data-quality panel (each hour's checks, held hours) and the pipeline's
freshness. The charts are drawn in the browser from the data embedded in the
page by a few dozen lines of plain JavaScript: nothing is fetched, so the page
works offline and from any folder. Rebuilt by the DAG's local serving refresh
after every published hour; written to a temporary file and renamed, so a
reader never sees half a page.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.research_findings import Finding, all_findings

PAGE = "index.html"
DQ_HOURS = 48


def quality_hours(conn: Any, limit: int = DQ_HOURS) -> list[dict[str, Any]]:
    rows = conn.execute(
        "select event_hour, readings, passed, failing_checks from quality.dq_hourly "
        "order by event_hour desc limit ?", [limit]).fetchall()
    return [{"hour": hour.astimezone(UTC).strftime("%Y-%m-%d %H:00"), "readings": int(readings),
             "passed": bool(passed), "failing": failing or ""} for hour, readings, passed, failing in reversed(rows)]


def freshness(conn: Any, built_at: datetime) -> dict[str, str]:
    last_event, last_load = conn.execute("select max(event_at), max(loaded_at) from core.fct_heart_rates").fetchone()

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


def render(findings: list[Finding], quality: list[dict[str, Any]], fresh: dict[str, str]) -> str:
    data = {"findings": [{"number": f.number, "chart": f.chart} for f in findings], "quality": quality}
    panels = "\n".join(_panel(f) for f in findings)
    held = [hour for hour in quality if not hour["passed"]]
    held_text = ("; ".join(f"{h['hour']} ({h['failing']})" for h in held) if held
                 else "none in the last " + str(len(quality)) + " hours")
    facts = "".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>" for k, v in fresh.items())
    # `</` cannot appear inside the JSON script block, so the data cannot close it early.
    payload = json.dumps(data).replace("</", "<\\/")
    return PAGE_TEMPLATE.format(
        panels=panels, facts=facts, held=html.escape(held_text), payload=payload, style=STYLE, script=SCRIPT,
    )


def _panel(finding: Finding) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in finding.headline) or "<li>no rows yet</li>"
    return (f"<section class='panel' data-panel='q{finding.number}'>"
            f"<h2><span>Q{finding.number}</span> {html.escape(finding.question)}</h2>"
            f"<ul class='headline'>{items}</ul><div class='chart' id='chart-q{finding.number}'></div>"
            f"<p class='source'>serving.{html.escape(finding.mart)}</p></section>")


PAGE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Heart-rate research dashboard</title>
<style>{style}</style></head>
<body>
<header><h1>Heart-rate research dashboard</h1>
<p>Wearable readings → Kafka → S3 → warehouse → serving marts. Rebuilt after every published hour.</p></header>
<section class="panel wide" data-panel="freshness"><h2>Pipeline freshness</h2><dl class="facts">{facts}</dl></section>
<main>{panels}</main>
<section class="panel wide" data-panel="quality"><h2>Data quality per hour</h2>
<p>Held hours (serving not refreshed for them): {held}</p>
<div class="chart" id="chart-quality"></div>
<table id="quality-table"><thead><tr><th>hour (UTC)</th><th>readings</th><th>checks</th></tr></thead>
<tbody></tbody></table>
</section>
<pre id="page-errors" hidden></pre>
<script type="application/json" id="dashboard-data">{payload}</script>
<script>{script}</script>
</body></html>
"""

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#1d2733;background:#f6f7f9}
header h1{margin:0 0 4px;font-size:24px} header p{margin:0 0 16px;color:#5b6775}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:16px;margin:16px 0}
.panel{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 16px}
.panel h2{font-size:16px;margin:0 0 8px} .panel h2 span{color:#c0392b}
.headline{margin:0 0 10px;padding-left:18px;color:#34495e} .source{color:#8a96a3;font-size:12px;margin:6px 0 0}
.facts{display:flex;flex-wrap:wrap;gap:24px;margin:0}
.facts dt{color:#5b6775;font-size:12px} .facts dd{margin:0;font-weight:600}
.chart svg{display:block;max-width:100%} .chart text{font-size:11px;fill:#34495e}
select{margin:0 0 8px} table{border-collapse:collapse;width:100%;margin-top:10px;font-size:12px}
td,th{border-bottom:1px solid #eef1f4;padding:3px 6px;text-align:left} tr.held td{background:#fdecea}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var errors = document.getElementById("page-errors");
  function fail(message) { errors.hidden = false; errors.textContent += message + "\n"; }
  window.addEventListener("error", function (e) { fail(String(e.message)); });
  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, value, anchor) {
    var t = el("text", {x: x, y: y, "text-anchor": anchor || "start"}, parent); t.textContent = value; return t;
  }
  var PALETTE = ["#c0392b", "#2471a3", "#7d3c98", "#17a589", "#d68910"];
  function bars(box, spec) {
    var label = 210, width = 760, row = 6 + spec.series.length * 9, top = 22;
    var all = [];
    spec.series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) all.push(v); }); });
    var max = Math.max.apply(null, all.concat([1]));
    var svg = el("svg", {viewBox: "0 0 " + width + " " + (top + spec.categories.length * row + 10)}, box);
    spec.series.forEach(function (s, i) {
      el("rect", {x: label + i * 90, y: 4, width: 10, height: 10, fill: PALETTE[i % 5]}, svg);
      text(svg, label + 14 + i * 90, 13, s.name);
    });
    var marks = 0;
    spec.categories.forEach(function (c, ci) {
      var y = top + ci * row;
      text(svg, label - 6, y + row / 2 + 3, c, "end");
      spec.series.forEach(function (s, si) {
        var v = s.values[ci]; if (v === null) return;
        var r = el("rect", {x: label, y: y + si * 9, height: 8, width: Math.max(1, (width - label - 60) * v / max),
                            fill: PALETTE[si % 5]}, svg);
        el("title", {}, r).textContent = c + " / " + s.name + ": " + v + " " + spec.unit;
        marks += 1;
      });
    });
    return marks;
  }
  function color(v, lo, hi, diverging) {
    if (v === null) return "#eef1f4";
    if (diverging) {
      var m = Math.max(Math.abs(lo), Math.abs(hi), 1e-9), t = v / m;
      return t >= 0 ? "rgba(192,57,43," + (0.1 + 0.85 * t) + ")" : "rgba(36,113,163," + (0.1 + 0.85 * -t) + ")";
    }
    var u = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return "rgba(192,57,43," + (0.1 + 0.85 * u) + ")";
  }
  function heatmap(box, spec, rows, cols, values) {
    var label = 200, cell = Math.max(18, Math.min(70, Math.floor(540 / Math.max(cols.length, 1)))), top = 56;
    var flat = [];
    values.forEach(function (r) { r.forEach(function (v) { if (v !== null) flat.push(v); }); });
    var lo = Math.min.apply(null, flat.concat([0])), hi = Math.max.apply(null, flat.concat([0]));
    if (!spec.diverging && flat.length) { lo = Math.min.apply(null, flat); hi = Math.max.apply(null, flat); }
    var box_w = label + cols.length * cell + 10, box_h = top + rows.length * 20 + 26;
    var svg = el("svg", {viewBox: "0 0 " + box_w + " " + box_h}, box);
    cols.forEach(function (c, i) {
      var t = text(svg, label + i * cell + cell / 2, top - 6, String(c), "start");
      t.setAttribute("transform", "rotate(-40 " + (label + i * cell + cell / 2) + " " + (top - 6) + ")");
    });
    var marks = 0;
    rows.forEach(function (r, ri) {
      text(svg, label - 6, top + ri * 20 + 14, r, "end");
      cols.forEach(function (c, ci) {
        var v = values[ri][ci];
        var rect = el("rect", {x: label + ci * cell, y: top + ri * 20, width: cell - 2, height: 18,
                               fill: color(v, lo, hi, spec.diverging)}, svg);
        var shown = v === null ? "no data" : (spec.percent ? (v * 100).toFixed(1) + "%" : v + " " + spec.unit);
        el("title", {}, rect).textContent = r + " / " + c + ": " + shown;
        if (v !== null && cell >= 44) {
          text(svg, label + ci * cell + cell / 2 - 1, top + ri * 20 + 13, spec.percent ? shown : String(v), "middle");
        }
        if (v !== null) marks += 1;
      });
    });
    var scale = spec.percent ? (lo * 100).toFixed(0) + "% to " + (hi * 100).toFixed(0) + "%" : lo + " to " + hi;
    text(svg, label, top + rows.length * 20 + 18, "colour: " + scale + " " + (spec.percent ? "" : spec.unit) +
         (spec.diverging ? " (blue below, red above)" : " (darker is higher)"));
    return marks;
  }
  function render(finding) {
    var box = document.getElementById("chart-q" + finding.number), spec = finding.chart, marks = 0;
    if (spec.kind === "bars") {
      marks = bars(box, spec);
    } else if (spec.by_region) {
      var select = document.createElement("select");
      spec.regions.forEach(function (r) {
        var o = document.createElement("option"); o.value = o.textContent = r; select.appendChild(o);
      });
      box.appendChild(select);
      var holder = document.createElement("div"); box.appendChild(holder);
      var draw = function () {
        holder.textContent = "";
        var d = spec.by_region[select.value];
        if (!d) return 0;
        var hours = d.cols.map(function (h) { return ("0" + h).slice(-2) + ":00"; });
        return heatmap(holder, spec, d.rows, hours, d.values);
      };
      select.addEventListener("change", draw);
      marks = spec.regions.length ? draw() : 0;
    } else {
      marks = heatmap(box, spec, spec.rows, spec.cols, spec.values);
    }
    box.parentNode.setAttribute("data-marks", String(marks));
  }
  function quality(hours) {
    var box = document.getElementById("chart-quality"), width = 1100, height = 90;
    var max = Math.max.apply(null, hours.map(function (h) { return h.readings; }).concat([1]));
    var step = width / Math.max(hours.length, 1), svg = el("svg", {viewBox: "0 0 " + width + " " + (height + 20)}, box);
    var body = document.querySelector("#quality-table tbody");
    hours.forEach(function (h, i) {
      var bar = height * h.readings / max;
      var r = el("rect", {x: i * step + 1, y: height - bar, width: Math.max(1, step - 2), height: bar,
                          fill: h.passed ? "#17a589" : "#c0392b"}, svg);
      var verdict = h.passed ? "passed" : "held: " + h.failing;
      el("title", {}, r).textContent = h.hour + ": " + h.readings + " readings, " + verdict;
      var tr = document.createElement("tr"); if (!h.passed) tr.className = "held";
      [h.hour, String(h.readings), h.passed ? "passed" : "held: " + h.failing].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.insertBefore(tr, body.firstChild);
    });
    box.parentNode.setAttribute("data-marks", String(hours.length));
  }
  try {
    var data = JSON.parse(document.getElementById("dashboard-data").textContent);
    data.findings.forEach(render);
    quality(data.quality);
    var facts = document.querySelectorAll("[data-panel='freshness'] dd").length;
    document.querySelector("[data-panel='freshness']").setAttribute("data-marks", String(facts));
    document.body.setAttribute("data-rendered", "true");
  } catch (e) {
    fail(String(e && e.stack || e));
  }
})();
"""
