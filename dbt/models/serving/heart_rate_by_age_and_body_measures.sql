{#- Question 5: heart rate as users age or change weight/height, with age and BMI as of each reading (SCD2). -#}
with

aggregates as (

    select * from {{ ref('published_hour_aggregates_described') }}

),

cells as (

    select
        sex,
        age_band,
        bmi_band,
        sum(readings) as readings,
        count(distinct user_id) as users,
        sum(bmi * readings) as sum_bmi,
        sum(sum_heart_rate) as sum_heart_rate
    from aggregates
    group by sex, age_band, bmi_band

)

select
    sex,
    age_band,
    bmi_band,
    readings,
    {{ unless_suppressed('users', 'users') }} as users,
    {{ unless_suppressed('users', 'sum_bmi * 1.0 / readings') }} as mean_bmi,
    {{ unless_suppressed('users', 'sum_heart_rate * 1.0 / readings') }} as mean_heart_rate,
    users < {{ var('serving_min_users') }} as is_suppressed
from cells
