{#- The gate's ledger (written by the DAG's publish and hold tasks, not by dbt): what serving may contain. -#}

{#- The latest publication of each event hour, or an empty relation before the gate has ever published (the
    table does not exist yet): serving is then empty, never built from unjudged hours. -#}
{% macro latest_publications() -%}
    {%- set relation = source('gate', 'published_hours') -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
    select event_hour, fingerprint, run_id, published_at
    from (
        select
            *,
            row_number() over (partition by event_hour order by published_at desc) as publication_number
        from {{ relation }}
    ) as publications
    where publication_number = 1
    {%- else -%}
    select
        {{ utc_timestamp('1900-01-01T00:00:00Z') }} as event_hour,
        cast(null as {{ dbt.type_string() }}) as fingerprint,
        cast(null as {{ dbt.type_string() }}) as run_id,
        {{ utc_timestamp('1900-01-01T00:00:00Z') }} as published_at
    where 1 = 0
    {%- endif %}
{%- endmacro %}

{#- Small-cell suppression: a serving cell with fewer distinct users than serving_min_users shows no
    statistic (re-identification risk, as medical data publishers do); its reading count stays, so totals
    still add up. -#}
{% macro unless_suppressed(users, expression) -%}
    case when {{ users }} >= {{ var('serving_min_users') }} then {{ expression }} end
{%- endmacro %}
