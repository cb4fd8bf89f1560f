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

from include.contracts.paths import DBT_PROJECT_DIR
from include.contracts.serving_marts import (
    ACTIVITY_BY_LOCAL_HOUR,
    AGE_AND_BODY,
    SEASONS_BY_DEMOGRAPHICS,
    SERVING_MARTS,
    SEX_BY_ACTIVITY,
    VARIABILITY_BY_BLOOD_TYPE,
    ServingMart,
)

AGE_BANDS = ("under 18", "18-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown")
BMI_BANDS = ("under 18.5", "18.5-24.9", "25-29.9", "30-34.9", "35+", "unknown")
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


def _suppressed(rows: list[tuple], row_key: int, col_key: int, value: int, row_labels: list[Any],
                col_labels: list[Any]) -> list[list[int]]:
    """[row index, column index] of the chart cells that have readings but only suppressed statistics
    (too few users): the dashboard draws them as suppressed, not as missing."""
    present = {(r[row_key], r[col_key]) for r in rows}
    shown = {(r[row_key], r[col_key]) for r in rows if r[value] is not None}
    hidden = present - shown
    return [[i, j] for i, a in enumerate(row_labels) for j, b in enumerate(col_labels) if (a, b) in hidden]


def _ordered(preferred: list[Any], rows: list[tuple], key: int) -> list[Any]:
    """The labels with statistics in their order, then those whose every cell is suppressed."""
    return preferred + sorted({r[key] for r in rows} - set(preferred), key=str)


def _fetch(conn: Any, mart: ServingMart, columns: str) -> list[tuple]:
    return conn.execute(f"select {columns} from {mart.relation}").fetchall()  # noqa: S608 - constants


def sex_by_activity(conn: Any) -> Finding:
    rows = _fetch(conn, SEX_BY_ACTIVITY, "activity_name, sex, readings, mean_heart_rate")
    by_sex = _weighted(rows, 1, 3, 2)
    cells = _matrix(rows, 0, 1, 3, 2)
    activity_means = _weighted(rows, 0, 3, 2)  # suppressed cells (no mean) are left out
    activities = sorted(activity_means, key=lambda a: -activity_means[a])
    gaps = {a: cells[(a, "F")] - cells[(a, "M")] for a in activities if (a, "F") in cells and (a, "M") in cells}
    headline = ["mean heart rate over all activities: "
                + ", ".join(f"{sex} {bpm:.1f} bpm" for sex, bpm in sorted(by_sex.items()))]
    if gaps:
        low, high = min(gaps, key=gaps.get), max(gaps, key=gaps.get)
        higher = sum(1 for gap in gaps.values() if gap > 0)
        headline.append(f"women (F) higher than men (M) in {higher} of {len(gaps)} activities, by "
                        f"{gaps[low]:.1f} bpm ({low}) to {gaps[high]:.1f} bpm ({high})")
    sexes = sorted({r[1] for r in rows})
    categories = _ordered(activities, rows, 0)
    chart = {"kind": "bars", "unit": "bpm", "categories": categories,
             "series": [{"name": sex, "values": [_round(cells.get((a, sex))) for a in categories]} for sex in sexes],
             "suppressed": _suppressed(rows, 0, 1, 3, categories, sexes)}
    return Finding(SEX_BY_ACTIVITY, headline, chart)


def variability_by_blood_type(conn: Any) -> Finding:
    rows = _fetch(conn, VARIABILITY_BY_BLOOD_TYPE, "blood_type, region, plateau_pairs, reading_to_reading_rmssd_bpm")
    # Pooled RMSSD: the mean of squared differences over all pairs, then the root (cells weigh by their pairs).
    squared = [(r[0], r[1], r[3] * r[3] if r[3] is not None else None, r[2]) for r in rows]
    by_type = {t: value ** 0.5 for t, value in _weighted(squared, 0, 2, 3).items()}
    cells = {key: value ** 0.5 for key, value in _matrix(squared, 0, 1, 2, 3).items()}
    types = sorted(by_type, key=by_type.get)
    regions = sorted({r[1] for r in rows})
    pairs = sum(r[2] for r in rows)
    headline = [f"{pairs:,} successive plateau-reading pairs in {len(regions)} regions; reading-to-reading RMSSD "
                "by blood type (bpm; not HRV from RR intervals): " + ", ".join(f"{t} {by_type[t]:.2f}" for t in types)]
    if types:
        headline.append(f"lowest variability {types[0]} ({by_type[types[0]]:.2f}), "
                        f"highest {types[-1]} ({by_type[types[-1]]:.2f})")
    all_types = _ordered(types, rows, 0)
    chart = {"kind": "heatmap", "unit": "reading-to-reading RMSSD (bpm)", "rows": all_types, "cols": regions,
             "values": [[_round(cells.get((t, region)), 2) for region in regions] for t in all_types],
             "suppressed": _suppressed(rows, 0, 1, 3, all_types, regions)}
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
    headline = ["heart rate against each activity's mean, by hemisphere and season: "
                + ", ".join(f"{s} {by_season[s]:+.1f} bpm" for s in seasons)]
    if len(seasons) < len(order):
        headline.append(f"seasons with readings so far: {len(seasons)} of {len(order)} (the data cover "
                        "part of the year)")
    labelled = [(f"{r[0]} {r[1]}", r[2], r[5]) for r in rows]
    all_seasons = [s for s in order if s in {row[0] for row in labelled}]
    all_bands = [b for b in AGE_BANDS if b in {row[1] for row in labelled}]
    chart = {"kind": "heatmap", "unit": "bpm vs activity mean", "diverging": True, "rows": all_seasons,
             "cols": all_bands, "values": [[_round(cells.get((s, b))) for b in all_bands] for s in all_seasons],
             "suppressed": _suppressed(labelled, 0, 1, 2, all_seasons, all_bands)}
    return Finding(SEASONS_BY_DEMOGRAPHICS, headline, chart)


def activity_by_local_hour(conn: Any) -> Finding:
    rows = _fetch(conn, ACTIVITY_BY_LOCAL_HOUR,
                  "region, local_solar_hour, activity_name, readings, share_of_workout_time")
    readings_by_region: dict[str, int] = defaultdict(int)
    for region, _, _, readings, _ in rows:
        readings_by_region[region] += readings
    regions = sorted(readings_by_region, key=lambda r: -readings_by_region[r])
    per_region = {}
    headline = []
    for region in regions:
        region_rows = [r for r in rows if r[0] == region]
        totals: dict[str, int] = defaultdict(int)
        for _, _, activity, readings, _ in region_rows:
            totals[activity] += readings
        activities = sorted(totals, key=lambda a: -totals[a])[:TOP_ACTIVITIES]
        share = {(r[2], r[1]): r[4] for r in region_rows}
        per_region[region] = {"rows": activities, "cols": list(range(24)),
                              "values": [[_round(share.get((a, h)), 3) for h in range(24)] for a in activities],
                              "suppressed": _suppressed(region_rows, 2, 1, 4, activities, list(range(24)))}
    if regions:
        top = regions[0]
        best: dict[int, tuple] = {}
        readings_by_hour: dict[int, int] = defaultdict(int)
        for _, hour, activity, readings, share in (r for r in rows if r[0] == top):
            readings_by_hour[hour] += readings
            if share is not None and (hour not in best or share > best[hour][1]):
                best[hour] = (activity, share)
        busiest = sorted(h for h in sorted(readings_by_hour, key=lambda h: -readings_by_hour[h])[:3] if h in best)
        minutes = readings_by_region[top] * 5 / 60
        headline.append(f"{top} ({minutes:,.0f} workout minutes), most likely activity in its busiest local hours: "
                        + ", ".join(f"{h:02d}:00 {best[h][0]} ({best[h][1]:.0%} of the workout time)"
                                    for h in busiest))
        headline.append(f"{len(regions)} regions with workouts; choose one in the dashboard")
    chart = {"kind": "heatmap", "unit": "share of workout time", "percent": True, "regions": regions,
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
    all_ages = [b for b in AGE_BANDS if b in {r[0] for r in rows}]
    all_bmis = [b for b in BMI_BANDS if b in {r[1] for r in rows}]
    chart = {"kind": "heatmap", "unit": "bpm", "rows": all_ages, "cols": all_bmis,
             "values": [[_round(cells.get((a, b))) for b in all_bmis] for a in all_ages],
             "suppressed": _suppressed(rows, 0, 1, 3, all_ages, all_bmis)}
    return Finding(AGE_AND_BODY, headline, chart)


def all_findings(conn: Any) -> list[Finding]:
    return [sex_by_activity(conn), variability_by_blood_type(conn), seasons_by_demographics(conn),
            activity_by_local_hour(conn), age_and_body(conn)]


def serving_min_users() -> int:
    """The small-cell threshold (dbt var serving_min_users, its one home: dbt/dbt_project.yml)."""
    import yaml

    return int(yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["serving_min_users"])


def suppression_note() -> str:
    return (f"cells with fewer than {serving_min_users()} distinct users are suppressed (no statistic shown), as "
            "medical data publishers do; their readings still count in totals")


def report(findings: list[Finding]) -> str:
    lines = [f"(serving holds only hours the data-quality gate published; {suppression_note()})"]
    for finding in findings:
        lines.append(f"Q{finding.number}. {finding.question}  [{finding.mart.relation}]")
        lines += [f"    - {line}" for line in finding.headline] or ["    - no rows yet"]
    return "\n".join(lines)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)
