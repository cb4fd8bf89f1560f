{#- A source table that only some deployments have (the embedded loader's local rejects): its rows when the
    table exists, else an empty relation with the given columns, so no prod model depends on it. -#}
{% macro optional_source(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
    select {{ columns.keys() | join(', ') }} from {{ relation }}
    {%- else -%}
    select
        {%- for name, kind in columns.items() %}
        cast(null as {{ api.Column.translate_type(kind) }}) as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    where 1 = 0
    {%- endif %}
{%- endmacro %}
