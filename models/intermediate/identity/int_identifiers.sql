{{ config(materialized='table') }}

-- One row per identifier, with how many distinct other identifiers it was seen with and whether
-- it is junk: on the blocklist seed, or linked to more others than its type's cap allows.
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
    select distinct record_source, record_id, identifier_key from observations
),

linked as (
    select a.identifier_key, count(distinct b.identifier_key) as linked_count
    from record_keys a
    join record_keys b
        on a.record_source = b.record_source and a.record_id = b.record_id
       and a.identifier_key <> b.identifier_key
    group by a.identifier_key
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
    c.max_linked,
    case
        when b.blocked_reason is not null then 'blocklist: ' || b.blocked_reason
        when coalesce(l.linked_count, 0) > c.max_linked
            then 'shared: linked to ' || cast(l.linked_count as varchar) || ' identifiers (cap ' || cast(c.max_linked as varchar) || ')'
    end as junk_reason
from identifiers i
left join linked l on l.identifier_key = i.identifier_key
left join blocked b on b.identifier_key = i.identifier_key
left join {{ ref('identity_link_caps') }} c on c.identifier_type = i.identifier_type
