{#-
    Data-quality checks per event hour, read by the DAG's gate for the hours of its
    interval. Thresholds are vars (dbt_project.yml; override with --vars):

    - volume: readings / mean readings of the 24 hours before (>= dq_min_volume_ratio)
    - invalid: share of readings failing a validity flag (<= dq_max_invalid_rate)
    - orphans: share of valid readings whose user or activity has no version at that time
    - duplicates: share of events loaded with conflicting content under one event_id
    - rejects: lake lines of that hour's folder that were not JSON objects
    - freshness: minutes from the hour's last event to its last load
-#}
with

readings as (

    select
        event_hour,
        count(*) as readings,
        avg(case when is_valid then 0.0 else 1.0 end) as invalid_rate,
        avg(case when is_valid and (is_orphan_user or is_orphan_activity) then 1.0 else 0.0 end) as orphan_rate,
        max(event_at) as last_event_at,
        max(loaded_at) as last_loaded_at
    from {{ ref('fct_heart_rates') }}
    group by event_hour

),

conflicts as (

    select
        {{ dbt.date_trunc('hour', epoch_to_timestamp(dbt.safe_cast('min(timestamp)', api.Column.translate_type('bigint')))) }}
            as event_hour,
        count(*) as conflicting_events
    from {{ source('raw', 'heart_rate_stream') }}
    where event_id is not null
    group by event_id
    having count(distinct {{ dbt.concat(["coalesce(user_id, '')", "'|'", "coalesce(heart_rate, '')", "'|'",
                                         "coalesce(timestamp, '')"]) }}) > 1

),

conflicts_by_hour as (

    select event_hour, sum(conflicting_events) as conflicting_events from conflicts group by event_hour

),

rejects as (

    select {{ lake_object_hour('_ab_source_file_url') }} as event_hour, count(*) as rejected_lines
    from {{ source('raw', 'heart_rate_stream_rejects') }}
    group by {{ lake_object_hour('_ab_source_file_url') }}

),

measured as (

    select
        readings.event_hour,
        readings.readings,
        avg(readings.readings) over (order by readings.event_hour rows between 24 preceding and 1 preceding)
            as trailing_mean_readings,
        readings.invalid_rate,
        readings.orphan_rate,
        coalesce(conflicts_by_hour.conflicting_events, 0) * 1.0 / readings.readings as duplicate_rate,
        coalesce(rejects.rejected_lines, 0) as rejected_lines,
        {{ dbt.datediff('readings.last_event_at', 'readings.last_loaded_at', 'minute') }} as freshness_lag_minutes
    from readings
    left join conflicts_by_hour on readings.event_hour = conflicts_by_hour.event_hour
    left join rejects on readings.event_hour = rejects.event_hour

),

checked as (

    select
        *,
        readings * 1.0 / nullif(trailing_mean_readings, 0) as volume_ratio,
        coalesce(readings * 1.0 / nullif(trailing_mean_readings, 0) >= {{ var('dq_min_volume_ratio') }}, true)
            as volume_ok,
        invalid_rate <= {{ var('dq_max_invalid_rate') }} as invalid_ok,
        orphan_rate <= {{ var('dq_max_orphan_rate') }} as orphans_ok,
        duplicate_rate <= {{ var('dq_max_duplicate_rate') }} as duplicates_ok,
        rejected_lines <= {{ var('dq_max_rejected_lines') }} as rejects_ok,
        freshness_lag_minutes <= {{ var('dq_max_freshness_lag_minutes') }} as freshness_ok
    from measured

)

select
    *,
    volume_ok and invalid_ok and orphans_ok and duplicates_ok and rejects_ok and freshness_ok as passed,
    trim({{ dbt.concat([
        "case when volume_ok then '' else 'volume ' end",
        "case when invalid_ok then '' else 'invalid ' end",
        "case when orphans_ok then '' else 'orphans ' end",
        "case when duplicates_ok then '' else 'duplicates ' end",
        "case when rejects_ok then '' else 'rejects ' end",
        "case when freshness_ok then '' else 'freshness ' end"
    ]) }}) as failing_checks
from checked
