"""Compile the dbt project for the `prod` (Snowflake) target against fakesnow, in-process.

Run as a script by test_snowflake_rendering.py: `python snowflake_compile.py TARGET_PATH`.
fakesnow patches the Snowflake connector, so dbt-snowflake renders every model
with the Snowflake macros and answers its introspection, with no account.
"""

import sys

import fakesnow
from dbt.cli.main import dbtRunner

from dev.dbt_cli import dbt_arguments

if __name__ == "__main__":
    with fakesnow.patch():
        # One thread, one connection: fakesnow attaches the database once.
        result = dbtRunner().invoke(dbt_arguments("compile", "--target", "prod", "--threads", "1",
                                                  "--target-path", sys.argv[1]))
    sys.exit(0 if result.success else 1)
