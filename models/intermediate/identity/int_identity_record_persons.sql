{{ config(materialized='table') }}

-- The person behind each record: the person of its usable identifiers (they are linked by the
-- record itself, so all belong to one person). Records carrying only junk identifiers, or none,
-- belong to nobody and stay out of profiles.
select
    o.record_source,
    o.record_id,
    min(m.person_id) as person_id
from {{ ref('int_identity_observations') }} o
join {{ ref('identity_map') }} m on m.identifier_key = o.identifier_key
group by o.record_source, o.record_id
