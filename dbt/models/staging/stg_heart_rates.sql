{#-
    One row per version of a reading per lake folder: typed once, meta flattened, copies collapsed.

    - A version is the reading's content (user, heart rate, time, activity, place): the
      same event id with other content is another version, and `versions` counts them
      across the whole table, so a conflict is never resolved silently.
    - Values that do not cast are NULL and flagged invalid (TRY_CAST on both engines): a
      bad field never stops a run. Event times outside the contract's range, or after
      the lake object holding them was written (plus dq_max_clock_skew_minutes), are
      invalid; such a reading counts in the hour of the folder it arrived in.
    - Per-record problems the loader noted in `_airbyte_meta.changes` (Airbyte's destination
      nulls a value it cannot type and says so there) are kept in `airbyte_changes`; the
      data-quality gate counts them as rejects, in both modes.
    - Copies of one version in one folder (a replayed object) are one row: the first
      arrival is kept for lineage and lake-arrival latency (freshness), the newest
      load time for the incremental cursor.

    Incremental by lake folder (delete+insert on folder_hour): the folders that received
    rows since the last build, the run's interval (a re-run rebuilds its hour from raw,
    so raw rows removed by an operator disappear), and every folder holding another
    version of an event touched by those, whose `versions` may change.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='folder_hour',
    on_schema_change='fail',
) }}

{%- set ranges = event_contract_ranges() -%}

with

{% if is_incremental() %}
new_rows as (

    select _ab_source_file_url, event_id
    from {{ source('raw', 'heart_rate_stream') }}
    where _airbyte_extracted_at > {{ watermark('loaded_at') }}

),

base_folders as (

    select distinct {{ lake_object_hour('_ab_source_file_url') }} as folder_hour from new_rows
    union
    select event_hour from ({{ interval_hours_relation() }}) as run_interval

),

touched_events as (

    select event_id from new_rows where event_id is not null
    union
    select event_id from {{ this }} where folder_hour in (select folder_hour from base_folders)

),

folders_to_build as (

    select folder_hour from base_folders
    union
    select distinct folder_hour from {{ this }} where event_id in (select event_id from touched_events)

),
{% endif %}

source as (

    select * from {{ source('raw', 'heart_rate_stream') }}
    {% if is_incremental() %}
    where {{ lake_object_hour('_ab_source_file_url') }} in (select folder_hour from folders_to_build)
    {% endif %}

),

typed as (

    select
        -- ids
        event_id as source_event_id,
        {{ try_integer('user_id') }} as user_id,
        {{ try_integer(json_text('meta', 'activity_id')) }} as activity_id,

        -- numerics
        {{ try_integer('heart_rate') }} as heart_rate,
        {{ try_double(json_text('meta', 'location.latitude')) }} as latitude,
        {{ try_double(json_text('meta', 'location.longitude')) }} as longitude,
        {{ try_integer('timestamp') }} as event_epoch,

        -- lineage
        _ab_source_file_url as source_file,
        {{ try_timestamp('_ab_source_file_last_modified') }} as source_file_modified_at,
        {{ lake_object_hour('_ab_source_file_url') }} as folder_hour,
        _airbyte_extracted_at as loaded_at,
        nullif(nullif({{ json_text('_airbyte_meta', 'changes') }}, '[]'), '') as airbyte_changes

    from source

),

versioned as (

    select
        *,
        {{ dbt.hash(dbt.concat([
            "coalesce(cast(user_id as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(event_epoch as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(heart_rate as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(activity_id as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(latitude as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(longitude as " ~ dbt.type_string() ~ "), '')"
        ])) }} as content_hash
    from typed

),

identified as (

    select
        coalesce(source_event_id, content_hash) as event_id,
        source_event_id is not null as has_source_event_id,
        *
    from versioned

),

collapsed as (

    select
        event_id,
        content_hash,
        folder_hour,
        max(loaded_at) over (partition by folder_hour, event_id, content_hash) as loaded_at,
        count(*) over (partition by folder_hour, event_id, content_hash) as copies,
        max(airbyte_changes) over (partition by folder_hour, event_id, content_hash) as airbyte_changes,
        row_number() over (
            partition by folder_hour, event_id, content_hash
            order by source_file_modified_at, source_file
        ) as arrival_number,
        has_source_event_id,
        user_id,
        activity_id,
        heart_rate,
        latitude,
        longitude,
        {{ epoch_to_timestamp('event_epoch') }} as event_at,
        source_file,
        source_file_modified_at as first_arrived_at
    from identified

),

rebuilt as (

    select * exclude (arrival_number) from collapsed where arrival_number = 1

),

{% if is_incremental() %}
other_folders_versions as (

    select event_id, content_hash from {{ this }}
    where folder_hour not in (select folder_hour from folders_to_build)
        and event_id in (select event_id from rebuilt)

),
{% endif %}

all_versions as (

    select event_id, content_hash from rebuilt
    {% if is_incremental() %}
    union all
    select event_id, content_hash from other_folders_versions
    {% endif %}

),

versions as (

    select event_id, count(distinct content_hash) as versions from all_versions group by event_id

),

flagged as (

    select
        rebuilt.*,
        versions.versions,
        coalesce(rebuilt.user_id between {{ ranges['user_id'] | join(' and ') }}, false) as is_valid_user_id,
        coalesce(rebuilt.activity_id between {{ ranges['activity_id'] | join(' and ') }}, false)
            as is_valid_activity_id,
        coalesce(rebuilt.heart_rate between {{ ranges['heart_rate'] | join(' and ') }}, false) as is_valid_heart_rate,
        coalesce(
            rebuilt.event_at <= {{ dbt.dateadd('minute', var('dq_max_clock_skew_minutes'), 'rebuilt.first_arrived_at') }},
            false
        ) as is_valid_event_at,
        coalesce(
            rebuilt.latitude between {{ ranges['latitude'] | join(' and ') }}
            and rebuilt.longitude between {{ ranges['longitude'] | join(' and ') }},
            false
        ) as is_valid_location
    from rebuilt
    inner join versions on rebuilt.event_id = versions.event_id

)

select
    event_id,
    content_hash,
    has_source_event_id,
    versions,
    user_id,
    activity_id,
    heart_rate,
    latitude,
    longitude,
    event_at,
    case
        when is_valid_event_at then {{ dbt.date_trunc('hour', 'event_at') }}
        else folder_hour
    end as event_hour,
    folder_hour,

    -- validity flags: kept and flagged, never dropped
    is_valid_user_id,
    is_valid_activity_id,
    is_valid_heart_rate,
    is_valid_event_at,
    is_valid_location,
    is_valid_user_id and is_valid_activity_id and is_valid_heart_rate and is_valid_event_at and is_valid_location
        as is_valid,
    is_valid_event_at and {{ dbt.date_trunc('hour', 'event_at') }} != folder_hour as is_misplaced,

    -- lineage
    source_file,
    first_arrived_at,
    copies,
    airbyte_changes,
    loaded_at,
    {{ built_now() }} as staged_at

from flagged
