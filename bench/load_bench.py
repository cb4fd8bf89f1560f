"""Embedded S3 loader throughput: lines/s from the local S3 server into DuckDB, 10k to 1M lines.

    make bench-load            (starts the embedded services if needed)

Each size gets its own bucket of 10,000-line lake objects (the sink's default
size), deleted afterwards, and a fresh warehouse file; the figure is the whole `load()`, listing,
downloads, parsing, Arrow batches and the DuckDB commits included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch  # noqa: E402
from dev.embedded.layout import apply_environment  # noqa: E402
from include.contracts.heart_rate_event import encode  # noqa: E402
from include.contracts.lake_layout import object_key  # noqa: E402
from include.contracts.settings import DEFAULT_TOPIC, LakeSettings  # noqa: E402
from include.loaders import lake_files  # noqa: E402

LINES_PER_OBJECT = 10_000
HOUR = 1_790_000_000 - 1_790_000_000 % 3600


def fill(lake: LakeSettings, bucket: str, topic: str, lines: int) -> None:
    s3 = lake.s3_client()
    s3.create_bucket(Bucket=bucket)
    for start in range(0, lines, LINES_PER_OBJECT):
        count = min(LINES_PER_OBJECT, lines - start)
        body = "".join(
            encode(str(uuid.UUID(int=n, version=4)), 10001 + n % 1000, 60 + n % 90, HOUR + n % 3600, 20001,
                   37.416834, -121.975002) + "\n"
            for n in range(start, start + count)
        ).encode()
        s3.put_object(Bucket=bucket, Key=object_key(topic, start // LINES_PER_OBJECT % 6, start, HOUR), Body=body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated line counts")
    args = parser.parse_args()
    apply_environment()
    lake = LakeSettings.from_env()
    results = []
    for lines in (int(size) for size in args.sizes.split(",")):
        bucket = f"bench-load-{uuid.uuid4().hex[:6]}"
        with scratch([bucket], []), tempfile.TemporaryDirectory() as folder:
            fill(lake, bucket, DEFAULT_TOPIC, lines)
            result = lake_files.load(lake.s3_client(), bucket, DEFAULT_TOPIC, Path(folder) / "w.duckdb",
                                     say=lambda _: None)
        assert result.rows == lines, result
        results.append((lines, result.rows / result.seconds, result.seconds))
        print(f"{lines:>9,} lines  {result.seconds:6.2f} s  {result.rows / result.seconds:>9,.0f} lines/s", flush=True)
    base = results[0][1]
    for lines, rate, _ in results[1:]:
        print(f"{lines:>9,} lines run at {rate / base:.2f}x the rate of {results[0][0]:,} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
