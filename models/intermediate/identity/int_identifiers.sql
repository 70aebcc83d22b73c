{{ config(materialized='table') }}

-- One row per identifier, with how many distinct other identifiers it was seen with and whether
-- it is junk: on the blocklist seed, or seen with more identifiers (of a type, or in total) than
-- a cap in the identity_link_caps seed allows.
with observations as (
    select * from {{ ref('int_identity_observations') }}
),

identifiers as (
    select
        identifier_key,
        min(identifier_type) as identifier_type,
        min(wechat_app) as wechat_app,
        min(identifier_value) as identifier_value,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as observations
    from observations
    group by identifier_key
),

record_keys as (
    select distinct record_source, record_id, identifier_key, identifier_type from observations
),

linked_by_type as (
    select a.identifier_key, b.identifier_type as linked_type, count(distinct b.identifier_key) as linked_count
    from record_keys a
    join record_keys b
        on a.record_source = b.record_source and a.record_id = b.record_id
       and a.identifier_key <> b.identifier_key
    group by a.identifier_key, b.identifier_type
),

linked as (
    select a.identifier_key, count(distinct b.identifier_key) as linked_count
    from record_keys a
    join record_keys b
        on a.record_source = b.record_source and a.record_id = b.record_id
       and a.identifier_key <> b.identifier_key
    group by a.identifier_key
),

-- Every cap row that matches the identifier's type and the linked type ('*' = any / total).
over_cap as (
    select
        i.identifier_key,
        min(
            'shared: linked to ' || cast(l.linked_count as varchar) || ' '
            || case when c.linked_type = '*' then 'identifiers' else l.linked_type || 's' end
            || ' (cap ' || cast(c.max_linked as varchar) || ')'
        ) as reason
    from identifiers i
    join (
        select identifier_key, linked_type, linked_count from linked_by_type
        union all
        select identifier_key, '*' as linked_type, linked_count from linked
    ) as l on l.identifier_key = i.identifier_key
    join {{ ref('identity_link_caps') }} c
        on (c.identifier_type = i.identifier_type or c.identifier_type = '*')
       and c.linked_type = l.linked_type
    where l.linked_count > c.max_linked
    group by i.identifier_key
),

blocked_exact as (
    select i.identifier_key, b.reason
    from identifiers i
    join {{ ref('identity_blocklist') }} b
        on b.match_type = 'exact' and b.pattern = i.identifier_value
       and (b.identifier_type = i.identifier_type or b.identifier_type = '*')
),

-- Regular expressions are read from the seed when the model runs and written in as constants: a
-- pattern taken from a column would be compiled again for every identifier.
{%- set regex_rules = [] %}
{%- if execute %}
    {%- set regex_rules = run_query("select identifier_type, pattern, reason from " ~ ref('identity_blocklist')
                                    ~ " where match_type = 'regex' order by identifier_type, pattern").rows %}
{%- endif %}
blocked_regex as (
    {%- for rule in regex_rules %}
    select identifier_key, {{ sql_string_literal(rule[2]) }} as reason
    from identifiers
    where {% if rule[0] != '*' %}identifier_type = {{ sql_string_literal(rule[0]) }} and {% endif -%}
        {{ matches_pattern('identifier_value', sql_string_literal(rule[1])) }}
    union all
    {%- endfor %}
    select identifier_key, cast(null as varchar) as reason from identifiers where 1 = 0
),

blocked as (
    select identifier_key, min(reason) as blocked_reason
    from (select * from blocked_exact union all select * from blocked_regex) as rules
    group by identifier_key
)

select
    i.identifier_key,
    i.identifier_type,
    i.wechat_app,
    i.identifier_value,
    i.first_seen_at,
    i.last_seen_at,
    i.observations,
    coalesce(l.linked_count, 0) as linked_count,
    coalesce('blocklist: ' || b.blocked_reason, o.reason) as junk_reason
from identifiers i
left join linked l on l.identifier_key = i.identifier_key
left join blocked b on b.identifier_key = i.identifier_key
left join over_cap o on o.identifier_key = i.identifier_key
