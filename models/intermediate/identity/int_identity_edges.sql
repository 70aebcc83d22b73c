{{ config(materialized='table') }}

-- The identity graph's edges between identifier keys: within each record, every identifier is
-- linked to the record's smallest key (a star per record, enough for connectivity). Junk
-- identifiers link nothing. Every usable identifier also gets an edge to itself, so one seen
-- alone is still a person.
with usable as (
    select identifier_key from {{ ref('int_identifiers') }} where junk_reason is null
),

record_keys as (
    select distinct o.record_source, o.record_id, o.identifier_key
    from {{ ref('int_identity_observations') }} o
    join usable u on u.identifier_key = o.identifier_key
),

record_roots as (
    select record_source, record_id, min(identifier_key) as root_key
    from record_keys
    group by record_source, record_id
)

select distinct src, dst from (
    select r.root_key as src, k.identifier_key as dst
    from record_keys k
    join record_roots r on r.record_source = k.record_source and r.record_id = k.record_id
    where k.identifier_key <> r.root_key
    union all
    select identifier_key as src, identifier_key as dst from usable
) as edges
