{#-
    SCD2 versions from a CDC staging model (one row per change, deletions included).

    - Changes of one key at one commit time (two updates in one transaction) collapse into the last of
      them (by LSN): one version, never a zero-length one.
    - Each non-deletion change opens a version: valid_from = its commit time, except the first known
      change of a key, which is valid from the beginning of time (the OLTP holds no earlier history, and
      readings may precede the first load).
    - valid_to = the commit time of the next change or of the deletion; null while current. A delete
      then a re-insert leaves a gap: no version covers the time in between.
    - The surrogate key hashes the key, the change's LSN and its commit time: stable for a version, whatever
      arrives later (a snapshot row and the change right after it may share an LSN, never a commit time).
    - is_deleted marks the version a hard delete closed.
-#}
{% macro scd2_from_cdc(staging_model, key, attributes) -%}
with

changes as (

    select
        *,
        row_number() over (partition by {{ key }}, changed_at order by change_lsn desc) as last_at_commit
    from {{ ref(staging_model) }}

),

collapsed as (

    select
        *,
        lead(changed_at) over (partition by {{ key }} order by changed_at) as next_changed_at,
        lead(is_deletion) over (partition by {{ key }} order by changed_at) as next_is_deletion,
        row_number() over (partition by {{ key }} order by changed_at) as change_number
    from changes
    where last_at_commit = 1

)

select
    {{ dbt.hash(dbt.concat(["cast(" ~ key ~ " as " ~ dbt.type_string() ~ ")", "'|'",
                             "cast(change_lsn as " ~ dbt.type_string() ~ ")", "'|'",
                             "cast(changed_at as " ~ dbt.type_string() ~ ")"])) }} as {{ key | replace('_id', '') }}_key,
    {{ key }},
    {%- for attribute in attributes %}
    {{ attribute }},
    {%- endfor %}
    case
        when change_number = 1 then {{ utc_timestamp('1900-01-01T00:00:00Z') }}
        else changed_at
    end as valid_from,
    next_changed_at as valid_to,
    next_changed_at is null as is_current,
    coalesce(next_is_deletion, false) as is_deleted,
    changed_at as version_changed_at,
    change_lsn as version_lsn,
    loaded_at as version_loaded_at
from collapsed
where not is_deletion
{%- endmacro %}
