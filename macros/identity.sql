{#- A BIGINT surrogate key for a string, the same on every engine (first 60 bits of md5), so
    identifier keys survive a move from DuckDB to Spark or Trino. -#}
{% macro identifier_key(text_expr) -%}
    {{ return(adapter.dispatch('identifier_key')(text_expr)) }}
{%- endmacro %}

{% macro default__identifier_key(text_expr) -%}
    from_base(substr(to_hex(md5(to_utf8({{ text_expr }}))), 1, 15), 16)
{%- endmacro %}

{% macro duckdb__identifier_key(text_expr) -%}
    cast(('0x' || substr(md5({{ text_expr }}), 1, 15)) as bigint)
{%- endmacro %}

{% macro spark__identifier_key(text_expr) -%}
    cast(conv(substr(md5({{ text_expr }}), 1, 15), 16, 10) as bigint)
{%- endmacro %}


{#- One row per (record, identifier) of a staging model: the identifiers observed together in
    one record. `columns` maps identifier_type → column; `wechat_app` scopes openids to the app
    that issued them (equal openid strings from two apps are different identifiers). -#}
{% macro identifier_observations(relation, source_name, record_key, time_column, columns, wechat_app=none) -%}
    {%- for identifier_type, column in columns.items() %}
    select
        '{{ source_name }}' as record_source,
        {{ record_key }} as record_id,
        '{{ identifier_type }}' as identifier_type,
        {% if identifier_type == 'wechat_openid' and wechat_app -%}
        '{{ wechat_app }}'
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as wechat_app,
        {{ column }} as identifier_value,
        {{ time_column }} as observed_at
    from {{ relation }}
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
