{#- The run's half-open window [start, end) of arrival days, as SQL dates. Dagster passes it as
    dbt's event-time range (--event-time-start/--event-time-end, which the microbatch models use
    too), not as --vars: vars that change from run to run make dbt re-parse the whole project,
    a command-line flag does not. Without one (a hand-run `dbt build`, the unit tests) the vars
    min_date and max_date apply. -#}
{% macro run_window_start() -%}
    {{- return(_run_window_bound('event_time_start', 'min_date')) -}}
{%- endmacro %}

{% macro run_window_end() -%}
    {{- return(_run_window_bound('event_time_end', 'max_date')) -}}
{%- endmacro %}

{% macro _run_window_bound(flag, fallback) -%}
    {%- set given = invocation_args_dict.get(flag) -%}
    {{- return("cast('" ~ ((given | string)[:10] if given else var(fallback)) ~ "' as date)") -}}
{%- endmacro %}

{#- Rows of the days this run processes (arrival days in staging, snapshot days in the daily
    marts). A first (full) build takes all history before the window's end; an incremental build
    only the window. -#}
{% macro run_window(column) -%}
    {{ column }} < {{ run_window_end() }}
    {%- if is_incremental() %}
    and {{ column }} >= {{ run_window_start() }}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of incremental models: forget what the window's days produced before, so a re-run
    reflects its inputs as they are now (a file removed upstream, a person merged since, leave no
    stale rows behind). Nothing to do on a full build. -#}
{% macro delete_run_window(column='arrived_on') -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ column }} >= {{ run_window_start() }}
      and {{ column }} < {{ run_window_end() }}
    {%- endif -%}
{%- endmacro %}
