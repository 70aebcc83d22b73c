{#- Small SQL helpers any model may use, spelled per engine where engines differ (adapter.dispatch):
    the project's one place for engine-specific SQL besides run_window and the models' own configs. -#}

{#- Regular-expression match, spelled per engine. -#}
{% macro matches_pattern(expr, pattern_expr) -%}
    {{ return(adapter.dispatch('matches_pattern')(expr, pattern_expr)) }}
{%- endmacro %}

{% macro default__matches_pattern(expr, pattern_expr) -%}
    regexp_like({{ expr }}, {{ pattern_expr }})
{%- endmacro %}

{% macro duckdb__matches_pattern(expr, pattern_expr) -%}
    regexp_matches({{ expr }}, {{ pattern_expr }})
{%- endmacro %}

{% macro spark__matches_pattern(expr, pattern_expr) -%}
    {{ expr }} rlike {{ pattern_expr }}
{%- endmacro %}

{#- A value from a seed written into SQL as a string literal, quotes escaped per engine (Spark
    also reads backslashes as escapes, which regular expressions are full of). -#}
{% macro sql_string_literal(value) -%}
    {{ return(adapter.dispatch('sql_string_literal')(value)) }}
{%- endmacro %}

{% macro default__sql_string_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string_literal(value) -%}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- True when `value` is one of the pipe-separated entries of `list_column` (e.g. 'short|mid'),
    or when the list is empty (no condition). The recall rules seed lists values this way. -#}
{% macro in_pipe_list(list_column, value) -%}
    ({{ list_column }} is null or {{ list_column }} = ''
     or {{ dbt.position(dbt.concat(["'|'", value, "'|'"]), dbt.concat(["'|'", list_column, "'|'"])) }} > 0)
{%- endmacro %}

{#- Day of the week of a date, Monday 1 … Sunday 7 (engines spell it differently). -#}
{% macro iso_weekday(date_expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'userops')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expression) -%}
    extract(isodow from {{ date_expression }})
{%- endmacro %}

{% macro spark__iso_weekday(date_expression) -%}
    extract(dayofweek_iso from {{ date_expression }})
{%- endmacro %}

{% macro trino__iso_weekday(date_expression) -%}
    day_of_week({{ date_expression }})
{%- endmacro %}
