{#- Question 2: heart-rate variability (RMSSD per session, see fct_workout_sessions) by blood type across regions, per day. -#}
with

sessions as (

    select * from {{ ref('fct_workout_sessions') }}
    where rmssd is not null

),

users as (

    select * from {{ ref('int_user_versions_described') }}

)

select
    sessions.started_date as session_date,
    users.region,
    users.blood_type,
    count(*) as sessions,
    count(distinct sessions.user_id) as users,
    avg(sessions.rmssd) as mean_rmssd
from sessions
inner join users on sessions.user_key = users.user_key
group by sessions.started_date, users.region, users.blood_type
