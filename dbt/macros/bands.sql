{#- Age and BMI bands: what serving shows instead of birth dates and body measures. -#}
{% macro age_band(birth_date, at) -%}
    case
        when {{ birth_date }} is null or {{ at }} is null then 'unknown'
        when {{ dbt.datediff(birth_date, at, 'day') }} / 365.25 < 18 then 'under 18'
        when {{ dbt.datediff(birth_date, at, 'day') }} / 365.25 < 30 then '18-29'
        when {{ dbt.datediff(birth_date, at, 'day') }} / 365.25 < 40 then '30-39'
        when {{ dbt.datediff(birth_date, at, 'day') }} / 365.25 < 50 then '40-49'
        when {{ dbt.datediff(birth_date, at, 'day') }} / 365.25 < 60 then '50-59'
        when {{ dbt.datediff(birth_date, at, 'day') }} / 365.25 < 70 then '60-69'
        else '70+'
    end
{%- endmacro %}

{% macro bmi(weight_kg, height_cm) -%}
    {{ weight_kg }} / nullif(({{ height_cm }} / 100.0) * ({{ height_cm }} / 100.0), 0)
{%- endmacro %}

{% macro bmi_band(weight_kg, height_cm) -%}
    case
        when {{ bmi(weight_kg, height_cm) }} is null then 'unknown'
        when {{ bmi(weight_kg, height_cm) }} < 18.5 then 'under 18.5'
        when {{ bmi(weight_kg, height_cm) }} < 25 then '18.5-24.9'
        when {{ bmi(weight_kg, height_cm) }} < 30 then '25-29.9'
        when {{ bmi(weight_kg, height_cm) }} < 35 then '30-34.9'
        else '35+'
    end
{%- endmacro %}

{#- Meteorological season of a month, hemisphere-aware. -#}
{% macro season(month_number, hemisphere) -%}
    case
        when {{ hemisphere }} = 'north' then
            case when {{ month_number }} in (12, 1, 2) then 'winter' when {{ month_number }} in (3, 4, 5) then 'spring'
                 when {{ month_number }} in (6, 7, 8) then 'summer' else 'autumn' end
        else
            case when {{ month_number }} in (12, 1, 2) then 'summer' when {{ month_number }} in (3, 4, 5) then 'autumn'
                 when {{ month_number }} in (6, 7, 8) then 'winter' else 'spring' end
    end
{%- endmacro %}
