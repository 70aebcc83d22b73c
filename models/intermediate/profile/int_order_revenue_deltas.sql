{{ config(materialized='table') }}

-- Each order version's change to its order's net revenue, on the day the version arrived: the
-- sum of an order's deltas that arrived by day D is its net revenue as known on D (an order
-- refunded later still counts in earlier snapshots, as it did then).
with versions as (
    select
        v.*,
        r.person_id,
        lag(v.net_amount) over (partition by v.order_id order by v.updated_at, v.arrived_on) as previous_net
    from {{ ref('stg_sales__order_versions') }} v
    join {{ ref('int_identity_record_persons') }} r on r.record_source = 'sales' and r.record_id = v.order_id
)

select
    order_version_id,
    person_id,
    order_id,
    order_date,
    order_time,
    arrived_on,
    net_amount - coalesce(previous_net, 0) as net_delta
from versions
