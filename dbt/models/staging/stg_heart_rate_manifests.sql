{#- One row per data object the sink wrote: how many records it holds (the completeness check's reference). -#}
with

source as (

    select * from {{ source('raw', 'heart_rate_manifests') }}

),

renamed as (

    select
        -- ids
        object_key,
        kafka_partition,

        -- numerics
        records,
        first_offset,
        last_offset,

        -- lineage
        {{ lake_object_hour('object_key') }} as folder_hour,
        _ab_source_file_url as manifest_file,
        _airbyte_extracted_at as loaded_at,
        row_number() over (partition by object_key order by _airbyte_extracted_at desc) as copy_number

    from source

)

select * exclude (copy_number) from renamed where copy_number = 1
