{#- The window's raw rows, one per key: the first arrival of each (earliest dt, then file and
    row). On an incremental run a key already stored from an earlier day is left as it is, so a
    duplicate delivered later never rewrites what was loaded before. -#}
{% macro first_arrivals(relation, key) -%}
    select * from (
        select
            *,
            row_number() over (partition by {{ key }} order by _dt, _source_file, _row_number) as arrival_rank
        from {{ relation }}
        where {{ run_window('_dt') }}
    ) as ranked
    where arrival_rank = 1
    {%- if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as stored
          where stored.{{ key }} = ranked.{{ key }}
            and stored.arrived_on < {{ run_window_start() }}
      )
    {%- endif %}
{%- endmacro %}
