{#-
    Question 4: how likely is each activity at each local time of day within a region? Local time is solar
    time (UTC hour + longitude / 15); likelihood is the activity's share of the workout time recorded in that
    region and local hour (readings come every 5 seconds, so readings measure time).
-#}
with

aggregates as (

    select * from {{ ref('published_hour_aggregates_described') }}

),

cells as (

    select
        region,
        local_solar_hour,
        activity_name,
        sum(readings) as readings,
        count(distinct user_id) as users
    from aggregates
    group by region, local_solar_hour, activity_name

)

select
    region,
    local_solar_hour,
    activity_name,
    readings,
    {{ unless_suppressed('users', 'users') }} as users,
    {{ unless_suppressed('users', 'readings * 1.0 / sum(readings) over (partition by region, local_solar_hour)') }}
        as share_of_workout_time,
    users < {{ var('serving_min_users') }} as is_suppressed
from cells
