{#-
    SCD2 versions from a CDC staging model (one row per change, deletions included).

    - Each non-deletion change opens a version: valid_from = its commit time, except
      the first known version of a key, which is valid from the beginning of time
      (the OLTP holds no earlier history, and readings may precede the first load).
    - valid_to = the commit time of the next change or of the deletion; null while current.
    - The surrogate key hashes the key and the change's LSN: stable for a version,
      whatever arrives later (the original hashed the end date, so keys changed).
    - is_deleted marks the version a hard delete closed; earlier versions keep
      their own valid_to (the original's delete join rewrote them all).
-#}
{% macro scd2_from_cdc(staging_model, key, attributes) -%}
with

changes as (

    select
        *,
        lead(changed_at) over (partition by {{ key }} order by change_lsn) as next_changed_at,
        lead(is_deletion) over (partition by {{ key }} order by change_lsn) as next_is_deletion,
        row_number() over (partition by {{ key }} order by change_lsn) as change_number
    from {{ ref(staging_model) }}

)

select
    {{ dbt.hash(dbt.concat(["cast(" ~ key ~ " as " ~ dbt.type_string() ~ ")", "'|'",
                             "cast(change_lsn as " ~ dbt.type_string() ~ ")"])) }} as {{ key | replace('_id', '') }}_key,
    {{ key }},
    {%- for attribute in attributes %}
    {{ attribute }},
    {%- endfor %}
    case
        when change_number = 1 then {{ dbt.cast("'1900-01-01 00:00:00+00'", api.Column.translate_type('timestamp')) }}
        else changed_at
    end as valid_from,
    next_changed_at as valid_to,
    next_changed_at is null as is_current,
    coalesce(next_is_deletion, false) as is_deleted,
    changed_at as version_changed_at,
    change_lsn as version_lsn
from changes
where not is_deletion
{%- endmacro %}
