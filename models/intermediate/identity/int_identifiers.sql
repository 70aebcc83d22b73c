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

blocked as (
    select i.identifier_key, min(b.reason) as blocked_reason
    from identifiers i
    join {{ ref('identity_blocklist') }} b
        on (b.identifier_type = i.identifier_type or b.identifier_type = '*')
       and (
            (b.match_type = 'exact' and i.identifier_value = b.pattern)
            or (b.match_type = 'regex' and {{ matches_pattern('i.identifier_value', 'b.pattern') }})
       )
    group by i.identifier_key
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
