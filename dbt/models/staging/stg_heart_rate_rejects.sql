{#- Lines the embedded loader could not read (not JSON objects, objects that do not decompress): local only.
    Airbyte has no such table (it logs them, and the completeness check counts what went missing), so in prod
    this is empty and nothing depends on it being there. -#}
with

source as (

    {{ optional_source('raw', 'heart_rate_stream_rejects', {
        '_ab_source_file_url': 'varchar', 'line_number': 'bigint', 'error': 'varchar',
        '_airbyte_extracted_at': 'timestamp'}) }}

),

renamed as (

    select
        _ab_source_file_url as source_file,
        {{ lake_object_hour('_ab_source_file_url') }} as folder_hour,
        line_number,
        error,
        _airbyte_extracted_at as loaded_at
    from source

)

select * from renamed
