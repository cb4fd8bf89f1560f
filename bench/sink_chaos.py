"""Sink chaos: three sinks in one consumer group, started, stopped and SIGKILLed at random over a fixed topic,
must leave the lake a single sink writes: the same objects, byte for byte. Repeated for several rounds.

    make bench-chaos                      (starts the embedded services if needed)
    python bench/sink_chaos.py --rounds 10 --events 60000

Per round: a fresh lake bucket and group; up to three sinks running at once, each
stopped (SIGTERM) or killed (SIGKILL) after a random 1-8 s and replaced, until
`--disruptions` have happened; then sinks with `--until-idle` finish the topic. The
lake is compared with the reference (one sink, undisturbed): objects missing, extra
or with other bytes, and records lost or duplicated (event ids). The local broker (Tansu 0.6) can leave a
group unassignable after members were SIGKILLed; the finishing sinks then say so and exit 2, and the round
is finished by a new group, which re-reads the topic from the start. Prints one line per
round and a total; exits 1 if any round differed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch  # noqa: E402
from dev.embedded.layout import apply_environment  # noqa: E402
from include.contracts.lake_layout import MANIFESTS_PREFIX, TOPICS_PREFIX  # noqa: E402
from include.contracts.settings import LakeSettings  # noqa: E402


def _sink(topic: str, bucket: str, group: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "HRS_TOPIC": topic, "HRS_LAKE_BUCKET": bucket}
    return subprocess.Popen([sys.executable, "-m", "producer", "sink", "--group", group, "--flush-size", "700",
                             *extra], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def _lake(bucket: str) -> dict[str, bytes]:
    s3 = LakeSettings.from_env().s3_client()
    objects = {}
    for prefix in (TOPICS_PREFIX + "/", MANIFESTS_PREFIX + "/"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                objects[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return objects


def _event_ids(lake: dict[str, bytes]) -> Counter:
    return Counter(json.loads(line)["event_id"] for key, body in lake.items() if key.startswith(TOPICS_PREFIX)
                   for line in body.splitlines())


def _bucket(made: list[str]) -> str:
    """A new scratch bucket, added to `made` (deleted when the bench ends)."""
    name = f"chaos-{uuid.uuid4().hex[:8]}"
    made.append(name)
    LakeSettings.from_env().s3_client().create_bucket(Bucket=name)
    return name


def _finish(process: subprocess.Popen) -> str:
    """'' when the sink finished; 'stuck' when the broker never assigned it a partition; else it stops the bench."""
    _, stderr = process.communicate(timeout=600)
    if process.returncode == 0:
        return ""
    if "no partition of" in stderr and "was assigned" in stderr:
        return "stuck"
    raise SystemExit(f"a sink failed (exit {process.returncode}): {stderr.strip()[-500:]}")


def round_(topic: str, reference: dict[str, bytes], disruptions: int, rng: random.Random,
           buckets: list[str]) -> dict[str, int]:
    bucket, group = _bucket(buckets), f"chaos-{uuid.uuid4().hex[:8]}"
    running = [_sink(topic, bucket, group) for _ in range(3)]
    kills = stops = 0
    for _ in range(disruptions):
        time.sleep(rng.uniform(1, 8))
        victim = running.pop(rng.randrange(len(running)))
        if rng.random() < 0.5:
            victim.send_signal(signal.SIGKILL)
            kills += 1
        else:
            victim.send_signal(signal.SIGTERM)
            stops += 1
        victim.communicate(timeout=60)
        running.append(_sink(topic, bucket, group))
    for process in running:  # let the disturbed sinks go, then finish the topic cleanly
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    finishers = [_sink(topic, bucket, group, "--until-idle", "3") for _ in range(3)]
    stuck = "stuck" in [_finish(process) for process in finishers]
    if stuck:  # the local broker left the group unassignable: a new group re-reads from the start (same objects)
        finishers = [_sink(topic, bucket, f"{group}-new", "--until-idle", "3") for _ in range(3)]
        if "stuck" in [_finish(process) for process in finishers]:
            raise SystemExit("a new consumer group was not assigned either: the broker is not assigning partitions")
    lake = _lake(bucket)
    ours, theirs = _event_ids(reference), _event_ids(lake)
    return {
        "kills": kills, "stops": stops, "objects": len(lake), "stuck_groups": int(stuck),
        "missing": len(set(reference) - set(lake)), "extra": len(set(lake) - set(reference)),
        "different": sum(1 for key in set(lake) & set(reference) if lake[key] != reference[key]),
        "lost": sum((ours - theirs).values()), "duplicates": sum(count - 1 for count in theirs.values() if count > 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds (default 10)")
    parser.add_argument("--hours", type=int, default=3, help="hours of readings on the topic (default 3)")
    parser.add_argument("--disruptions", type=int, default=6, help="stops or kills per round (default 6)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the disruptions (default 7)")
    args = parser.parse_args()
    apply_environment()
    rng = random.Random(args.seed)
    topic = f"chaos-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HRS_TOPIC": topic}
    buckets: list[str] = []
    with scratch(buckets, [topic]):
        end = (datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)).isoformat()
        subprocess.run([sys.executable, "-m", "producer", "seed-oltp"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        subprocess.run([sys.executable, "-m", "producer", "produce", "--hours", str(args.hours), "--end", end,
                        "--seed", "3"], cwd=ROOT, env=env, check=True, capture_output=True)
        reference_bucket = _bucket(buckets)
        _finish(_sink(topic, reference_bucket, f"reference-{topic}", "--until-idle", "3"))
        reference = _lake(reference_bucket)
        records = sum(_event_ids(reference).values())
        print(f"topic {topic}: {records:,} records; the single-sink lake has {len(reference)} objects")
        totals: Counter = Counter()
        for number in range(1, args.rounds + 1):
            result = round_(topic, reference, args.disruptions, rng, buckets)
            totals.update(result)
            print(f"round {number}: {result['kills']} SIGKILL, {result['stops']} SIGTERM"
                  f"{'; group stuck in the broker, finished with a new group' if result['stuck_groups'] else ''}; "
                  f"{result['objects']} objects "
                  f"compared: {result['missing']} missing, {result['extra']} extra, {result['different']} with other "
                  f"bytes; records lost {result['lost']}, duplicated {result['duplicates']}", flush=True)
        clean = all(totals[key] == 0 for key in ("missing", "extra", "different", "lost", "duplicates"))
        print(f"total: {args.rounds} rounds, {totals['kills']} kills, {totals['stops']} stops, "
              f"{totals['stuck_groups']} groups left unassignable by the broker, {totals['objects']} "
              f"objects compared; lost {totals['lost']}, duplicated {totals['duplicates']}, objects differing "
              f"{totals['missing'] + totals['extra'] + totals['different']} -> {'identical' if clean else 'DIFFERENT'}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
