{#- The change-log columns every CDC staging model carries, typed from what source-postgres declares (the
    LSN a number, the commit and delete times strings), and the copy number that drops a repeated change (the
    same LSN, commit time and kind: a snapshot row and the first change after it can share an LSN). -#}
{% macro cdc_columns(key) -%}
        _ab_cdc_lsn as change_lsn,
        {{ try_timestamp('_ab_cdc_updated_at') }} as changed_at,
        {{ try_timestamp('_ab_cdc_deleted_at') }} as deleted_at,
        _ab_cdc_deleted_at is not null as is_deletion,
        last_update as source_updated_at,
        _airbyte_extracted_at as loaded_at,
        row_number() over (
            partition by {{ key }}, _ab_cdc_lsn, _ab_cdc_updated_at, _ab_cdc_deleted_at order by _airbyte_extracted_at
        ) as copy_number
{%- endmacro %}
