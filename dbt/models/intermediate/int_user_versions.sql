{#- Users as SCD2 versions from the CDC log, birth date included: the one place the fact reads a version's
    birth date from (for the age band at each reading). Not for researchers (intermediate is the transformer's
    own schema): the core dimension dim_users carries the attributes without it. -#}
{{ config(materialized='table') }}

{{ scd2_from_cdc('stg_users', 'user_id', [
    'birth_date', 'sex', 'height_cm', 'weight_kg', 'blood_type', 'race',
    'origin_country_code', 'origin_country_name', 'address_country_code', 'address_country_name'
]) }}
