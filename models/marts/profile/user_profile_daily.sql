{{ config(materialized='incremental', incremental_strategy='append', event_time='snapshot_date',
          pre_hook="{{ delete_run_window('snapshot_date') }}") }}

-- One row per person per snapshot day D: how the person stood on D, from data that had arrived
-- by D (arrival day <= D, activity on or before D). A run writes only its own days; a re-run of
-- D rewrites D from the same data, so the history never shifts.
with settings as (
    select * from {{ ref('int_profile_settings') }}
),

activity as (
    select * from {{ ref('int_person_activity_daily') }}
),

bounds as (
    select max(arrived_on) as last_arrival from activity
),

days as (
    select d.snapshot_date
    from ({{ snapshot_days('(select min(arrived_on) from ' ~ ref('int_person_activity_daily') ~ ')') }}) as d
    cross join bounds b
    where d.snapshot_date <= b.last_arrival
),

known as (
    select person_id, min(case when arrived_on > activity_date then arrived_on else activity_date end) as known_from
    from activity
    group by person_id
),

persons_on_day as (
    select d.snapshot_date, k.person_id
    from days d
    join known k on k.known_from <= d.snapshot_date
),

registrations as (
    select person_id, min(activity_date) as registered_on,
           min(case when arrived_on > activity_date then arrived_on else activity_date end) as registration_known_on
    from activity
    where registrations > 0
    group by person_id
),

-- Activity visible on D within the look-back window.
visible as (
    select p.snapshot_date, p.person_id, a.activity_date, a.key_behaviours, a.weighted_interactions,
           {{ dbt.datediff('a.activity_date', 'p.snapshot_date', 'day') }} as days_ago
    from persons_on_day p
    cross join settings s
    join activity a
        on a.person_id = p.person_id
       and a.arrived_on <= p.snapshot_date
       and a.activity_date <= p.snapshot_date
       and a.activity_date > cast({{ dbt.dateadd('day', '-s.history_days', 'p.snapshot_date') }} as date)
),

behaviour as (
    select
        v.snapshot_date,
        v.person_id,
        max(case when v.key_behaviours > 0 then v.activity_date end) as last_key_behaviour_on,
        max(case when v.key_behaviours > 0 and v.days_ago > 0 then v.activity_date end) as previous_key_behaviour_on,
        count(distinct case when v.key_behaviours > 0 and v.days_ago < 7 then v.activity_date end) as active_days_7d,
        count(distinct case when v.key_behaviours > 0 and v.days_ago < 30 then v.activity_date end) as active_days_30d,
        count(distinct case when v.key_behaviours > 0 and v.days_ago < 90 then v.activity_date end) as active_days_90d,
        sum(v.weighted_interactions * power(0.5, v.days_ago * 1.0 / s.interaction_half_life_days)) as interaction_index
    from visible v
    cross join settings s
    group by v.snapshot_date, v.person_id
),

-- Orders as known on D: net revenue is the sum of the deltas of versions that had arrived.
orders_known as (
    select d.snapshot_date, o.person_id, o.order_id, min(o.order_date) as order_date, sum(o.net_delta) as net_amount
    from days d
    cross join settings s
    join {{ ref('int_order_revenue_deltas') }} o
        on o.arrived_on <= d.snapshot_date
       and o.order_date <= d.snapshot_date
       and o.order_date > cast({{ dbt.dateadd('day', '-s.history_days', 'd.snapshot_date') }} as date)
    group by d.snapshot_date, o.person_id, o.order_id
),

-- Buyers of the look-back window: orders with positive net revenue (cancelled or fully refunded
-- orders do not count).
buyers as (
    select
        snapshot_date,
        person_id,
        min({{ dbt.datediff('order_date', 'snapshot_date', 'day') }}) as recency_days,
        count(*) as frequency,
        sum(net_amount) as monetary,
        sum(case when {{ dbt.datediff('order_date', 'snapshot_date', 'day') }} < 180 then 1 else 0 end) as orders_180d
    from orders_known
    where net_amount > 0
    group by snapshot_date, person_id
),

rfm as (
    select
        b.*,
        -- Quintile scores: 5 × the share of buyers at or below this value, rounded up, so equal
        -- values always share a score (no arbitrary split of ties).
        cast(ceil(5 * cume_dist() over (partition by snapshot_date order by recency_days desc)) as integer)
            as rfm_recency_score,
        cast(ceil(5 * cume_dist() over (partition by snapshot_date order by frequency)) as integer)
            as rfm_frequency_score,
        cast(ceil(5 * cume_dist() over (partition by snapshot_date order by monetary)) as integer)
            as rfm_monetary_score,
        case when recency_days <= avg(recency_days) over (partition by snapshot_date) then 'high' else 'low' end as r_level,
        case when frequency >= avg(frequency) over (partition by snapshot_date) then 'high' else 'low' end as f_level,
        case when monetary >= avg(monetary) over (partition by snapshot_date) then 'high' else 'low' end as m_level
    from buyers b
),

stood as (
    select
        p.snapshot_date,
        p.person_id,
        case when r.registration_known_on <= p.snapshot_date and r.registered_on <= p.snapshot_date
             then r.registered_on end as registered_on,
        b.last_key_behaviour_on,
        b.previous_key_behaviour_on,
        coalesce(b.active_days_7d, 0) as active_days_7d,
        coalesce(b.active_days_30d, 0) as active_days_30d,
        coalesce(b.active_days_90d, 0) as active_days_90d,
        coalesce(b.interaction_index, 0) as interaction_index
    from persons_on_day p
    left join behaviour b on b.snapshot_date = p.snapshot_date and b.person_id = p.person_id
    left join registrations r on r.person_id = p.person_id
)

select
    t.snapshot_date,
    t.person_id,
    -- Lifecycle (windows in profile_settings): the first matching stage wins.
    case
        when t.registered_on is null then 'anonymous'
        when {{ dbt.datediff('t.registered_on', 't.snapshot_date', 'day') }} < s.new_days then 'new'
        when t.last_key_behaviour_on = t.snapshot_date
         and {{ dbt.datediff('coalesce(t.previous_key_behaviour_on, t.registered_on)', 't.snapshot_date', 'day') }}
             >= s.silent_days then 'returning'
        when {{ dbt.datediff('coalesce(t.last_key_behaviour_on, t.registered_on)', 't.snapshot_date', 'day') }}
             >= s.churn_days then 'churned'
        when {{ dbt.datediff('coalesce(t.last_key_behaviour_on, t.registered_on)', 't.snapshot_date', 'day') }}
             >= s.silent_days then 'silent'
        else 'active'
    end as lifecycle_stage,
    t.registered_on,
    t.last_key_behaviour_on,
    t.active_days_7d,
    t.active_days_30d,
    t.active_days_90d,
    coalesce(f.orders_180d, 0) as orders_180d,
    coalesce(f.frequency, 0) as orders_365d,
    cast(coalesce(f.monetary, 0) as decimal(18, 2)) as net_revenue_365d,
    f.rfm_recency_score,
    f.rfm_frequency_score,
    f.rfm_monetary_score,
    g.rfm_segment,
    round(t.interaction_index, 4) as interaction_index,
    -- The nine-grid's axes: net revenue of the look-back and the interaction index against the
    -- fixed thresholds of the nine_grid_thresholds seed ([min_value, max_value), empty = open).
    vl.level as value_level,
    el.level as engagement_level
from stood t
cross join settings s
left join rfm f on f.snapshot_date = t.snapshot_date and f.person_id = t.person_id
left join {{ ref('rfm_segments') }} g
    on g.recency = f.r_level and g.frequency = f.f_level and g.monetary = f.m_level
left join {{ ref('nine_grid_thresholds') }} vl
    on vl.dimension = 'value'
   and (vl.min_value is null or coalesce(f.monetary, 0) >= vl.min_value)
   and (vl.max_value is null or coalesce(f.monetary, 0) < vl.max_value)
left join {{ ref('nine_grid_thresholds') }} el
    on el.dimension = 'engagement'
   and (el.min_value is null or round(t.interaction_index, 4) >= el.min_value)
   and (el.max_value is null or round(t.interaction_index, 4) < el.max_value)
