{#- One row per message the sink refused (not a valid contract event), in the hour of its Kafka timestamp. -#}
with

source as (

    select * from {{ source('raw', 'heart_rate_dead_letters') }}

),

renamed as (

    select
        -- ids
        kafka_topic,
        kafka_partition,
        kafka_offset,
        message_key,

        -- the refusal
        error,
        value_base64,

        -- lineage
        {{ lake_object_hour('_ab_source_file_url') }} as folder_hour,
        _ab_source_file_url as dead_letter_file,
        _airbyte_extracted_at as loaded_at,
        row_number() over (
            partition by kafka_topic, kafka_partition, kafka_offset order by _airbyte_extracted_at desc
        ) as copy_number

    from source

)

select * exclude (copy_number) from renamed where copy_number = 1
