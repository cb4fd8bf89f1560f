{#-
    Question 3: seasonal variation of heart rate across demographics, seasons by the
    reading's hemisphere. Activity is kept as a dimension: heart rate depends on it far
    more than on the season, so comparisons should be made within an activity.
-#}
select
    hemisphere,
    season,
    sex,
    age_band,
    region,
    activity_name,
    count(*) as readings,
    count(distinct user_id) as users,
    avg(heart_rate) as mean_heart_rate
from {{ ref('int_readings_described') }}
group by hemisphere, season, sex, age_band, region, activity_name
