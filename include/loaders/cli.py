"""`python -m include.loaders {lake,cdc,all}`: run the embedded loaders once (local mode).

Connections and paths come from the environment, as everywhere (`make env`).
Errors a user can cause print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from include.loaders import cdc, lake_files
from include.oltp_connection import OltpError
from include.settings import Settings, SettingsError
from include.warehouse import WarehouseBusy


def load_lake(settings: Settings, say: Callable[[str], None] = print) -> lake_files.LoadResult:
    return lake_files.load(settings.s3_client(), settings.lake_bucket, settings.kafka.topic,
                           settings.warehouse_path, say=say)


def load_cdc(settings: Settings, slot: str | None = None, say: Callable[[str], None] = print) -> cdc.CdcResult:
    return cdc.load(settings.oltp_dsn, settings.warehouse_path, slot=slot or settings.cdc_slot, say=say)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.loaders",
        description="Load the S3 lake (lake) and the OLTP change log (cdc) into the warehouse's raw schema, "
                    "as Airbyte does in production.",
    )
    parser.add_argument("what", choices=("lake", "cdc", "all"), help="which loader to run")
    parser.add_argument("--slot", help=f"replication slot for cdc (default: HRS_CDC_SLOT, else {cdc.SLOT})")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.what in ("lake", "all"):
            print(f"lake: {load_lake(settings)}", flush=True)
        if args.what in ("cdc", "all"):
            print(f"cdc: {load_cdc(settings, args.slot)}", flush=True)
    except (SettingsError, OltpError, cdc.CdcError, WarehouseBusy) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
