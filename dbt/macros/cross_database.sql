{#- Warehouse-specific SQL behind adapter.dispatch: DuckDB locally, Snowflake in production. -#}

{#- The text at a JSON path of a JSON (DuckDB) or VARIANT (Snowflake) column, e.g. json_text('meta', 'location.latitude'). -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro snowflake__json_text(column, path) -%}
    {{ column }}:{{ path }}::varchar
{%- endmacro %}


{#- Epoch seconds to a UTC timestamp with time zone. -#}
{% macro epoch_to_timestamp(seconds) -%}
    {{ return(adapter.dispatch('epoch_to_timestamp')(seconds)) }}
{%- endmacro %}

{% macro default__epoch_to_timestamp(seconds) -%}
    to_timestamp({{ seconds }})
{%- endmacro %}

{% macro snowflake__epoch_to_timestamp(seconds) -%}
    to_timestamp_tz({{ seconds }})
{%- endmacro %}


{#- A YYYYMMDD integer (the OLTP's date_of_birth) to a date. -#}
{% macro yyyymmdd_to_date(value) -%}
    {{ return(adapter.dispatch('yyyymmdd_to_date')(value)) }}
{%- endmacro %}

{% macro default__yyyymmdd_to_date(value) -%}
    try_strptime(cast({{ value }} as varchar), '%Y%m%d')::date
{%- endmacro %}

{% macro snowflake__yyyymmdd_to_date(value) -%}
    try_to_date(to_varchar({{ value }}), 'YYYYMMDD')
{%- endmacro %}


{#- A text expression holding an ISO date-time (e.g. the DAG's interval) as a UTC timestamp with time zone. -#}
{% macro to_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_utc_timestamp')(expression)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expression) -%}
    cast({{ expression }} as timestamptz)
{%- endmacro %}

{% macro snowflake__to_utc_timestamp(expression) -%}
    to_timestamp_tz({{ expression }})
{%- endmacro %}


{#- Hour of day (0-23) of a UTC timestamp. -#}
{% macro utc_hour(timestamp) -%}
    {{ return(adapter.dispatch('utc_hour')(timestamp)) }}
{%- endmacro %}

{% macro default__utc_hour(timestamp) -%}
    extract(hour from {{ timestamp }})
{%- endmacro %}

{% macro snowflake__utc_hour(timestamp) -%}
    extract(hour from convert_timezone('UTC', {{ timestamp }}))
{%- endmacro %}


{#- The event hour a lake object's folder names (topics/<t>/year=YYYY/month=MM/day=DD/hour=HH/...). -#}
{% macro lake_object_hour(url) -%}
    {{ to_utc_timestamp(dbt.concat([
        dbt.replace(dbt.split_part(url, "'/'", 3), "'year='", "''"), "'-'",
        dbt.replace(dbt.split_part(url, "'/'", 4), "'month='", "''"), "'-'",
        dbt.replace(dbt.split_part(url, "'/'", 5), "'day='", "''"), "' '",
        dbt.replace(dbt.split_part(url, "'/'", 6), "'hour='", "''"), "':00:00+00:00'"
    ])) }}
{%- endmacro %}
