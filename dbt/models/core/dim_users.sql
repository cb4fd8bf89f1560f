{#- Users as SCD2 versions, PII-free (no names, address or birth date), with what serving groups by:
    BMI and its band, and the UN M49 region of the country of residence (the one home of that join). -#}
{{ config(materialized='table') }}

with

versions as (

    select * from {{ ref('int_user_versions') }}

),

countries as (

    select * from {{ ref('country_codes') }}

)

select
    versions.user_key,
    versions.user_id,
    versions.sex,
    versions.height_cm,
    versions.weight_kg,
    {{ bmi('versions.weight_kg', 'versions.height_cm') }} as bmi,
    {{ bmi_band('versions.weight_kg', 'versions.height_cm') }} as bmi_band,
    versions.blood_type,
    versions.race,
    versions.origin_country_code,
    versions.address_country_code as country_code,
    coalesce(countries.region, 'unknown') as region,
    coalesce(countries.sub_region, 'unknown') as sub_region,
    versions.valid_from,
    versions.valid_to,
    versions.is_current,
    versions.is_deleted,
    versions.version_changed_at,
    versions.version_lsn,
    versions.version_loaded_at
from versions
left join countries on versions.address_country_code = countries.country_code
