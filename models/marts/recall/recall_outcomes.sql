-- Did it work? Per campaign, channel and test group (control persons carry the channel they would
-- have been sent on, so each channel is measured against its own control): persons, how many
-- returned within recall_settings.return_window_days after the campaign day (a key behaviour, or
-- a landing visit carrying the campaign id), their orders and net revenue in that window, the cost
-- of the messages as billed (the contact log's, SMS by segment: this model is built after the
-- outbox), and for the treatment row the lift over control with its 95 % confidence interval
-- (normal approximation of the difference of two proportions), a flag when either group is under
-- recall_settings.min_group_for_lift persons (too small to tell), and the cost per recalled user
-- (cost / the users who returned because of the campaign: (treatment rate − control rate) ×
-- treatment users). Rebuilt each run; a campaign is final once its window has passed.
with settings as (
    select * from {{ ref('int_recall_settings') }}
),

as_of as (
    select max(as_of_date) as as_of_date from {{ ref('user_profile') }}
),

audience as (
    select
        a.*,
        cast({{ dbt.dateadd('day', 's.return_window_days', 'a.campaign_date') }} as date) as window_end
    from {{ ref('recall_audience') }} a
    cross join settings s
),

key_behaviour_returns as (
    select distinct a.campaign_id, a.person_id
    from audience a
    join {{ ref('int_person_activity_daily') }} d
        on d.person_id = a.person_id and d.key_behaviours > 0
       and d.activity_date > a.campaign_date and d.activity_date <= a.window_end
),

landing_visits as (
    select distinct a.campaign_id, a.person_id
    from audience a
    join {{ ref('int_identity_record_persons') }} r on r.record_source = 'online' and r.person_id = a.person_id
    join {{ ref('stg_online__events') }} e
        on e.event_id = r.record_id and e.campaign_id = a.campaign_id
       and cast(e.event_time as date) >= a.campaign_date and cast(e.event_time as date) <= a.window_end
),

returns as (
    select campaign_id, person_id from key_behaviour_returns
    union
    select campaign_id, person_id from landing_visits
),

orders as (
    select a.campaign_id, a.person_id, d.order_id, sum(d.net_delta) as net_amount
    from audience a
    join {{ ref('int_order_revenue_deltas') }} d
        on d.person_id = a.person_id and d.order_date > a.campaign_date and d.order_date <= a.window_end
    group by a.campaign_id, a.person_id, d.order_id
),

per_person as (
    select
        a.campaign_id,
        a.campaign_date,
        a.rule_id,
        a.channel,
        a.test_group,
        a.person_id,
        -- billed as written; no row in the contact log: dropped at the writers' re-check, not sent
        case when a.test_group = 'treatment' then coalesce(l.cost, 0) else 0 end as cost,
        r.person_id is not null as returned,
        coalesce(o.orders, 0) as orders,
        coalesce(o.revenue, 0) as revenue
    from audience a
    left join returns r on r.campaign_id = a.campaign_id and r.person_id = a.person_id
    left join {{ ref('stg_recall__contacts') }} l on l.campaign_id = a.campaign_id and l.person_id = a.person_id
    left join (
        select campaign_id, person_id, sum(case when net_amount > 0 then 1 else 0 end) as orders, sum(net_amount) as revenue
        from orders group by campaign_id, person_id
    ) o on o.campaign_id = a.campaign_id and o.person_id = a.person_id
),

groups as (
    select
        campaign_id,
        campaign_date,
        rule_id,
        channel,
        test_group,
        count(*) as users,
        sum(case when returned then 1 else 0 end) as returned_users,
        sum(orders) as orders,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(sum(cost) as decimal(18, 2)) as cost
    from per_person
    group by campaign_id, campaign_date, rule_id, channel, test_group
),

rates as (
    select g.*, cast(returned_users as {{ dbt.type_numeric() }}) / users as rate from groups g
),

compared as (
    select
        t.*,
        c.users as control_users,
        c.rate as control_rate,
        t.rate - c.rate as lift,
        -- standard error of the difference of two proportions
        sqrt(t.rate * (1 - t.rate) / t.users + c.rate * (1 - c.rate) / c.users) as lift_se
    from rates t
    left join rates c on c.campaign_id = t.campaign_id and c.channel = t.channel and c.test_group = 'control'
)

select
    t.campaign_id,
    t.campaign_date,
    t.rule_id,
    t.channel,
    t.test_group,
    t.users,
    t.returned_users,
    round(t.rate, 4) as return_rate,
    t.orders,
    t.revenue,
    t.cost,
    case when t.test_group = 'treatment' then round(t.lift, 4) end as lift_over_control,
    case when t.test_group = 'treatment' then round(t.lift - 1.96 * t.lift_se, 4) end as lift_ci_low,
    case when t.test_group = 'treatment' then round(t.lift + 1.96 * t.lift_se, 4) end as lift_ci_high,
    t.test_group = 'treatment' and (coalesce(t.control_users, 0) < s.min_group_for_lift or t.users < s.min_group_for_lift)
        as too_small_to_tell,
    case when t.test_group = 'treatment' and t.lift > 0
         then cast(t.cost / (t.lift * t.users) as decimal(18, 2)) end as cost_per_recalled_user,
    least({{ dbt.datediff('t.campaign_date', 'x.as_of_date', 'day') }}, s.return_window_days) as days_observed,
    {{ dbt.datediff('t.campaign_date', 'x.as_of_date', 'day') }} >= s.return_window_days as is_final
from compared t
cross join settings s
cross join as_of x
