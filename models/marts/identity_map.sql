-- One row per usable identifier with the person it belongs to. person_id is derived from the
-- component's smallest identifier key: deterministic for the same data, but it changes when a
-- smaller key joins the person (stable ids across runs and recorded merges come next).
with identifiers as (
    select * from {{ ref('int_identifiers') }} where junk_reason is null
),

components as (
    select * from {{ ref('stg_identity__components') }}
)

select
    i.identifier_type,
    i.wechat_app,
    i.identifier_value,
    'p' || cast(c.component_key as varchar) as person_id,
    i.first_seen_at,
    i.last_seen_at,
    i.identifier_key
from identifiers i
join components c on c.identifier_key = i.identifier_key
