{#-
    Grain: one reading. Incremental, rebuilt per event hour (delete+insert on
    event_hour): the hours of the run's interval (vars interval_start and
    interval_end, passed by the DAG) plus every hour that received rows loaded
    since the last run (late data). Re-running an interval rebuilds the same rows.
    User and activity keys are the SCD2 versions valid at the reading's event time.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_hour',
    cluster_by=['event_date'],
    on_schema_change='fail',
) }}

{%- set interval_start = var('interval_start') -%}
{%- set interval_end = var('interval_end') -%}

with

{% if is_incremental() %}
hours_to_build as (

    select distinct event_hour
    from {{ ref('stg_heart_rates') }}
    where loaded_at > (select coalesce(max(loaded_at), {{ to_utc_timestamp("'1900-01-01T00:00:00+00:00'") }}) from {{ this }})
    {%- if interval_start and interval_end %}
        or (
            event_hour >= {{ to_utc_timestamp("'" ~ interval_start ~ "'") }}
            and event_hour < {{ to_utc_timestamp("'" ~ interval_end ~ "'") }}
        )
    {%- endif %}

),
{% endif %}

readings as (

    select * from {{ ref('stg_heart_rates') }}
    {% if is_incremental() %}
    where event_hour in (select event_hour from hours_to_build)
    {% endif %}

),

users as (

    select * from {{ ref('dim_users') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

)

select
    -- ids and keys
    readings.event_id,
    readings.user_id,
    users.user_key,
    readings.activity_id,
    activities.activity_key,

    -- measures
    readings.heart_rate,
    readings.latitude,
    readings.longitude,

    -- time
    readings.event_at,
    readings.event_hour,
    cast(readings.event_at as date) as event_date,
    case when readings.latitude >= 0 then 'north' else 'south' end as hemisphere,
    mod(cast({{ utc_hour('readings.event_at') }} as integer) + cast(round(readings.longitude / 15) as integer) + 24, 24)
        as local_solar_hour,

    -- quality
    readings.is_valid,
    users.user_key is null as is_orphan_user,
    activities.activity_key is null as is_orphan_activity,
    readings.loaded_at

from readings
left join users
    on readings.user_id = users.user_id
    and readings.event_at >= users.valid_from
    and (users.valid_to is null or readings.event_at < users.valid_to)
left join activities
    on readings.activity_id = activities.activity_id
    and readings.event_at >= activities.valid_from
    and (activities.valid_to is null or readings.event_at < activities.valid_to)
