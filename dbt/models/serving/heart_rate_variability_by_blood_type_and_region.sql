{#- Question 2: heart-rate variability (RMSSD per session, see fct_workout_sessions) by blood type across regions, per day. -#}
with

sessions as (

    select * from {{ ref('fct_workout_sessions') }}
    where rmssd is not null

),

users as (

    select * from {{ ref('dim_users') }}

),

countries as (

    select * from {{ ref('country_codes') }}

)

select
    sessions.started_date as session_date,
    coalesce(countries.region, 'unknown') as region,
    users.blood_type,
    count(*) as sessions,
    count(distinct sessions.user_id) as users,
    avg(sessions.rmssd) as mean_rmssd
from sessions
inner join users on sessions.user_key = users.user_key
left join countries on users.address_country_code = countries.country_code
group by sessions.started_date, coalesce(countries.region, 'unknown'), users.blood_type
