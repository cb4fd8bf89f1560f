{#- Every version of every activity from the CDC log, typed once; a repeated change (same LSN) counts once. -#}
with

source as (

    select * from {{ source('raw', 'activities') }}

),

renamed as (

    select
        -- ids
        activity_id,

        -- attributes
        activity_name,

        -- change log
        _ab_cdc_lsn as change_lsn,
        _ab_cdc_updated_at as changed_at,
        _ab_cdc_deleted_at as deleted_at,
        _ab_cdc_deleted_at is not null as is_deletion,
        last_update as source_updated_at,
        _airbyte_extracted_at as loaded_at,
        row_number() over (partition by activity_id, _ab_cdc_lsn order by _airbyte_extracted_at) as copy_number

    from source

)

select * exclude (copy_number) from renamed where copy_number = 1
