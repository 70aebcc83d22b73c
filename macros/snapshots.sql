{#- The snapshot days a run writes: the window's days [min_date, max_date) on an incremental
    run, every day before max_date on a full build; cut to the days data has arrived for by the
    caller. One column, snapshot_date. -#}
{% macro snapshot_days() -%}
    {%- set first = "cast('" ~ var('min_date') ~ "' as date)" if is_incremental() else "cast('2000-01-01' as date)" -%}
    {%- set last = "cast('" ~ var('max_date') ~ "' as date)" -%}
    select cast(date_day as date) as snapshot_date
    from ({{ dbt.date_spine('day', first, last) }}) as days
{%- endmacro %}
