{#- The published hours' partial aggregates with the PII-free attributes every mart groups by: the user
    version's sex, blood type, BMI (band) and region, and the activity's name (the one home of these joins). -#}
{{ config(materialized='view') }}

with

aggregates as (

    select * from {{ ref('published_hour_aggregates') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

)

select
    aggregates.*,
    users.user_id,
    users.sex,
    users.blood_type,
    users.bmi,
    users.bmi_band,
    users.region,
    activities.activity_name
from aggregates
inner join users on aggregates.user_key = users.user_key
inner join activities on aggregates.activity_key = activities.activity_key
