"""The one Snowflake login of the Airflow side: the `snowflake_default` connection, for dbt and the gate.

On Astro there is no key file to point dbt's `profiles.yml` at, and no password
login for service users. So the connection carries everything, the way the
Snowflake provider's own hook reads it: `login` = the user, extras `account`,
`warehouse`, `database`, `role` and `private_key_content` (the PEM key,
base64-encoded as provider 6.3+ expects), and `password` = the key's passphrase
when the key is encrypted. The gate's `SnowflakeHook` reads it directly; dbt gets
it through a Cosmos profile mapping, which writes a temporary profiles.yml per
task with the key passed through environment variables, never on disk.

Cosmos ships two mappings, one for unencrypted keys and one that *requires* a
passphrase; `SnowflakeKeyPairProfileMapping` takes both, so one connection
shape serves the hook and dbt whichever kind of key the deployment uses.
"""

from __future__ import annotations

from typing import Any

from cosmos.profiles.snowflake.user_privatekey import SnowflakePrivateKeyPemProfileMapping

from include.contracts.settings import SNOWFLAKE_CONN_ID

DBT_SCHEMA = "analytics"
"""dbt's default schema; every model folder sets its own (`generate_schema_name`)."""
DBT_QUERY_TAG = "heart_rate_dbt"
DBT_THREADS = 4


class SnowflakeKeyPairProfileMapping(SnowflakePrivateKeyPemProfileMapping):
    """Key-pair content from the connection's extras; its password, when set, is the key's passphrase."""

    airflow_param_mapping = {
        **SnowflakePrivateKeyPemProfileMapping.airflow_param_mapping,
        "private_key_passphrase": "password",
    }

    @property
    def secret_fields(self) -> list[str]:  # type: ignore[override]
        return ["private_key", "private_key_passphrase"] if self.conn.password else ["private_key"]

    @property
    def profile(self) -> dict[str, Any | None]:
        profile = {key: value for key, value in super().profile.items() if key != "private_key_passphrase"}
        if self.conn.password:  # passed like the key: an environment variable, never the profile file
            profile["private_key_passphrase"] = self.get_env_var_format("private_key_passphrase")
        return profile


def dbt_profile_mapping() -> SnowflakeKeyPairProfileMapping:
    """dbt's Snowflake login from `snowflake_default`; the connection is read when a task runs, not at parse."""
    return SnowflakeKeyPairProfileMapping(
        conn_id=SNOWFLAKE_CONN_ID,
        profile_args={"schema": DBT_SCHEMA, "threads": DBT_THREADS, "query_tag": DBT_QUERY_TAG},
    )
