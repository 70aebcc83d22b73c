{{ config(materialized='incremental', incremental_strategy='append', event_time='as_of_date',
          pre_hook="{{ delete_run_window('as_of_date') }}") }}

-- Existing users (registered by the day) who have gone quiet: days since their last key
-- behaviour (or since registering, if none) in the lapse_stages seed's bands (short 7–29, mid
-- 30–89, long 90+ by default), classified by core behaviour (bought at least once, as known on
-- the day) and by the content category they consumed most up to their last key behaviour.
with snapshots as (
    select * from {{ ref('user_profile_daily') }}
    where registered_on is not null and {{ run_window('snapshot_date') }}
),

lapsed as (
    select
        s.snapshot_date as as_of_date,
        s.person_id,
        coalesce(s.last_key_behaviour_on, s.registered_on) as quiet_since,
        {{ dbt.datediff('coalesce(s.last_key_behaviour_on, s.registered_on)', 's.snapshot_date', 'day') }}
            as days_since_key_behaviour,
        l.lapse_stage
    from snapshots s
    join {{ ref('lapse_stages') }} l
        on {{ dbt.datediff('coalesce(s.last_key_behaviour_on, s.registered_on)', 's.snapshot_date', 'day') }}
           >= l.min_days
       and ({{ dbt.datediff('coalesce(s.last_key_behaviour_on, s.registered_on)', 's.snapshot_date', 'day') }}
           <= l.max_days or l.max_days is null)
),

-- Bought at least once, as known on the day: an order with positive net revenue by then.
purchases as (
    select as_of_date, person_id, max(case when net_amount > 0 then 1 else 0 end) as has_purchased
    from (
        select a.as_of_date, a.person_id, d.order_id, sum(d.net_delta) as net_amount
        from lapsed a
        join {{ ref('int_order_revenue_deltas') }} d
            on d.person_id = a.person_id and d.arrived_on <= a.as_of_date
        group by a.as_of_date, a.person_id, d.order_id
    ) as orders_known
    group by as_of_date, person_id
),

-- The content category consumed most (by weight) up to the last key behaviour.
categories as (
    select a.as_of_date, a.person_id, i.category,
           row_number() over (partition by a.as_of_date, a.person_id
                              order by sum(i.weight) desc, count(*) desc, i.category) as pick
    from lapsed a
    join {{ ref('user_interactions') }} i
        on i.person_id = a.person_id
       and i.arrived_on <= a.as_of_date
       and i.occurred_on <= a.quiet_since
       and i.source in ('online', 'social')
       and i.category is not null
    group by a.as_of_date, a.person_id, i.category
)

select
    a.as_of_date,
    a.person_id,
    a.lapse_stage,
    a.days_since_key_behaviour,
    coalesce(p.has_purchased, 0) = 1 as has_purchased,
    c.category as top_category_before_lapse
from lapsed a
left join purchases p on p.as_of_date = a.as_of_date and p.person_id = a.person_id
left join categories c on c.as_of_date = a.as_of_date and c.person_id = a.person_id and c.pick = 1
