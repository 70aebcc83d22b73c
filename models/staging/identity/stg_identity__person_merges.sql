-- Merges of two existing persons into one, as recorded by the identity stage.
with source as (
    select * from {{ source('identity', 'person_merges') }}
)

select
    merged_on,
    from_person_id,
    into_person_id
from source
