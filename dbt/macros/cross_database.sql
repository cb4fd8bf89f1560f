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


{#- Text to a number, NULL when it is not one: TRY_CAST semantics on both engines (both accept text input). -#}
{% macro try_double(text) -%}
    try_cast({{ text }} as double)
{%- endmacro %}


{#- Text to a whole number, NULL when it is not one (72.0 is 72; 72.5, 'n/a' and 1e20 are NULL). -#}
{% macro try_integer(text) -%}
    case
        when {{ try_double(text) }} = floor({{ try_double(text) }}) and abs({{ try_double(text) }}) < 1e15
            then cast({{ try_double(text) }} as bigint)
    end
{%- endmacro %}


{#- Text holding an ISO-8601 time (Airbyte's string timestamps, the DAG's interval) to a UTC timestamp with
    time zone; NULL when it is not one. -#}
{% macro try_timestamp(text) -%}
    {{ return(adapter.dispatch('try_timestamp')(text)) }}
{%- endmacro %}

{% macro default__try_timestamp(text) -%}
    try_cast({{ text }} as timestamptz)
{%- endmacro %}

{% macro snowflake__try_timestamp(text) -%}
    try_to_timestamp_tz({{ text }})
{%- endmacro %}


{#- A constant ISO-8601 time as a UTC timestamp with time zone. -#}
{% macro utc_timestamp(iso_text) -%}
    {{ return(adapter.dispatch('utc_timestamp')(iso_text)) }}
{%- endmacro %}

{% macro default__utc_timestamp(iso_text) -%}
    cast('{{ iso_text }}' as timestamptz)
{%- endmacro %}

{% macro snowflake__utc_timestamp(iso_text) -%}
    to_timestamp_tz('{{ iso_text }}')
{%- endmacro %}


{#- Epoch seconds to a UTC timestamp with time zone, only inside the event contract's range (a millisecond
    epoch or a year-55000 time is NULL, never an error or a far-future hour). -#}
{% macro epoch_to_timestamp(seconds) -%}
    {%- set low, high = event_contract_ranges()['timestamp'] -%}
    case when {{ seconds }} between {{ low }} and {{ high }} then {{ adapter.dispatch('epoch_to_timestamp')(seconds) }} end
{%- endmacro %}

{% macro default__epoch_to_timestamp(seconds) -%}
    to_timestamp({{ seconds }})
{%- endmacro %}

{% macro snowflake__epoch_to_timestamp(seconds) -%}
    to_timestamp_tz({{ seconds }})
{%- endmacro %}


{#- A YYYYMMDD integer (the OLTP's date_of_birth) to a date; NULL when it is not a date. -#}
{% macro yyyymmdd_to_date(value) -%}
    {{ return(adapter.dispatch('yyyymmdd_to_date')(value)) }}
{%- endmacro %}

{% macro default__yyyymmdd_to_date(value) -%}
    try_strptime(cast({{ value }} as varchar), '%Y%m%d')::date
{%- endmacro %}

{% macro snowflake__yyyymmdd_to_date(value) -%}
    try_to_date(to_varchar({{ value }}), 'YYYYMMDD')
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


{#- An order-independent fingerprint of a group's rows (count and a hash aggregate of the given expressions):
    equal fingerprints, equal content. The gate publishes an hour's fingerprint; serving builds only the hour
    whose current fingerprint is the published one. -#}
{% macro rows_fingerprint(expressions) -%}
    {{ return(adapter.dispatch('rows_fingerprint')(expressions)) }}
{%- endmacro %}

{% macro default__rows_fingerprint(expressions) -%}
    cast(count(*) as varchar) || '-' || cast(bit_xor(hash({{ expressions | join(', ') }})) as varchar)
{%- endmacro %}

{% macro snowflake__rows_fingerprint(expressions) -%}
    cast(count(*) as varchar) || '-' || cast(hash_agg({{ expressions | join(', ') }}) as varchar)
{%- endmacro %}


{#- The event hour a lake object's folder names (<area>/<topic>/year=YYYY/month=MM/day=DD/hour=HH/...). -#}
{% macro lake_object_hour(url) -%}
    {{ try_timestamp(dbt.concat([
        dbt.replace(dbt.split_part(url, "'/'", 3), "'year='", "''"), "'-'",
        dbt.replace(dbt.split_part(url, "'/'", 4), "'month='", "''"), "'-'",
        dbt.replace(dbt.split_part(url, "'/'", 5), "'day='", "''"), "'T'",
        dbt.replace(dbt.split_part(url, "'/'", 6), "'hour='", "''"), "':00:00Z'"
    ])) }}
{%- endmacro %}
