{#- Generic tests written here because the dbt hub (dbt_utils, dbt_expectations) is unreachable offline. -#}

{#- Every non-null value lies in [min_value, max_value]. -#}
{% test value_in_range(model, column_name, min_value, max_value) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}

{#- Every non-null value matches a LIKE pattern. -#}
{% test matches_like(model, column_name, pattern) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} is not null and not ({{ column_name }} like '{{ pattern }}')
{% endtest %}

{#- The relation has exactly these columns (names, case-insensitive, any order). -#}
{% test has_exactly_columns(model, columns) %}
{%- set relation = adapter.get_relation(model.database, model.schema, model.identifier) -%}
{%- set actual = (adapter.get_columns_in_relation(relation) if relation else []) | map(attribute='name')
                 | map('lower') | list -%}
{%- set expected = columns | map('lower') | list -%}
{%- set missing = expected | reject('in', actual) | list -%}
{%- set unexpected = actual | reject('in', expected) | list -%}
select '{{ missing | join(",") }}' as missing, '{{ unexpected | join(",") }}' as unexpected
where {{ 'true' if (missing or unexpected) else 'false' }}
{% endtest %}

{#- SCD2 versions of one key never overlap and never have zero length; they follow each other without a gap,
    except after a version a hard delete closed (a re-insert starts later); at most one is current. -#}
{% test scd2_valid(model, key, valid_from='valid_from', valid_to='valid_to', is_current='is_current',
                   is_deleted='is_deleted') %}
with ordered as (
    select
        {{ key }} as scd_key,
        {{ valid_from }} as scd_from,
        {{ valid_to }} as scd_to,
        {{ is_current }} as scd_current,
        {{ is_deleted }} as scd_deleted,
        lead({{ valid_from }}) over (partition by {{ key }} order by {{ valid_from }}) as next_from
    from {{ model }}
)
select scd_key from ordered
where (scd_to is not null and scd_to <= scd_from)
   or (next_from is not null and (scd_to is null or scd_to > next_from))
   or (next_from is not null and scd_to < next_from and not scd_deleted)
   or (scd_current and scd_to is not null)
union all
select scd_key from ordered group by scd_key having sum(case when scd_current then 1 else 0 end) > 1
{% endtest %}

{#- No two rows share these columns' values (the model's grain). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }} from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- A suppressed serving cell shows none of its statistics (and every shown cell has enough users). -#}
{% test suppression_applied(model, statistics, flag='is_suppressed', users='users') %}
select * from {{ model }}
where ({{ flag }} and ({{ users }} is not null{% for column in statistics %} or {{ column }} is not null{% endfor %}))
   or (not {{ flag }} and {{ users }} < {{ var('serving_min_users') }})
{% endtest %}
