"""`python -m include.loaders {lake,cdc,all}`: run the embedded loaders once (local mode).

Connections and paths come from the environment, as everywhere (`make env`).
Errors a user can cause print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from include.contracts.oltp_connection import OltpError
from include.contracts.raw_schema import CDC_SLOT
from include.contracts.settings import (
    LOADERS,
    LakeSettings,
    Loader,
    OltpSettings,
    SettingsError,
    WarehouseSettings,
    airbyte_source_executable,
    local_loader,
)
from include.loaders import airbyte_source, cdc, lake_files
from include.warehouse import WarehouseError


def load_lake(loader: Loader = "embedded", say: Callable[[str], None] = print) -> lake_files.LoadResult:
    """New lake objects into raw, with the lake and warehouse settings of the environment, by the embedded
    loader or the real Airbyte S3 source connector."""
    lake, warehouse = LakeSettings.from_env(), WarehouseSettings.from_env().warehouse_path
    if loader == "airbyte":
        return airbyte_source.load(airbyte_source_executable(), lake, warehouse, say=say)
    return lake_files.load(lake.s3_client(), lake.bucket, lake.topic, warehouse, say=say)


def load_cdc(slot: str | None = None, say: Callable[[str], None] = print) -> cdc.CdcResult:
    """The OLTP change log into raw, with the OLTP and warehouse settings of the environment."""
    oltp = OltpSettings.from_env()
    return cdc.load(oltp.dsn, WarehouseSettings.from_env().warehouse_path, slot=slot or oltp.cdc_slot,
                    publication=oltp.cdc_publication, say=say)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.loaders",
        description="Load the S3 lake (lake) and the OLTP change log (cdc) into the warehouse's raw schema, "
                    "as Airbyte does in production.",
    )
    parser.add_argument("what", choices=("lake", "cdc", "all"), help="which loader to run")
    parser.add_argument("--slot", help=f"replication slot for cdc (default: HRS_CDC_SLOT, else {CDC_SLOT})")
    parser.add_argument("--loader", choices=LOADERS,
                        help="who reads the lake: the embedded loader or the real Airbyte S3 source connector "
                             "(default: HRS_LOADER, else embedded)")
    args = parser.parse_args(argv)
    try:
        if args.what in ("lake", "all"):
            print(f"lake: {load_lake(args.loader or local_loader())}", flush=True)
        if args.what in ("cdc", "all"):
            print(f"cdc: {load_cdc(args.slot)}", flush=True)
    except (SettingsError, OltpError, cdc.CdcError, airbyte_source.AirbyteSourceError, WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:  # the lake: down, no such bucket, refused credentials
        print(f"error: cannot read the lake {LakeSettings.from_env().where}: {error}. Is the S3 service up "
              "(`make status`), and do HRS_LAKE_BUCKET and the AWS_* settings name it?", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was committed stays, the next run goes on from there", file=sys.stderr)
        return 130
    return 0
