{{ config(materialized='table') }}

-- Each buyer's purchase history in the form the purchase model (MBG/NBD) reads, as of the latest
-- snapshot day, in days: x = repeat purchase days (days with an order of positive net revenue,
-- after the first), t_x = days from the first to the last purchase day, T = days from the first
-- purchase day to the as-of day. Orders count as known by then (cancelled or fully refunded: 0).
with as_of as (
    select max(snapshot_date) as as_of_date from {{ ref('user_profile_daily') }}
),

orders as (
    select d.person_id, d.order_id, min(d.order_date) as order_date
    from {{ ref('int_order_revenue_deltas') }} d
    cross join as_of a
    where d.arrived_on <= a.as_of_date and d.order_date <= a.as_of_date
    group by d.person_id, d.order_id
    having sum(d.net_delta) > 0
),

buyers as (
    select
        person_id,
        min(order_date) as first_purchase_on,
        max(order_date) as last_purchase_on,
        count(distinct order_date) as purchase_days
    from orders
    group by person_id
)

select
    b.person_id,
    a.as_of_date,
    b.first_purchase_on,
    b.last_purchase_on,
    b.purchase_days - 1 as x,
    {{ dbt.datediff('b.first_purchase_on', 'b.last_purchase_on', 'day') }} as t_x,
    {{ dbt.datediff('b.first_purchase_on', 'a.as_of_date', 'day') }} as t_cal
from buyers b
cross join as_of a
