-- Each usable identifier's current person (the open period of the person registry).
with source as (
    select * from {{ source('identity', 'person_registry') }}
),

current_ids as (
    select
        identifier_key,
        person_id,
        valid_from as assigned_on
    from source
    where valid_to is null
)

select * from current_ids
