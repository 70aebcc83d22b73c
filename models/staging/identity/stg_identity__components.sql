-- The connected components of the identity graph, computed by the Dagster asset
-- identity/components (a loop of portable SQL) from int_identity_edges.
with source as (
    select * from {{ source('identity', 'components') }}
),

renamed as (
    select
        node as identifier_key,
        component as component_key
    from source
)

select * from renamed
