-- The headline numbers a user-ops lead reads first, per day (what Sensors Data, GrowingIO and
-- Braze dashboards open with): new members, active users, buyers, orders, GMV, average order
-- value and the repurchase rate (the day's buyers who had bought on an earlier day). Orders and
-- GMV by the day the order was placed, net of refunds known now; activity by the day it happened.
with activity as (
    select
        activity_date as kpi_date,
        count(distinct case when registrations > 0 then person_id end) as new_users,
        count(distinct case when key_behaviours > 0 then person_id end) as active_users
    from {{ ref('int_person_activity_daily') }}
    group by activity_date
),

orders as (
    select person_id, order_id, min(order_date) as order_date, sum(net_delta) as net_amount
    from {{ ref('int_order_revenue_deltas') }}
    group by person_id, order_id
),

placed as (
    select
        o.*,
        min(o.order_date) over (partition by o.person_id) as first_order_date
    from orders o
    where o.net_amount > 0
),

sales as (
    select
        order_date as kpi_date,
        count(distinct person_id) as buyers,
        count(distinct case when first_order_date < order_date then person_id end) as repeat_buyers,
        count(*) as orders,
        sum(net_amount) as gmv
    from placed
    group by order_date
)

select
    a.kpi_date,
    cast(coalesce(a.new_users, 0) as bigint) as new_users,
    cast(coalesce(a.active_users, 0) as bigint) as active_users,
    cast(coalesce(s.buyers, 0) as bigint) as buyers,
    cast(coalesce(s.repeat_buyers, 0) as bigint) as repeat_buyers,
    cast(coalesce(s.orders, 0) as bigint) as orders,
    cast(coalesce(s.gmv, 0) as decimal(18, 2)) as gmv,
    cast(case when s.orders > 0 then s.gmv / s.orders end as decimal(18, 2)) as aov,
    round(case when s.buyers > 0 then cast(s.repeat_buyers as {{ dbt.type_numeric() }}) / s.buyers end, 4)
        as repurchase_rate
from activity a
left join sales s on s.kpi_date = a.kpi_date
