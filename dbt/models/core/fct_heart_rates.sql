{#-
    Grain: one reading (one event id), in the event hour it belongs to. Incremental, rebuilt per event hour
    (delete+insert on event_hour), and always equal to a full refresh, whatever the order in which readings
    and OLTP changes arrive. A run rebuilds:

    - the hours of its interval (from the DAG, or the vars interval_start / interval_end: run_interval.sql);
    - every hour holding a staged row that changed since the last build, and the hours where those events
      and those lake folders sat before (a reading whose time changed moves: it is never counted twice);
    - every hour with readings of a user or an activity whose CDC changes arrived since the last build,
      from the first moment those changes cover (a late change re-joins the readings it applies to).

    Versions: an event id with conflicting content is one row (the newest version loaded, deterministic)
    flagged is_conflicting; the data-quality gate holds its hours until an operator resolves it. User and
    activity keys are the SCD2 versions valid at the reading's event time; no version = orphan.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_hour',
    cluster_by=['event_date'],
    on_schema_change='fail',
) }}

with

staged as (

    select * from {{ ref('stg_heart_rates') }}

),

user_versions as (

    select * from {{ ref('int_user_versions') }}

),

activity_versions as (

    select * from {{ ref('dim_activities') }}

),

{% if is_incremental() %}
staged_since as (

    select event_id, event_hour, folder_hour from staged where staged_at > {{ watermark('staged_watermark') }}

),

{%- for entity, model in [('user_id', 'stg_users'), ('activity_id', 'stg_activities')] %}
{{ entity | replace('_id', '') }}_changes as (

    {#- From the earliest commit the newly loaded changes cover (the beginning of time for a first version). #}
    select {{ entity }}, min(affected_from) as affected_from
    from (
        select
            {{ entity }},
            loaded_at,
            case
                when row_number() over (partition by {{ entity }} order by changed_at, change_lsn) = 1
                    then {{ utc_timestamp('1900-01-01T00:00:00Z') }}
                else changed_at
            end as affected_from
        from {{ ref(model) }}
    ) as changes
    where loaded_at > {{ watermark('dims_watermark') }}
    group by {{ entity }}

),

{% endfor %}
hours_to_build as (

    select event_hour from ({{ interval_hours_relation() }}) as run_interval
    union
    select event_hour from staged_since
    union
    select this.event_hour from {{ this }} as this
    where this.event_id in (select event_id from staged_since)
        or this.folder_hour in (select folder_hour from staged_since)
    union
    select staged.event_hour from staged
    inner join user_changes on staged.user_id = user_changes.user_id
    where staged.event_at >= user_changes.affected_from
    union
    select staged.event_hour from staged
    inner join activity_changes on staged.activity_id = activity_changes.activity_id
    where staged.event_at >= activity_changes.affected_from

),
{% endif %}

candidates as (

    select * from staged
    {% if is_incremental() %}
    where event_id in (select event_id from staged where event_hour in (select event_hour from hours_to_build))
    {% endif %}

),

chosen as (

    select
        *,
        row_number() over (partition by event_id order by loaded_at desc, content_hash, folder_hour) as choice
    from candidates

),

readings as (

    select * from chosen
    where choice = 1
    {% if is_incremental() %}
        and event_hour in (select event_hour from hours_to_build)
    {% endif %}

),

watermarks as (

    select
        (select max(staged_at) from staged) as staged_watermark,
        (select max(loaded_at) from (
            select loaded_at from {{ ref('stg_users') }} union all select loaded_at from {{ ref('stg_activities') }}
        ) as changes) as dims_watermark

)

select
    -- ids and keys
    readings.event_id,
    readings.content_hash,
    readings.user_id,
    user_versions.user_key,
    readings.activity_id,
    activity_versions.activity_key,

    -- measures
    readings.heart_rate,
    readings.latitude,
    readings.longitude,

    -- time
    readings.event_at,
    readings.event_hour,
    cast(readings.event_hour as date) as event_date,
    readings.folder_hour,
    case when readings.latitude >= 0 then 'north' else 'south' end as hemisphere,
    mod(cast({{ utc_hour('readings.event_at') }} as integer) + cast(round(readings.longitude / 15) as integer) + 24, 24)
        as local_solar_hour,
    {{ age_band('user_versions.birth_date', 'readings.event_at') }} as age_band,

    -- quality
    readings.is_valid,
    readings.versions > 1 as is_conflicting,
    readings.is_valid and user_versions.user_key is null as is_orphan_user,
    readings.is_valid and activity_versions.activity_key is null as is_orphan_activity,

    -- lineage and bookkeeping
    readings.source_file,
    readings.first_arrived_at,
    readings.loaded_at,
    watermarks.staged_watermark,
    watermarks.dims_watermark,
    {{ built_now() }} as built_at

from readings
cross join watermarks
left join user_versions
    on readings.is_valid
    and readings.user_id = user_versions.user_id
    and readings.event_at >= user_versions.valid_from
    and (user_versions.valid_to is null or readings.event_at < user_versions.valid_to)
left join activity_versions
    on readings.is_valid
    and readings.activity_id = activity_versions.activity_id
    and readings.event_at >= activity_versions.valid_from
    and (activity_versions.valid_to is null or readings.event_at < activity_versions.valid_to)
