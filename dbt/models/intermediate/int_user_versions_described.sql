{#- Each user version with the PII-free attributes serving groups by, and its region (one home for the join). -#}
{{ config(materialized='view') }}

with

users as (

    select * from {{ ref('dim_users') }}

),

countries as (

    select * from {{ ref('country_codes') }}

)

select
    users.user_key,
    users.user_id,
    users.birth_date,
    users.sex,
    users.blood_type,
    {{ bmi('users.weight_kg', 'users.height_cm') }} as bmi,
    {{ bmi_band('users.weight_kg', 'users.height_cm') }} as bmi_band,
    users.address_country_code as country_code,
    coalesce(countries.region, 'unknown') as region,
    coalesce(countries.sub_region, 'unknown') as sub_region

from users
left join countries on users.address_country_code = countries.country_code
