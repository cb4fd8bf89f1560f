{#- Each valid reading with the PII-free description of its user version and activity at event time. -#}
{{ config(materialized='view') }}

with

readings as (

    select * from {{ ref('fct_heart_rates') }}
    where is_valid and not is_orphan_user and not is_orphan_activity

),

users as (

    select * from {{ ref('dim_users') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

),

countries as (

    select * from {{ ref('country_codes') }}

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
    {{ bmi('users.weight_kg', 'users.height_cm') }} as bmi,
    {{ bmi_band('users.weight_kg', 'users.height_cm') }} as bmi_band,
    users.address_country_code as country_code,
    coalesce(countries.region, 'unknown') as region,
    coalesce(countries.sub_region, 'unknown') as sub_region,
    {{ season('extract(month from readings.event_at)', 'readings.hemisphere') }} as season

from readings
inner join users on readings.user_key = users.user_key
inner join activities on readings.activity_key = activities.activity_key
left join countries on users.address_country_code = countries.country_code
