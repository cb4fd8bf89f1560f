{#- Each valid reading with the PII-free description of its user version and activity at event time. -#}
{{ config(materialized='view') }}

with

readings as (

    select * from {{ ref('fct_heart_rates') }}
    where is_valid and not is_orphan_user and not is_orphan_activity

),

users as (

    select * from {{ ref('int_user_versions_described') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

)

select
    readings.event_id,
    readings.user_id,
    readings.event_at,
    readings.event_date,
    readings.heart_rate,
    readings.hemisphere,
    readings.local_solar_hour,
    activities.activity_name,
    users.sex,
    users.blood_type,
    {{ age_band('users.birth_date', 'readings.event_at') }} as age_band,
    users.bmi,
    users.bmi_band,
    users.country_code,
    users.region,
    users.sub_region,
    {{ season('extract(month from readings.event_at)', 'readings.hemisphere') }} as season

from readings
inner join users on readings.user_key = users.user_key
inner join activities on readings.activity_key = activities.activity_key
