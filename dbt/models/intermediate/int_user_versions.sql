{#- Users as SCD2 versions from the CDC log, with every attribute (PII included): the one place the
    fact reads a version's birth date from (for the age band at each reading). Not for researchers: the
    core dimension dim_users carries the PII-free attributes. -#}
{{ config(materialized='table') }}

{{ scd2_from_cdc('stg_users', 'user_id', [
    'first_name', 'last_name', 'birth_date', 'sex', 'height_cm', 'weight_kg', 'blood_type', 'race',
    'origin_country_code', 'origin_country_name', 'address', 'address_country_code', 'address_country_name'
]) }}
