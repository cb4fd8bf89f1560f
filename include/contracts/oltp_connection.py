"""Connecting to the OLTP PostgreSQL with an error a user can act on (shared by the producer and the loaders)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_SECONDS = 10


class OltpError(RuntimeError):
    """The OLTP database cannot be reached or holds unexpected data."""


def connect(dsn: str, autocommit: bool = True) -> psycopg.Connection:
    import psycopg
    from psycopg.types.numeric import FloatLoader

    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.OperationalError as error:
        where = re.sub(r"//[^@/]*@", "//", dsn)  # never print a password
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OltpError(
            f"cannot connect to the OLTP database at {where} within {CONNECT_TIMEOUT_SECONDS} s ({first_line}). "
            "Check OLTP_DSN, or start the local services with `make up`."
        ) from None
    # Heights and weights are numeric(5,1): read them as floats, as the warehouse stores them.
    conn.adapters.register_loader("numeric", FloatLoader)
    return conn
