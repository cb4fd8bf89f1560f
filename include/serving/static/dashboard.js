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
  var SUPPRESSED = "#aab2bd", SUPPRESSED_TEXT = "suppressed (too few users to show)";
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
    var marks = 0, hidden = {};
    (spec.suppressed || []).forEach(function (cell) { hidden[cell[0] + "," + cell[1]] = true; });
    spec.categories.forEach(function (c, ci) {
      var y = top + ci * row;
      text(svg, label - 6, y + row / 2 + 3, c, "end");
      spec.series.forEach(function (s, si) {
        var v = s.values[ci];
        if (v === null && hidden[ci + "," + si]) {
          var mark = el("rect", {x: label, y: y + si * 9, height: 8, width: 6, fill: SUPPRESSED}, svg);
          el("title", {}, mark).textContent = c + " / " + s.name + ": " + SUPPRESSED_TEXT;
          marks += 1;
          return;
        }
        if (v === null) return;
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
  function heatmap(box, spec, rows, cols, values, suppressed) {
    var hidden = {};
    (suppressed || []).forEach(function (cell) { hidden[cell[0] + "," + cell[1]] = true; });
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
        var v = values[ri][ci], isHidden = v === null && hidden[ri + "," + ci];
        var rect = el("rect", {x: label + ci * cell, y: top + ri * 20, width: cell - 2, height: 18,
                               fill: isHidden ? SUPPRESSED : color(v, lo, hi, spec.diverging)}, svg);
        var shown = isHidden ? SUPPRESSED_TEXT : v === null ? "no data" :
          (spec.percent ? (v * 100).toFixed(1) + "%" : v + " " + spec.unit);
        el("title", {}, rect).textContent = r + " / " + c + ": " + shown;
        if (v !== null && cell >= 44) {
          text(svg, label + ci * cell + cell / 2 - 1, top + ri * 20 + 13, spec.percent ? shown : String(v), "middle");
        }
        if (v !== null || isHidden) marks += 1;
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
        return heatmap(holder, spec, d.rows, hours, d.values, d.suppressed);
      };
      select.addEventListener("change", draw);
      marks = spec.regions.length ? draw() : 0;
    } else {
      marks = heatmap(box, spec, spec.rows, spec.cols, spec.values, spec.suppressed);
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
      [h.hour, String(h.readings), h.passed ? "passed" : "held: " + h.failing,
       h.in_serving ? "yes" : "no"].forEach(function (v) {
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
