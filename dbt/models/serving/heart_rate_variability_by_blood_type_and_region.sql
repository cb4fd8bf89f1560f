{#- Question 2: heart-rate variability trends by blood type across regions, per day. The measure is
    reading-to-reading RMSSD in bpm over workout plateaus (see published_hour_aggregates), pooled over the
    cell's readings: not physiological HRV, which needs RR intervals the wearables do not send. -#}
with

aggregates as (

    select * from {{ ref('published_hour_aggregates_described') }}

),

cells as (

    select
        event_date,
        region,
        blood_type,
        sum(readings) as readings,
        sum(plateau_pairs) as plateau_pairs,
        count(distinct user_id) as users,
        sum(sum_squared_differences) as sum_squared_differences
    from aggregates
    group by event_date, region, blood_type

)

select
    event_date,
    region,
    blood_type,
    readings,
    plateau_pairs,
    {{ unless_suppressed('users', 'users') }} as users,
    {{ unless_suppressed('users', 'sqrt(sum_squared_differences * 1.0 / nullif(plateau_pairs, 0))') }}
        as reading_to_reading_rmssd_bpm,
    users < {{ var('serving_min_users') }} as is_suppressed
from cells
