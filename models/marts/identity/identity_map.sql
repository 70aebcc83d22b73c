-- One row per usable identifier with the person it belongs to. person_id is stable across runs
-- (the identity stage's person registry): it survives new identifiers joining the person, and
-- when two persons merge the oldest id survives (see person_merges).
with identifiers as (
    select * from {{ ref('int_identifiers') }} where junk_reason is null
),

person_ids as (
    select * from {{ ref('stg_identity__person_ids') }}
)

select
    i.identifier_type,
    i.wechat_app,
    i.identifier_value,
    p.person_id,
    i.first_seen_at,
    i.last_seen_at,
    p.assigned_on,
    i.identifier_key
from identifiers i
join person_ids p on p.identifier_key = i.identifier_key
