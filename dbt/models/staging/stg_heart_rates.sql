{#-
    One row per reading: typed once, meta flattened, deduplicated.
    Dedup key: event_id, or for original-format lines (no event_id) a hash of the
    reading's content. Invalid readings are kept and flagged, never dropped.

    Incremental, so an hourly run reads only what was loaded since the last one:
    new raw rows are deduplicated among themselves and replace any earlier copy of
    the same event (delete+insert on event_id). A replayed lake object therefore
    refreshes its events' loaded_at, which tells the fact to rebuild their hours;
    the content is the same, so the rebuilt rows are too.
-#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='event_id') }}

with

source as (

    select * from {{ source('raw', 'heart_rate_stream') }}
    {% if is_incremental() %}
    where _airbyte_extracted_at > (select max(loaded_at) from {{ this }})
    {% endif %}

),

typed as (

    select
        -- ids
        event_id as source_event_id,
        {{ dbt.safe_cast('user_id', api.Column.translate_type('bigint')) }} as user_id,
        {{ dbt.safe_cast(json_text('meta', 'activity_id'), api.Column.translate_type('bigint')) }} as activity_id,

        -- numerics
        {{ dbt.safe_cast('heart_rate', api.Column.translate_type('integer')) }} as heart_rate,
        {{ dbt.safe_cast(json_text('meta', 'location.latitude'), api.Column.translate_type('float')) }} as latitude,
        {{ dbt.safe_cast(json_text('meta', 'location.longitude'), api.Column.translate_type('float')) }} as longitude,
        {{ dbt.safe_cast('timestamp', api.Column.translate_type('bigint')) }} as event_epoch,

        -- lineage
        _ab_source_file_url as source_file,
        _ab_source_file_last_modified as source_file_modified_at,
        _airbyte_extracted_at as loaded_at,
        _airbyte_raw_id as raw_id

    from source

),

renamed as (

    select
        coalesce(
            source_event_id,
            {{ dbt.hash(dbt.concat([
                "coalesce(cast(user_id as " ~ dbt.type_string() ~ "), '')", "'|'",
                "coalesce(cast(event_epoch as " ~ dbt.type_string() ~ "), '')", "'|'",
                "coalesce(cast(heart_rate as " ~ dbt.type_string() ~ "), '')", "'|'",
                "coalesce(cast(activity_id as " ~ dbt.type_string() ~ "), '')", "'|'",
                "coalesce(cast(latitude as " ~ dbt.type_string() ~ "), '')", "'|'",
                "coalesce(cast(longitude as " ~ dbt.type_string() ~ "), '')"
            ])) }}
        ) as event_id,
        source_event_id is not null as has_source_event_id,
        user_id,
        activity_id,
        heart_rate,
        latitude,
        longitude,
        {{ epoch_to_timestamp('event_epoch') }} as event_at,
        source_file,
        source_file_modified_at,
        loaded_at,
        raw_id

    from typed

),

deduplicated as (

    select
        *,
        row_number() over (partition by event_id order by loaded_at desc, source_file, raw_id) as copy_number
    from renamed

)

select
    event_id,
    has_source_event_id,
    user_id,
    activity_id,
    heart_rate,
    latitude,
    longitude,
    event_at,
    {{ dbt.date_trunc('hour', 'event_at') }} as event_hour,

    -- validity flags: kept and flagged, never dropped
    user_id is not null as is_valid_user_id,
    coalesce(activity_id between 20001 and 20999, false) as is_valid_activity_id,
    coalesce(heart_rate between 20 and 250, false) as is_valid_heart_rate,
    event_at is not null as is_valid_event_at,
    coalesce(latitude between -90 and 90 and longitude between -180 and 180, false) as is_valid_location,
    coalesce(
        user_id is not null
        and activity_id between 20001 and 20999
        and heart_rate between 20 and 250
        and event_at is not null
        and latitude between -90 and 90 and longitude between -180 and 180,
        false
    ) as is_valid,

    source_file,
    source_file_modified_at,
    loaded_at

from deduplicated
where copy_number = 1
