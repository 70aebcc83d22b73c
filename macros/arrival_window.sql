{#- Rows of the arrival days this run processes. Dagster passes the half-open partition window
    [min_date, max_date) as vars. A first (full) build takes all history before max_date; an
    incremental build only the window. -#}
{% macro arrival_window(column) -%}
    {{ column }} < cast('{{ var("max_date") }}' as date)
    {%- if is_incremental() %}
    and {{ column }} >= cast('{{ var("min_date") }}' as date)
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of incremental staging models: forget what the window's arrival days produced
    before, so a re-run reflects the landing zone as it is now (a file removed or changed
    upstream leaves no stale rows behind). Nothing to do on a full build. -#}
{% macro delete_arrival_window(column='arrived_on') -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ column }} >= cast('{{ var("min_date") }}' as date)
      and {{ column }} < cast('{{ var("max_date") }}' as date)
    {%- endif -%}
{%- endmacro %}
