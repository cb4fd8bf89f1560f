{#- Every version of every user from the CDC log, typed once; a repeated change (same LSN) counts once.
    Names and addresses are not selected: nothing downstream needs them, so they never leave raw (where only
    the loader and pii_reader see them unmasked, deploy/snowflake/setup.sql). The birth date stays: the
    fact's age band at each reading needs it; it is kept in intermediate, never in core or serving. -#}
with

source as (

    select * from {{ source('raw', 'users') }}

),

renamed as (

    select
        -- ids
        user_id,

        -- attributes
        {{ yyyymmdd_to_date('date_of_birth') }} as birth_date,
        sex,
        height as height_cm,
        weight as weight_kg,
        blood_type,
        race,
        trim(origin_country_code) as origin_country_code,
        origin_country_name,
        trim(address_country_code) as address_country_code,
        address_country_name,

        -- change log
        {{ cdc_columns('user_id') }}

    from source

)

select * exclude (copy_number) from renamed where copy_number = 1
