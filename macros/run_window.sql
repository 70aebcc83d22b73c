{#- Rows of the days this run processes (arrival days in staging, snapshot days in the daily
    marts). Dagster passes the half-open partition window [min_date, max_date) as vars. A first
    (full) build takes all history before max_date; an incremental build only the window. -#}
{% macro run_window(column) -%}
    {{ column }} < cast('{{ var("max_date") }}' as date)
    {%- if is_incremental() %}
    and {{ column }} >= cast('{{ var("min_date") }}' as date)
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of incremental models: forget what the window's days produced before, so a re-run
    reflects its inputs as they are now (a file removed upstream, a person merged since, leave no
    stale rows behind). Nothing to do on a full build. -#}
{% macro delete_run_window(column='arrived_on') -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ column }} >= cast('{{ var("min_date") }}' as date)
      and {{ column }} < cast('{{ var("max_date") }}' as date)
    {%- endif -%}
{%- endmacro %}
