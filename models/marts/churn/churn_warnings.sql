-- Early warning, as of the profile's day: buyers still active (lifecycle new, active or
-- returning: a key behaviour within silent_days) and valuable (nine-grid value level at least
-- churn_settings.warning_min_value_level) whose p_alive as buyers is below
-- churn_settings.warning_max_p_alive — they still come, but have stopped buying the way they
-- did. Most at risk first (lowest p_alive, then highest value).
with profile as (
    select * from {{ ref('user_profile') }}
),

settings as (
    select * from {{ ref('int_churn_settings') }}
),

levels as (
    select 'low' as value_level, 0 as level_rank
    union all select 'mid', 1
    union all select 'high', 2
)

select
    p.as_of_date,
    p.person_id,
    p.lifecycle_stage,
    g.value_level,
    g.cell,
    p.rfm_segment,
    p.net_revenue_365d,
    p.orders_total,
    p.last_order_at,
    p.last_active_at,
    p.p_alive,
    p.p_active,
    row_number() over (order by p.p_alive, p.net_revenue_365d desc, p.person_id) as risk_rank
from profile p
cross join settings s
join {{ ref('nine_grid_daily') }} g on g.person_id = p.person_id and g.snapshot_date = p.as_of_date
join levels v on v.value_level = g.value_level
join levels m on m.value_level = s.warning_min_value_level
where p.lifecycle_stage in ('new', 'active', 'returning')
  and v.level_rank >= m.level_rank
  and p.p_alive < s.warning_max_p_alive
