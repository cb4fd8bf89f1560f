"""Compile the dbt project for the `prod` (Snowflake) target against fakesnow, in-process.

Run as a script by test_snowflake_rendering.py: `python snowflake_compile.py TARGET_PATH`.
fakesnow patches the Snowflake connector, so dbt-snowflake renders every model
with the Snowflake macros and answers its introspection, with no account.
"""

import sys

import fakesnow
from dbt.cli.main import dbtRunner

from include.embedded.layout import PROJECT_ROOT

if __name__ == "__main__":
    with fakesnow.patch():
        result = dbtRunner().invoke([
            "compile", "--target", "prod", "--threads", "1",  # one connection: fakesnow attaches the database once
            "--project-dir", str(PROJECT_ROOT / "dbt"), "--profiles-dir", str(PROJECT_ROOT / "dbt"),
            "--target-path", sys.argv[1],
        ])
    sys.exit(0 if result.success else 1)
