{#- The snapshot days a run writes: the window's days [start, end) on an incremental run; on a
    full build every day from `first_day` (an SQL expression: the first day data arrived, so a
    history from any year has its snapshots) to the window's end. Cut to the days data has
    arrived for by the caller. One column, snapshot_date. -#}
{% macro snapshot_days(first_day) -%}
    {%- set last = run_window_end() -%}
    {%- set first = run_window_start() if is_incremental() else "coalesce(" ~ first_day ~ ", " ~ last ~ ")" -%}
    select cast(date_day as date) as snapshot_date
    from ({{ dbt.date_spine('day', first, last) }}) as days
{%- endmacro %}
