{#- Use the configured schema as is ("staging", "marts"), not dbt's default "<target>_<custom>",
    so table names match the output contract on every engine. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
