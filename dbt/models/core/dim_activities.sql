{{ config(materialized='table') }}

{{ scd2_from_cdc('stg_activities', 'activity_id', ['activity_name']) }}
