{#- Every model computes in UTC on every warehouse. DuckDB gets TimeZone: UTC from its profile; dbt-snowflake
    has no session-parameter setting, and the user's TIMEZONE default may be anything (America/Los_Angeles
    out of the box), which would shift current_timestamp and every TIMESTAMP_LTZ-to-NTZ cast. So each
    Snowflake model sets it on its own connection first (a pre-hook runs on the model's connection);
    deploy/snowflake/setup.sql also sets it on the service users. Renders to nothing elsewhere. -#}
{% macro utc_session() -%}
    {%- if target.type == 'snowflake' -%} alter session set timezone = 'UTC' {%- endif -%}
{%- endmacro %}
