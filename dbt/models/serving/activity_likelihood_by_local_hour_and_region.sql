{#-
    Question 4: how likely is each activity at each local time of day within a region?
    Local time is solar time at the session's first reading (UTC hour + longitude / 15).
    share_of_sessions = sessions of the activity / all sessions in that region and hour.
-#}
with

sessions as (

    select * from {{ ref('fct_workout_sessions') }}

),

users as (

    select * from {{ ref('int_user_versions_described') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

),

counted as (

    select
        users.region,
        sessions.local_solar_hour,
        activities.activity_name,
        count(*) as sessions
    from sessions
    inner join users on sessions.user_key = users.user_key
    inner join activities on sessions.activity_key = activities.activity_key
    group by users.region, sessions.local_solar_hour, activities.activity_name

)

select
    region,
    local_solar_hour,
    activity_name,
    sessions,
    sessions * 1.0 / sum(sessions) over (partition by region, local_solar_hour) as share_of_sessions
from counted
