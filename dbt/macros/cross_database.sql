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
