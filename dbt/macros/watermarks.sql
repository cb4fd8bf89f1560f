{#- Incremental bookkeeping shared by the hourly models. -#}

{#- The newest value of a column in the model's own table (1900 before the first build): what was already
    processed. Every incremental model in the hourly chain reads its inputs' rows newer than its watermark. -#}
{% macro watermark(column) -%}
    (select coalesce(max({{ column }}), {{ utc_timestamp('1900-01-01T00:00:00Z') }}) from {{ this }})
{%- endmacro %}

{#- When this model's rows were built: one value per dbt statement, so downstream models find the rows that
    changed since their own last build. -#}
{% macro built_now() -%}
    {{ dbt.current_timestamp() }}
{%- endmacro %}
