{#- Question 1: how does heart rate vary across activities for users of different sexes? -#}
select
    activity_name,
    sex,
    count(*) as readings,
    count(distinct user_id) as users,
    avg(heart_rate) as mean_heart_rate,
    stddev(heart_rate) as stddev_heart_rate
from {{ ref('int_readings_described') }}
group by activity_name, sex
