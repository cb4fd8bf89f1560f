{#- Every version of every user from the CDC log, typed once; a repeated change (same LSN) counts once. -#}
with

source as (

    select * from {{ source('raw', 'users') }}

),

renamed as (

    select
        -- ids
        user_id,

        -- attributes
        first_name,
        last_name,
        {{ yyyymmdd_to_date('date_of_birth') }} as birth_date,
        sex,
        height as height_cm,
        weight as weight_kg,
        blood_type,
        race,
        trim(origin_country_code) as origin_country_code,
        origin_country_name,
        address,
        trim(address_country_code) as address_country_code,
        address_country_name,

        -- change log
        {{ cdc_columns('user_id') }}

    from source

)

select * exclude (copy_number) from renamed where copy_number = 1
