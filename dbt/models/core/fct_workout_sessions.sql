{#-
    Grain: one workout session, rebuilt from the readings. A session is a run of
    valid readings of one user in one activity with no gap over 60 seconds.

    Heart-rate variability (HRV) is RMSSD: the root mean square of successive
    differences between consecutive readings of a session, over its plateau
    (leaving out the first 3 minutes of warm-up and the last 2 of cool-down, whose
    trend is not variability). Sessions with fewer than 10 plateau pairs get none.
-#}
{{ config(materialized='table') }}

with

readings as (

    select event_id, user_id, user_key, activity_id, activity_key, heart_rate, event_at, hemisphere,
           local_solar_hour
    from {{ ref('fct_heart_rates') }}
    where is_valid and not is_orphan_user and not is_orphan_activity

),

marked as (

    select
        *,
        case
            when lag(event_at) over (partition by user_id, activity_id order by event_at) is null then 1
            when {{ dbt.datediff('lag(event_at) over (partition by user_id, activity_id order by event_at)', 'event_at', 'second') }} > 60
                then 1
            else 0
        end as starts_session
    from readings

),

numbered as (

    select
        *,
        sum(starts_session) over (partition by user_id, activity_id order by event_at rows between unbounded preceding and current row)
            as session_number
    from marked

),

framed as (

    select
        *,
        min(event_at) over (partition by user_id, activity_id, session_number) as session_started_at,
        max(event_at) over (partition by user_id, activity_id, session_number) as session_ended_at,
        first_value(user_key) over (partition by user_id, activity_id, session_number order by event_at) as start_user_key,
        first_value(hemisphere) over (partition by user_id, activity_id, session_number order by event_at) as start_hemisphere,
        first_value(local_solar_hour) over (partition by user_id, activity_id, session_number order by event_at)
            as start_local_solar_hour,
        heart_rate - lag(heart_rate) over (partition by user_id, activity_id, session_number order by event_at)
            as successive_difference
    from numbered

),

plateau as (

    select
        *,
        {{ dbt.datediff('session_started_at', 'event_at', 'second') }} >= 180
        and {{ dbt.datediff('event_at', 'session_ended_at', 'second') }} >= 120
        and successive_difference is not null as is_plateau_pair
    from framed

)

select
    {{ dbt.hash(dbt.concat(["cast(user_id as " ~ dbt.type_string() ~ ")", "'|'",
                             "cast(activity_id as " ~ dbt.type_string() ~ ")", "'|'",
                             "cast(session_started_at as " ~ dbt.type_string() ~ ")"])) }} as session_id,
    user_id,
    start_user_key as user_key,
    activity_id,
    activity_key,
    session_started_at as started_at,
    session_ended_at as ended_at,
    cast(session_started_at as date) as started_date,
    start_hemisphere as hemisphere,
    start_local_solar_hour as local_solar_hour,
    count(*) as readings,
    avg(heart_rate) as mean_heart_rate,
    sum(case when is_plateau_pair then 1 else 0 end) as plateau_pairs,
    case
        when sum(case when is_plateau_pair then 1 else 0 end) >= 10
            then sqrt(avg(case when is_plateau_pair then successive_difference * successive_difference end))
    end as rmssd

from plateau
group by user_id, activity_id, session_number, start_user_key, activity_key, session_started_at, session_ended_at,
    start_hemisphere, start_local_solar_hour
