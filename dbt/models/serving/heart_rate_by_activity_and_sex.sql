{#- Question 1: how does heart rate vary across activities for users of different sexes? -#}
with

aggregates as (

    select * from {{ ref('published_hour_aggregates_described') }}

),

cells as (

    select
        activity_name,
        sex,
        sum(readings) as readings,
        count(distinct user_id) as users,
        sum(sum_heart_rate) as sum_heart_rate,
        sum(sum_heart_rate_squared) as sum_heart_rate_squared
    from aggregates
    group by activity_name, sex

)

select
    activity_name,
    sex,
    readings,
    {{ unless_suppressed('users', 'users') }} as users,
    {{ unless_suppressed('users', 'sum_heart_rate * 1.0 / readings') }} as mean_heart_rate,
    {{ unless_suppressed('users', "sqrt(greatest(sum_heart_rate_squared - sum_heart_rate * sum_heart_rate * 1.0 / readings, 0)
                                       / nullif(readings - 1, 0))") }} as stddev_heart_rate,
    users < {{ var('serving_min_users') }} as is_suppressed
from cells
