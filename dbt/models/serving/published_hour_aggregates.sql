{#-
    Per-hour partial aggregates of published hours only: what every serving mart rolls up. One row per event
    hour, user version, activity version, age band, hemisphere and local solar hour, with counts, sums and
    sums of squares (and, for variability, successive-difference sums), so a mart is a cheap roll-up whose
    cost does not grow with the readings behind it.

    An hour enters (or is replaced) only when the gate's ledger holds a publication of it newer than the one
    built here, and only while the hour's current data-quality fingerprint is the one the gate published: a
    held, never-run or changed-but-unjudged hour never reaches a mart. A re-run or backfill that publishes an
    hour again replaces exactly that hour's rows. `full_refresh: false`: past publications are the record of
    what was published, not something a full refresh could recompute.

    Variability is reading-to-reading RMSSD in bpm: the root mean square of differences between successive
    readings of one user in one activity (gaps up to 60 s) within the hour, on the plateau (from 3 minutes
    after such a run of readings starts in the hour to 2 minutes before it ends). It is not physiological HRV,
    which is measured on RR intervals.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_hour',
    full_refresh=false,
    on_schema_change='fail',
) }}

with

ledger as (

    {{ latest_publications() }}

),

checks as (

    select event_hour, fingerprint from {{ ref('dq_hourly') }}

),

{% if is_incremental() %}
built as (

    select event_hour, max(published_at) as published_at from {{ this }} group by event_hour

),
{% endif %}

to_build as (

    select ledger.event_hour, ledger.fingerprint, ledger.run_id, ledger.published_at
    from ledger
    inner join checks on ledger.event_hour = checks.event_hour and ledger.fingerprint = checks.fingerprint
    {% if is_incremental() %}
    left join built on ledger.event_hour = built.event_hour
    where built.published_at is null or ledger.published_at > built.published_at
    {% endif %}

),

readings as (

    select facts.*
    from {{ ref('fct_heart_rates') }} as facts
    where facts.event_hour in (select event_hour from to_build)
        and facts.is_valid and not facts.is_orphan_user and not facts.is_orphan_activity
        and not facts.is_conflicting

),

runs as (

    select
        *,
        case
            when {{ dbt.datediff('lag(event_at) over (partition by event_hour, user_id, activity_id order by event_at)',
                                 'event_at', 'second') }} <= 60 then 0
            else 1
        end as starts_run
    from readings

),

numbered as (

    select
        *,
        sum(starts_run) over (
            partition by event_hour, user_id, activity_id order by event_at rows between unbounded preceding and current row
        ) as run_number
    from runs

),

paired as (

    select
        *,
        heart_rate - lag(heart_rate) over (partition by event_hour, user_id, activity_id, run_number order by event_at)
            as successive_difference,
        min(event_at) over (partition by event_hour, user_id, activity_id, run_number) as run_started_at,
        max(event_at) over (partition by event_hour, user_id, activity_id, run_number) as run_ended_at
    from numbered

),

plateau as (

    select
        *,
        successive_difference is not null
        and {{ dbt.datediff('run_started_at', 'event_at', 'second') }} >= 180
        and {{ dbt.datediff('event_at', 'run_ended_at', 'second') }} >= 120 as is_plateau_pair
    from paired

)

select
    plateau.event_hour,
    cast(plateau.event_hour as date) as event_date,
    plateau.user_key,
    plateau.activity_key,
    plateau.age_band,
    plateau.hemisphere,
    {{ season('extract(month from plateau.event_hour)', 'plateau.hemisphere') }} as season,
    plateau.local_solar_hour,
    count(*) as readings,
    sum(plateau.heart_rate) as sum_heart_rate,
    sum(plateau.heart_rate * plateau.heart_rate) as sum_heart_rate_squared,
    sum(case when plateau.is_plateau_pair then 1 else 0 end) as plateau_pairs,
    sum(case when plateau.is_plateau_pair then plateau.successive_difference * plateau.successive_difference else 0 end)
        as sum_squared_differences,
    to_build.fingerprint,
    to_build.run_id,
    to_build.published_at
from plateau
inner join to_build on plateau.event_hour = to_build.event_hour
group by
    plateau.event_hour, plateau.user_key, plateau.activity_key, plateau.age_band, plateau.hemisphere,
    plateau.local_solar_hour, to_build.fingerprint, to_build.run_id, to_build.published_at
