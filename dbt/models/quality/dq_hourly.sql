{#-
    The data-quality checks per event hour, which the DAG's gate decides on. Thresholds are vars
    (dbt_project.yml; override with --vars), repeated in each row so an alert can say by how much.

    - volume: readings / mean readings of the hours with data among the 24 before (>= dq_min_volume_ratio)
    - invalid: share of readings failing a validity flag, bad event times included (<= dq_max_invalid_rate)
    - orphans: share of valid readings whose user or activity has no version at that time
    - conflicts: event ids with versions of other content, in the hour of any version (<= dq_max_conflicting_events)
    - dead_letters: messages the sink refused, in the hour of their Kafka timestamp
    - misplaced: readings of this hour's lake folder whose own event time is another hour
    - incomplete: lake objects of this folder whose rows in raw fall short of their manifest
    - rejects: lines the loader could not read (the embedded loader's rejects table, local only) and rows
      it loaded with per-record problems noted in `_airbyte_meta.changes` (both loaders)
    - freshness: median minutes from a reading's event time to its first lake object (live latency, so a
      backfill of old hours is not stale)

    `fingerprint` identifies what was judged: the hour's readings and every signal above. The gate records
    it when it publishes or holds the hour, and judges an hour again only when its fingerprint changes.

    Incremental by event hour: the hours whose readings, staged rows or lake objects changed since the last
    check, the hours with dead letters or rejects, and the run's interval.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_hour',
    on_schema_change='fail',
) }}

with

facts as (

    select * from {{ ref('fct_heart_rates') }}

),

staged as (

    select * from {{ ref('stg_heart_rates') }}

),

objects as (

    select * from {{ ref('stg_heart_rate_objects') }}

),

dead_letters as (

    select * from {{ ref('stg_heart_rate_dead_letters') }}

),

rejects as (

    select folder_hour, source_file, line_number, error from {{ ref('stg_heart_rate_rejects') }}
    union all
    select folder_hour, source_file, cast(null as bigint) as line_number, 'loader changes ' || airbyte_changes as error
    from {{ ref('stg_heart_rates') }}
    where airbyte_changes is not null

),

hours_to_check as (

    select event_hour from ({{ interval_hours_relation() }}) as run_interval
    union
    select folder_hour from dead_letters
    union
    select folder_hour from rejects
    {% if is_incremental() %}
    union
    select event_hour from facts where built_at > {{ watermark('checked_at') }}
    union
    select event_hour from staged where staged_at > {{ watermark('checked_at') }}
    union
    select folder_hour from staged where staged_at > {{ watermark('checked_at') }}
    union
    select folder_hour from objects where staged_at > {{ watermark('checked_at') }}
    {% else %}
    union
    select event_hour from facts
    union
    select folder_hour from objects
    {% endif %}

),

readings as (

    select
        event_hour,
        count(*) as readings,
        sum(case when is_valid then 0 else 1 end) as invalid_readings,
        sum(case when is_orphan_user or is_orphan_activity then 1 else 0 end) as orphan_readings,
        median(case when is_valid then {{ dbt.datediff('event_at', 'first_arrived_at', 'second') }} / 60.0 end)
            as freshness_lag_minutes,
        {{ rows_fingerprint(['event_id', 'content_hash', 'user_key', 'activity_key', 'age_band', 'is_valid',
                             'is_conflicting', 'is_orphan_user', 'is_orphan_activity']) }} as readings_fingerprint
    from facts
    where event_hour in (select event_hour from hours_to_check)
    group by event_hour

),

invalid_objects as (

    select event_hour, {{ dbt.listagg("source_file || ' (' || cast(invalid as " ~ dbt.type_string() ~ ") || ')'",
                                      "', '", "order by invalid desc, source_file", 3) }} as invalid_objects
    from (
        select event_hour, source_file, count(*) as invalid from facts
        where not is_valid and event_hour in (select event_hour from hours_to_check)
        group by event_hour, source_file
    ) as by_object
    group by event_hour

),

conflicting_versions as (

    select event_id, event_hour, source_file from staged
    where versions > 1
        and event_id in (select event_id from staged where versions > 1
                         and event_hour in (select event_hour from hours_to_check))

),

conflicts as (

    select
        hours.event_hour,
        count(*) as conflicting_events,
        {{ dbt.listagg("hours.event_id || ': ' || sources.source_files", "'; '", "order by hours.event_id", 3) }}
            as conflict_examples
    from (select distinct event_id, event_hour from conflicting_versions
          where event_hour in (select event_hour from hours_to_check)) as hours
    inner join (
        select event_id, {{ dbt.listagg('source_file', "' vs '", 'order by source_file') }} as source_files
        from conflicting_versions group by event_id
    ) as sources on hours.event_id = sources.event_id
    group by hours.event_hour

),

misplaced as (

    select
        folder_hour as event_hour,
        count(*) as misplaced_readings,
        {{ dbt.listagg('source_file', "', '", 'order by source_file', 3) }} as misplaced_objects
    from (select distinct folder_hour, event_id, source_file from staged
          where is_misplaced and folder_hour in (select event_hour from hours_to_check)) as misplaced_rows
    group by folder_hour

),

incomplete as (

    select
        folder_hour as event_hour,
        count(*) as incomplete_objects,
        {{ dbt.listagg("object_key || ' (' || cast(rows_loaded as " ~ dbt.type_string() ~ ") || ' of ' || "
                       "cast(manifest_records as " ~ dbt.type_string() ~ ") || ' records)'",
                       "', '", 'order by object_key', 3) }} as incomplete_objects_list
    from objects
    where is_complete = false and folder_hour in (select event_hour from hours_to_check)
    group by folder_hour

),

dead_letter_counts as (

    select
        folder_hour as event_hour,
        count(*) as dead_letters,
        {{ dbt.listagg("kafka_topic || '+' || cast(kafka_partition as " ~ dbt.type_string() ~ ") || '+' || "
                       "cast(kafka_offset as " ~ dbt.type_string() ~ ") || ': ' || error",
                       "'; '", 'order by kafka_partition, kafka_offset', 3) }} as dead_letter_examples
    from dead_letters
    where folder_hour in (select event_hour from hours_to_check)
    group by folder_hour

),

reject_counts as (

    select
        folder_hour as event_hour,
        count(*) as rejected_lines,
        {{ dbt.listagg("source_file || coalesce(' line ' || cast(line_number as " ~ dbt.type_string() ~ "), '') || ': ' || error",
                       "'; '", 'order by source_file, line_number', 3) }} as rejected_examples
    from rejects
    where folder_hour in (select event_hour from hours_to_check)
    group by folder_hour

),

history as (

    {#- readings per hour: this run's counts, and the stored ones for hours not checked again #}
    select event_hour, readings from readings
    {% if is_incremental() %}
    union all
    select event_hour, readings from {{ this }}
    where event_hour not in (select event_hour from hours_to_check)
    {% endif %}

),

trailing_volume as (

    select
        hours_to_check.event_hour,
        avg(history.readings) as trailing_mean_readings
    from hours_to_check
    inner join history
        on history.event_hour >= {{ dbt.dateadd('hour', -24, 'hours_to_check.event_hour') }}
        and history.event_hour < hours_to_check.event_hour
        and history.readings > 0
    group by hours_to_check.event_hour

),

measured as (

    select
        hours_to_check.event_hour,
        coalesce(readings.readings, 0) as readings,
        trailing_volume.trailing_mean_readings,
        coalesce(readings.invalid_readings, 0) as invalid_readings,
        coalesce(readings.invalid_readings * 1.0 / nullif(readings.readings, 0), 0) as invalid_rate,
        coalesce(readings.orphan_readings * 1.0
                 / nullif(readings.readings - readings.invalid_readings, 0), 0) as orphan_rate,
        coalesce(conflicts.conflicting_events, 0) as conflicting_events,
        coalesce(dead_letter_counts.dead_letters, 0) as dead_letters,
        coalesce(misplaced.misplaced_readings, 0) as misplaced_readings,
        coalesce(incomplete.incomplete_objects, 0) as incomplete_objects,
        coalesce(reject_counts.rejected_lines, 0) as rejected_lines,
        readings.freshness_lag_minutes,
        invalid_objects.invalid_objects,
        conflicts.conflict_examples,
        misplaced.misplaced_objects,
        incomplete.incomplete_objects_list,
        dead_letter_counts.dead_letter_examples,
        reject_counts.rejected_examples,
        coalesce(readings.readings_fingerprint, 'no readings') as readings_fingerprint
    from hours_to_check
    left join readings on hours_to_check.event_hour = readings.event_hour
    left join trailing_volume on hours_to_check.event_hour = trailing_volume.event_hour
    left join invalid_objects on hours_to_check.event_hour = invalid_objects.event_hour
    left join conflicts on hours_to_check.event_hour = conflicts.event_hour
    left join misplaced on hours_to_check.event_hour = misplaced.event_hour
    left join incomplete on hours_to_check.event_hour = incomplete.event_hour
    left join dead_letter_counts on hours_to_check.event_hour = dead_letter_counts.event_hour
    left join reject_counts on hours_to_check.event_hour = reject_counts.event_hour

),

checked as (

    select
        *,
        readings * 1.0 / nullif(trailing_mean_readings, 0) as volume_ratio,
        {{ var('dq_min_volume_ratio') }} as min_volume_ratio,
        {{ var('dq_max_invalid_rate') }} as max_invalid_rate,
        {{ var('dq_max_orphan_rate') }} as max_orphan_rate,
        {{ var('dq_max_conflicting_events') }} as max_conflicting_events,
        {{ var('dq_max_dead_letters') }} as max_dead_letters,
        {{ var('dq_max_misplaced_readings') }} as max_misplaced_readings,
        {{ var('dq_max_incomplete_objects') }} as max_incomplete_objects,
        {{ var('dq_max_rejected_lines') }} as max_rejected_lines,
        {{ var('dq_max_freshness_lag_minutes') }} as max_freshness_lag_minutes,
        readings > 0 and coalesce(
            readings * 1.0 / nullif(trailing_mean_readings, 0) >= {{ var('dq_min_volume_ratio') }}, true
        ) as volume_ok,
        invalid_rate <= {{ var('dq_max_invalid_rate') }} as invalid_ok,
        orphan_rate <= {{ var('dq_max_orphan_rate') }} as orphans_ok,
        conflicting_events <= {{ var('dq_max_conflicting_events') }} as conflicts_ok,
        dead_letters <= {{ var('dq_max_dead_letters') }} as dead_letters_ok,
        misplaced_readings <= {{ var('dq_max_misplaced_readings') }} as misplaced_ok,
        incomplete_objects <= {{ var('dq_max_incomplete_objects') }} as completeness_ok,
        rejected_lines <= {{ var('dq_max_rejected_lines') }} as rejects_ok,
        coalesce(freshness_lag_minutes <= {{ var('dq_max_freshness_lag_minutes') }}, true) as freshness_ok
    from measured

)

select
    event_hour,
    readings,
    trailing_mean_readings,
    volume_ratio,
    invalid_readings,
    invalid_rate,
    orphan_rate,
    conflicting_events,
    dead_letters,
    misplaced_readings,
    incomplete_objects,
    rejected_lines,
    freshness_lag_minutes,
    min_volume_ratio,
    max_invalid_rate,
    max_orphan_rate,
    max_conflicting_events,
    max_dead_letters,
    max_misplaced_readings,
    max_incomplete_objects,
    max_rejected_lines,
    max_freshness_lag_minutes,
    volume_ok,
    invalid_ok,
    orphans_ok,
    conflicts_ok,
    dead_letters_ok,
    misplaced_ok,
    completeness_ok,
    rejects_ok,
    freshness_ok,
    volume_ok and invalid_ok and orphans_ok and conflicts_ok and dead_letters_ok and misplaced_ok
        and completeness_ok and rejects_ok and freshness_ok as passed,
    trim({{ dbt.concat([
        "case when volume_ok then '' else 'volume ' end",
        "case when invalid_ok then '' else 'invalid ' end",
        "case when orphans_ok then '' else 'orphans ' end",
        "case when conflicts_ok then '' else 'conflicts ' end",
        "case when dead_letters_ok then '' else 'dead_letters ' end",
        "case when misplaced_ok then '' else 'misplaced ' end",
        "case when completeness_ok then '' else 'incomplete ' end",
        "case when rejects_ok then '' else 'rejects ' end",
        "case when freshness_ok then '' else 'freshness ' end"
    ]) }}) as failing_checks,
    invalid_objects,
    conflict_examples,
    misplaced_objects,
    incomplete_objects_list,
    dead_letter_examples,
    rejected_examples,
    {{ dbt.concat([
        'readings_fingerprint', "'|dl'", "cast(dead_letters as " ~ dbt.type_string() ~ ")",
        "'|m'", "cast(misplaced_readings as " ~ dbt.type_string() ~ ")",
        "'|i'", "cast(incomplete_objects as " ~ dbt.type_string() ~ ")",
        "'|r'", "cast(rejected_lines as " ~ dbt.type_string() ~ ")"
    ]) }} as fingerprint,
    {{ built_now() }} as checked_at
from checked
