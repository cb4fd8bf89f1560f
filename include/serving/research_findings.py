"""The answers to the five research questions, computed from the serving marts only.

One home for the numbers: `make demo` prints them as a report, the dashboard
draws them. Each finding has a few headline lines (with the numbers a
researcher would quote) and the series of its chart. Means are weighted by
the readings or sessions behind each mart row, so they equal what a query
over the underlying facts would give.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from include.contracts.serving_marts import (
    ACTIVITY_BY_LOCAL_HOUR,
    AGE_AND_BODY,
    SEASONS_BY_DEMOGRAPHICS,
    SERVING_MARTS,
    SEX_BY_ACTIVITY,
    VARIABILITY_BY_BLOOD_TYPE,
    ServingMart,
)

AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
BMI_BANDS = ("under 18.5", "18.5-24.9", "25-29.9", "30-34.9", "35+")
SEASONS = ("winter", "spring", "summer", "autumn")
TOP_ACTIVITIES = 12


@dataclass(frozen=True)
class Finding:
    mart: ServingMart
    headline: list[str]
    chart: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        """The research question's number (1-5), from the marts' order."""
        return SERVING_MARTS.index(self.mart) + 1

    @property
    def question(self) -> str:
        return self.mart.question


def _weighted(rows: list[tuple], key: int, value: int, weight: int) -> dict[Any, float]:
    totals: dict[Any, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        if row[value] is None or not row[weight]:
            continue
        totals[row[key]][0] += float(row[value]) * row[weight]
        totals[row[key]][1] += row[weight]
    return {k: total / weight_sum for k, (total, weight_sum) in totals.items() if weight_sum}


def _matrix(rows: list[tuple], row_key: int, col_key: int, value: int, weight: int) -> dict[tuple, float]:
    return _weighted([((r[row_key], r[col_key]), r[value], r[weight]) for r in rows], 0, 1, 2)


def _fetch(conn: Any, mart: ServingMart, columns: str) -> list[tuple]:
    return conn.execute(f"select {columns} from {mart.relation}").fetchall()  # noqa: S608 - constants


def sex_by_activity(conn: Any) -> Finding:
    rows = _fetch(conn, SEX_BY_ACTIVITY, "activity_name, sex, readings, mean_heart_rate")
    by_sex = _weighted(rows, 1, 3, 2)
    cells = _matrix(rows, 0, 1, 3, 2)
    activities = sorted({r[0] for r in rows}, key=lambda a: -_weighted([r for r in rows if r[0] == a], 0, 3, 2)[a])
    gaps = {a: cells[(a, "F")] - cells[(a, "M")] for a in activities if (a, "F") in cells and (a, "M") in cells}
    headline = ["mean heart rate over all activities: "
                + ", ".join(f"{sex} {bpm:.1f} bpm" for sex, bpm in sorted(by_sex.items()))]
    if gaps:
        low, high = min(gaps, key=gaps.get), max(gaps, key=gaps.get)
        higher = sum(1 for gap in gaps.values() if gap > 0)
        headline.append(f"women (F) higher than men (M) in {higher} of {len(gaps)} activities, by "
                        f"{gaps[low]:.1f} bpm ({low}) to {gaps[high]:.1f} bpm ({high})")
    sexes = sorted({r[1] for r in rows})
    chart = {"kind": "bars", "unit": "bpm", "categories": activities,
             "series": [{"name": sex, "values": [_round(cells.get((a, sex))) for a in activities]} for sex in sexes]}
    return Finding(SEX_BY_ACTIVITY, headline, chart)


def variability_by_blood_type(conn: Any) -> Finding:
    rows = _fetch(conn, VARIABILITY_BY_BLOOD_TYPE, "blood_type, region, sessions, mean_rmssd")
    by_type = _weighted(rows, 0, 3, 2)
    cells = _matrix(rows, 0, 1, 3, 2)
    types = sorted(by_type, key=by_type.get)
    regions = sorted({r[1] for r in rows})
    sessions = sum(r[2] for r in rows)
    headline = [f"{sessions:,} workout sessions in {len(regions)} regions; mean RMSSD (bpm between successive "
                "plateau readings) by blood type: " + ", ".join(f"{t} {by_type[t]:.2f}" for t in types)]
    if types:
        headline.append(f"lowest variability {types[0]} ({by_type[types[0]]:.2f}), "
                        f"highest {types[-1]} ({by_type[types[-1]]:.2f})")
    chart = {"kind": "heatmap", "unit": "RMSSD (bpm)", "rows": types, "cols": regions,
             "values": [[_round(cells.get((t, region)), 2) for region in regions] for t in types]}
    return Finding(VARIABILITY_BY_BLOOD_TYPE, headline, chart)


def seasons_by_demographics(conn: Any) -> Finding:
    rows = _fetch(conn, SEASONS_BY_DEMOGRAPHICS,
                  "hemisphere, season, age_band, activity_name, readings, mean_heart_rate")
    activity_mean = _weighted(rows, 3, 5, 4)
    # Within-activity deviation: heart rate depends on the activity far more than on the season.
    deviations = [(f"{r[0]} {r[1]}", r[2], r[5] - activity_mean[r[3]], r[4]) for r in rows if r[5] is not None]
    by_season = _weighted(deviations, 0, 2, 3)
    cells = _matrix(deviations, 0, 1, 2, 3)
    order = [f"{h} {s}" for h in ("north", "south") for s in SEASONS]
    seasons = [s for s in order if s in by_season]
    bands = [b for b in AGE_BANDS if any((s, b) in cells for s in seasons)]
    headline = ["heart rate against each activity's mean, by hemisphere and season: "
                + ", ".join(f"{s} {by_season[s]:+.1f} bpm" for s in seasons)]
    if len(seasons) < len(order):
        headline.append(f"seasons with readings so far: {len(seasons)} of {len(order)} (the data cover "
                        "part of the year)")
    chart = {"kind": "heatmap", "unit": "bpm vs activity mean", "diverging": True, "rows": seasons, "cols": bands,
             "values": [[_round(cells.get((s, b))) for b in bands] for s in seasons]}
    return Finding(SEASONS_BY_DEMOGRAPHICS, headline, chart)


def activity_by_local_hour(conn: Any) -> Finding:
    rows = _fetch(conn, ACTIVITY_BY_LOCAL_HOUR,
                  "region, local_solar_hour, activity_name, sessions, share_of_sessions")
    sessions_by_region: dict[str, int] = defaultdict(int)
    for region, _, _, sessions, _ in rows:
        sessions_by_region[region] += sessions
    regions = sorted(sessions_by_region, key=lambda r: -sessions_by_region[r])
    per_region = {}
    headline = []
    for region in regions:
        region_rows = [r for r in rows if r[0] == region]
        totals: dict[str, int] = defaultdict(int)
        for _, _, activity, sessions, _ in region_rows:
            totals[activity] += sessions
        activities = sorted(totals, key=lambda a: -totals[a])[:TOP_ACTIVITIES]
        share = {(r[2], r[1]): r[4] for r in region_rows}
        per_region[region] = {"rows": activities, "cols": list(range(24)),
                              "values": [[_round(share.get((a, h)), 3) for h in range(24)] for a in activities]}
    if regions:
        top = regions[0]
        best: dict[int, tuple] = {}
        sessions_by_hour: dict[int, int] = defaultdict(int)
        for _, hour, activity, sessions, share in (r for r in rows if r[0] == top):
            sessions_by_hour[hour] += sessions
            if hour not in best or share > best[hour][1]:
                best[hour] = (activity, share)
        busiest = sorted(sorted(sessions_by_hour, key=lambda h: -sessions_by_hour[h])[:3])
        headline.append(f"{top} ({sessions_by_region[top]:,} sessions), most likely activity in its busiest local "
                        "hours: " + ", ".join(f"{h:02d}:00 {best[h][0]} ({best[h][1]:.0%} of "
                                              f"{sessions_by_hour[h]:,} sessions)" for h in busiest))
        headline.append(f"{len(regions)} regions with sessions; choose one in the dashboard")
    chart = {"kind": "heatmap", "unit": "share of sessions", "percent": True, "regions": regions,
             "by_region": per_region}
    return Finding(ACTIVITY_BY_LOCAL_HOUR, headline, chart)


def age_and_body(conn: Any) -> Finding:
    rows = _fetch(conn, AGE_AND_BODY, "age_band, bmi_band, readings, mean_heart_rate")
    by_age = _weighted(rows, 0, 3, 2)
    by_bmi = _weighted(rows, 1, 3, 2)
    cells = _matrix(rows, 0, 1, 3, 2)
    ages = [b for b in AGE_BANDS if b in by_age]
    bmis = [b for b in BMI_BANDS if b in by_bmi]
    headline = ["mean heart rate by age band (as of each reading): "
                + ", ".join(f"{b} {by_age[b]:.1f}" for b in ages) + " bpm",
                "by BMI band (weight and height valid at the reading): "
                + ", ".join(f"{b} {by_bmi[b]:.1f}" for b in bmis) + " bpm"]
    chart = {"kind": "heatmap", "unit": "bpm", "rows": ages, "cols": bmis,
             "values": [[_round(cells.get((a, b))) for b in bmis] for a in ages]}
    return Finding(AGE_AND_BODY, headline, chart)


def all_findings(conn: Any) -> list[Finding]:
    return [sex_by_activity(conn), variability_by_blood_type(conn), seasons_by_demographics(conn),
            activity_by_local_hour(conn), age_and_body(conn)]


def report(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        lines.append(f"Q{finding.number}. {finding.question}  [{finding.mart.relation}]")
        lines += [f"    - {line}" for line in finding.headline] or ["    - no rows yet"]
    return "\n".join(lines)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)
