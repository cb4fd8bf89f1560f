{{ config(materialized='table') }}

with days as (

    {{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2031-01-01' as date)") }}

)

select
    cast(date_day as date) as date_day,
    extract(year from date_day) as year_number,
    extract(month from date_day) as month_number,
    extract(day from date_day) as day_of_month,
    extract(dow from date_day) as day_of_week,
    {{ season('extract(month from date_day)', "'north'") }} as northern_season,
    {{ season('extract(month from date_day)', "'south'") }} as southern_season
from days
