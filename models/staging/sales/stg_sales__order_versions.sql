{{ config(unique_key='order_version_id') }}

-- One row per version of an order (order_id, updated_at), at its first arrival: what was known
-- about an order on any past day (a refund that arrived later is not yet in an earlier snapshot).
-- CDC replays of a version already loaded are dropped.
with delivered as (
    select
        *,
        order_id || '@' || cast(updated_at as varchar) as order_version_id
    from {{ source('raw', 'sales') }}
),

source as (
    {{ first_arrivals('delivered', 'order_version_id') }}
)

select
    order_version_id,
    order_id,
    order_time,
    cast(order_time as date) as order_date,
    updated_at,
    status,
    amount,
    coalesce(refund_amount, 0) as refund_amount,
    -- Net revenue as of this version (output contract): amount − refunds; cancelled = 0.
    case when status = 'cancelled' then 0 else amount - coalesce(refund_amount, 0) end as net_amount,
    channel,
    category,
    _dt as arrived_on
from source
