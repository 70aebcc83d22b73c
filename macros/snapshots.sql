{#- The snapshot days a run writes: the window's days [start, end) on an incremental
    run, every day before its end on a full build; cut to the days data has arrived for by the
    caller. One column, snapshot_date. -#}
{% macro snapshot_days() -%}
    {%- set first = run_window_start() if is_incremental() else "cast('2000-01-01' as date)" -%}
    {%- set last = run_window_end() -%}
    select cast(date_day as date) as snapshot_date
    from ({{ dbt.date_spine('day', first, last) }}) as days
{%- endmacro %}
