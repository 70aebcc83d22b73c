{#- A key/value settings seed (setting,value,meaning) as one typed row. `types` names every
    setting the project reads and its type (int, float or text): the one place a setting set is
    declared. The build fails, naming the seed file and the setting, when the seed holds a setting
    not declared (a misspelt one would otherwise be NULL without a word) or lacks a declared one;
    a setting given twice fails the seed's own `unique` test first. -#}
{% macro settings_row(seed_name, types) -%}
    {%- if execute -%}
        {%- set names = run_query("select setting from " ~ ref(seed_name)).columns[0].values() | list -%}
        {%- set problems = [] -%}
        {%- for name in names | unique | sort if name not in types -%}
            {%- do problems.append("unknown setting '" ~ name ~ "'") -%}
        {%- endfor -%}
        {%- for name in types if name not in names -%}
            {%- do problems.append("missing setting '" ~ name ~ "'") -%}
        {%- endfor -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error("seeds/" ~ seed_name ~ ".csv: " ~ problems | join("; ")
                ~ " (settings it takes: " ~ types.keys() | sort | join(", ") ~ ")") }}
        {%- endif -%}
    {%- endif %}
select
    {%- for name, type in types.items() %}
    max(case when setting = '{{ name }}' then {{ _setting_value(type) }} end) as {{ name }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
from {{ ref(seed_name) }}
{%- endmacro %}

{% macro _setting_value(type) -%}
    {%- if type == 'int' -%} cast(value as {{ dbt.type_int() }})
    {%- elif type == 'float' -%} cast(value as {{ dbt.type_float() }})
    {%- elif type == 'text' -%} value
    {%- else -%} {{ exceptions.raise_compiler_error("settings_row: type '" ~ type ~ "' is not int, float or text") }}
    {%- endif -%}
{%- endmacro %}
