{#-
    Question 3: seasonal variation of heart rate across demographics, seasons by the reading's hemisphere.
    Activity is kept as a dimension: heart rate depends on it far more than on the season, so comparisons
    should be made within an activity.
-#}
with

aggregates as (

    select * from {{ ref('published_hour_aggregates_described') }}

),

cells as (

    select
        hemisphere,
        season,
        sex,
        age_band,
        region,
        activity_name,
        sum(readings) as readings,
        count(distinct user_id) as users,
        sum(sum_heart_rate) as sum_heart_rate
    from aggregates
    group by hemisphere, season, sex, age_band, region, activity_name

)

select
    hemisphere,
    season,
    sex,
    age_band,
    region,
    activity_name,
    readings,
    {{ unless_suppressed('users', 'users') }} as users,
    {{ unless_suppressed('users', 'sum_heart_rate * 1.0 / readings') }} as mean_heart_rate,
    users < {{ var('serving_min_users') }} as is_suppressed
from cells
