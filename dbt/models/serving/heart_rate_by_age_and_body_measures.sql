{#- Question 5: heart rate as users age or change weight/height, with age and BMI as of each reading (SCD2). -#}
select
    sex,
    age_band,
    bmi_band,
    count(*) as readings,
    count(distinct user_id) as users,
    avg(bmi) as mean_bmi,
    avg(heart_rate) as mean_heart_rate
from {{ ref('int_readings_described') }}
group by sex, age_band, bmi_band
