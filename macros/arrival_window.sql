{#- Rows of the arrival days this run processes. Dagster passes the half-open partition window
    [min_date, max_date) as vars. A first (full) build takes all history before max_date; an
    incremental build only the window. -#}
{% macro arrival_window(column) -%}
    {{ column }} < cast('{{ var("max_date") }}' as date)
    {%- if is_incremental() %}
    and {{ column }} >= cast('{{ var("min_date") }}' as date)
    {%- endif %}
{%- endmacro %}
