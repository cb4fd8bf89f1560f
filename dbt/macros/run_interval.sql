{#- The hourly run's interval [interval_start, interval_end): the DAG passes its data interval in the environment
    (HRS_INTERVAL_START / HRS_INTERVAL_END), by hand it can be the vars of the same names. Not vars from the DAG:
    any change of a var makes dbt re-parse the whole project (6 s here, every hourly run), while a changed
    environment variable re-parses only the four models that read it. -#}

{#- The interval's hours as ISO strings (an empty list when the vars are not set: a plain `dbt build`). -#}
{% macro interval_hour_strings() -%}
    {%- set start = var('interval_start', none) or env_var('HRS_INTERVAL_START', '') -%}
    {%- set end = var('interval_end', none) or env_var('HRS_INTERVAL_END', '') -%}
    {%- set hours = [] -%}
    {%- if start and end -%}
        {%- set datetime = modules.datetime -%}
        {%- set first = datetime.datetime.fromisoformat(start | replace('Z', '+00:00')) -%}
        {%- set last = datetime.datetime.fromisoformat(end | replace('Z', '+00:00')) -%}
        {%- set hour = first.astimezone(modules.pytz.utc).replace(minute=0, second=0, microsecond=0) -%}
        {%- set count = ((last - hour).total_seconds() / 3600) | round(0, 'ceil') | int -%}
        {%- for step in range(count) -%}
            {%- do hours.append((hour + datetime.timedelta(hours=step)).strftime('%Y-%m-%dT%H:00:00Z')) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(hours) }}
{%- endmacro %}

{#- The interval's hours as a one-column relation `event_hour` (no rows without an interval). -#}
{% macro interval_hours_relation() -%}
    {%- set hours = interval_hour_strings() -%}
    {%- if hours -%}
        {%- for hour in hours %}
    select {{ utc_timestamp(hour) }} as event_hour{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    {%- else %}
    select {{ utc_timestamp('1900-01-01T00:00:00Z') }} as event_hour where 1 = 0
    {%- endif %}
{%- endmacro %}
