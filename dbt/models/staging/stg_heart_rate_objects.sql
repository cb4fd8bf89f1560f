{#-
    One row per lake data object: the records its manifest says the sink wrote against the rows that reached
    raw. The real Airbyte S3 source drops the rest of a file after a malformed line without failing the sync;
    this is where such a loss shows (and the embedded loader's unreadable lines too).

    - rows_loaded: the most rows any one load of the object gave (a replayed object is loaded again, whole).
    - is_complete: rows_loaded covers the manifest's count; NULL when the object has no manifest (a writer
      other than the project's sink, e.g. Confluent's managed connector).
    - An object with a manifest and no row at all in raw is listed too (rows_loaded 0).

    Incremental by folder (delete+insert on folder_hour): folders with data or manifests loaded since the
    last build, and the run's interval.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='folder_hour',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
folders_to_build as (

    select distinct {{ lake_object_hour('_ab_source_file_url') }} as folder_hour
    from {{ source('raw', 'heart_rate_stream') }}
    where _airbyte_extracted_at > {{ watermark('loaded_at') }}
    union
    select distinct folder_hour from {{ ref('stg_heart_rate_manifests') }}
    where loaded_at > {{ watermark('loaded_at') }}
    union
    select event_hour from ({{ interval_hours_relation() }}) as run_interval

),
{% endif %}

loads as (

    select
        _ab_source_file_url as object_key,
        _ab_source_file_last_modified as object_version,
        count(*) as rows_loaded,
        max(_airbyte_extracted_at) as loaded_at
    from {{ source('raw', 'heart_rate_stream') }}
    {% if is_incremental() %}
    where {{ lake_object_hour('_ab_source_file_url') }} in (select folder_hour from folders_to_build)
    {% endif %}
    group by _ab_source_file_url, _ab_source_file_last_modified

),

objects as (

    select
        object_key,
        max(rows_loaded) as rows_loaded,
        count(*) as loads,
        max(loaded_at) as loaded_at
    from loads
    group by object_key

),

manifests as (

    select * from {{ ref('stg_heart_rate_manifests') }}
    {% if is_incremental() %}
    where folder_hour in (select folder_hour from folders_to_build)
    {% endif %}

),

joined as (

    select
        coalesce(objects.object_key, manifests.object_key) as object_key,
        coalesce(objects.rows_loaded, 0) as rows_loaded,
        coalesce(objects.loads, 0) as loads,
        manifests.records as manifest_records,
        greatest(
            coalesce(objects.loaded_at, manifests.loaded_at), coalesce(manifests.loaded_at, objects.loaded_at)
        ) as loaded_at
    from objects
    full outer join manifests on objects.object_key = manifests.object_key

)

select
    object_key,
    {{ lake_object_hour('object_key') }} as folder_hour,
    rows_loaded,
    loads,
    manifest_records,
    case when manifest_records is not null then rows_loaded >= manifest_records end as is_complete,
    loaded_at,
    {{ built_now() }} as staged_at
from joined
