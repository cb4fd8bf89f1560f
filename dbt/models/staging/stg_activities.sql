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
        {{ cdc_columns('activity_id') }}

    from source

)

select * exclude (copy_number) from renamed where copy_number = 1
