-- One row per person, as of the latest snapshot: basic data, behaviour, preferences, lifecycle,
-- RFM, bands, KOC and the interaction index. BI-safe: phones and emails appear masked only.
with as_of as (
    select max(snapshot_date) as as_of_date from {{ ref('user_profile_daily') }}
),

latest as (
    select d.* from {{ ref('user_profile_daily') }} d join as_of a on d.snapshot_date = a.as_of_date
),

settings as (
    select * from {{ ref('int_profile_settings') }}
),

-- Early warning: each buyer's P(alive) under the MBG/NBD purchase model fitted today
-- (orchestration/lib/churn_model.py, same formulas), and P(at least one purchase within
-- churn_settings.active_within_days). Null for non-buyers, or on a day with too few buyers to fit.
purchase_model as (
    select
        h.person_id,
        1.0 / (1.0 + m.a / (m.b + h.x) * power((m.alpha + h.t_cal) / (m.alpha + h.t_x), m.r + h.x)) as p_alive,
        (1.0 / (1.0 + m.a / (m.b + h.x) * power((m.alpha + h.t_cal) / (m.alpha + h.t_x), m.r + h.x)))
            * (1.0 - power((m.alpha + h.t_cal) / (m.alpha + h.t_cal + c.active_within_days), m.r + h.x)) as p_active
    from {{ ref('int_purchase_histories') }} h
    join {{ ref('stg_churn__purchase_model') }} m on m.fitted_on = h.as_of_date
    cross join {{ ref('int_churn_settings') }} c
),

interactions as (
    select * from {{ ref('user_interactions') }}
),

persons as (
    select * from {{ ref('persons') }}
),

-- Member data from store registrations (latest non-empty value wins).
member_records as (
    select
        r.person_id,
        o.record_time,
        case when o.gender in ('F', '女', 'female') then 'female'
             when o.gender in ('M', '男', 'male') then 'male' end as gender,
        o.birth_date,
        replace(o.city, '市', '') as city
    from {{ ref('stg_offline__records') }} o
    join {{ ref('int_identity_record_persons') }} r on r.record_source = 'offline' and r.record_id = o.record_id
),

member_data as (
    select
        person_id,
        max(gender) as gender,
        max(birth_date) as birth_date,
        max(city) as city
    from member_records
    group by person_id
),

-- Each person's most recently seen mobile and email, for the region fallback and masked display.
contacts as (
    select
        person_id,
        max(case when identifier_type = 'phone' then identifier_value end) as phone,
        max(case when identifier_type = 'email' then identifier_value end) as email
    from (
        select person_id, identifier_type, identifier_value,
               row_number() over (partition by person_id, identifier_type order by last_seen_at desc, identifier_value)
                   as recency_rank
        from {{ ref('identity_map') }}
        where identifier_type in ('phone', 'email')
    ) as ranked
    where recency_rank = 1
    group by person_id
),

regions as (
    select * from {{ ref('stg_reference__phone_regions') }}
),

city_provinces as (
    select city, min(province) as province from regions where city is not null group by city
),

totals as (
    select
        person_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(case when is_key_behaviour then occurred_at end) as last_active_at,
        count(*) as interactions_total,
        sum(case when source = 'sales' and interaction_type = 'order' then 1 else 0 end) as orders_placed_total,
        max(case when source = 'sales' and interaction_type = 'order' then occurred_at end) as last_order_at,
        min(case when interaction_type in ('register', 'member_register') then occurred_at end) as registered_at
    from interactions
    group by person_id
),

order_totals as (
    select person_id, count(*) as orders_total, sum(net_amount) as net_revenue_total
    from (select person_id, order_id, sum(net_delta) as net_amount
          from {{ ref('int_order_revenue_deltas') }} group by person_id, order_id) as orders
    where net_amount > 0
    group by person_id
),

-- Preferences over the whole history, weighted by the interaction weights.
channel_rank as (
    select person_id, platform,
           row_number() over (partition by person_id order by sum(weight) desc, count(*) desc, platform) as pick
    from interactions where platform is not null and source <> 'consent'
    group by person_id, platform
),

hour_rank as (
    select person_id, extract(hour from occurred_at) as hour_of_day,
           row_number() over (partition by person_id order by count(*) desc,
                              extract(hour from occurred_at)) as pick
    from interactions where source in ('online', 'social', 'sales') and interaction_type not in ('refund', 'cancel')
    group by person_id, extract(hour from occurred_at)
),

product_rank as (
    select person_id, category,
           row_number() over (partition by person_id order by sum(weight) desc, count(*) desc, category) as pick
    from interactions where source = 'sales' and interaction_type = 'order' and category is not null
    group by person_id, category
),

content_rank as (
    select person_id, category,
           row_number() over (partition by person_id order by sum(weight) desc, count(*) desc, category) as pick
    from interactions where source in ('online', 'social') and category is not null
    group by person_id, category
),

-- KOC: invites that converted (the invitee registered or bought), shares and reach.
invites as (
    select s.interaction_id, r.person_id as inviter, m.person_id as invitee
    from {{ ref('stg_social__interactions') }} s
    join {{ ref('int_identity_record_persons') }} r on r.record_source = 'social' and r.record_id = s.interaction_id
    join {{ ref('identity_map') }} m
        on m.identifier_type = 'wechat_openid' and m.wechat_app = 'wechat_oa' and m.identifier_value = s.invitee_openid
    where s.action = 'invite'
),

converted_invitees as (
    select distinct person_id from interactions
    where (source = 'online' and interaction_type = 'register')
       or (source = 'offline' and interaction_type = 'member_register')
       or (source = 'sales' and interaction_type = 'order')
),

influence as (
    select
        r.person_id,
        sum(case when s.action in ('share', 'repost') then 1 else 0 end) as shares,
        max(s.follower_count) as followers
    from {{ ref('stg_social__interactions') }} s
    join {{ ref('int_identity_record_persons') }} r on r.record_source = 'social' and r.record_id = s.interaction_id
    group by r.person_id
),

online_shares as (
    select person_id, count(*) as shares from interactions
    where source = 'online' and interaction_type = 'share' group by person_id
),

koc as (
    select
        p.person_id,
        coalesce(ci.converted_invites, 0) as converted_invites,
        coalesce(i.shares, 0) + coalesce(o.shares, 0) as shares,
        i.followers
    from persons p
    left join (select i.inviter as person_id, count(distinct i.invitee) as converted_invites
               from invites i join converted_invitees c on c.person_id = i.invitee
               group by i.inviter) ci on ci.person_id = p.person_id
    left join influence i on i.person_id = p.person_id
    left join online_shares o on o.person_id = p.person_id
)

select
    p.person_id,
    p.is_member,
    m.gender,
    m.birth_date,
    floor({{ dbt.datediff('m.birth_date', 'a.as_of_date', 'day') }} / 365.25) as age,
    ab.age_band,
    coalesce(cp.province, case when m.city is null then pr.province end) as province,
    coalesce(m.city, pr.city) as city,
    pr.carrier as phone_carrier,
    -- Masked for BI (138****5678, z***@example.com); clear values live only in identity_map.
    case when c.phone is not null
         then substr(c.phone, 4, 3) || '****' || substr(c.phone, {{ dbt.length('c.phone') }} - 3, 4) end as phone_masked,
    case when c.email is not null
         then substr(c.email, 1, 1) || '***' || substr(c.email, {{ dbt.position("'@'", 'c.email') }}) end as email_masked,
    t.registered_at,
    t.first_seen_at,
    t.last_seen_at,
    t.last_active_at,
    l.last_key_behaviour_on,
    l.active_days_7d,
    l.active_days_30d,
    l.active_days_90d,
    t.interactions_total,
    l.orders_180d,
    coalesce(ot.orders_total, 0) as orders_total,
    l.net_revenue_365d,
    cast(coalesce(ot.net_revenue_total, 0) as decimal(18, 2)) as net_revenue_total,
    cast(case when ot.orders_total > 0 then ot.net_revenue_total / ot.orders_total end as decimal(18, 2))
        as avg_order_value,
    t.last_order_at,
    l.lifecycle_stage,
    l.rfm_recency_score,
    l.rfm_frequency_score,
    l.rfm_monetary_score,
    l.rfm_segment,
    vb.aov_band,
    fb.frequency_band,
    l.interaction_index,
    k.converted_invites,
    k.shares,
    k.followers,
    (k.converted_invites >= s.koc_min_converted_invites
     or (k.shares >= s.koc_min_shares and coalesce(k.followers, 0) >= s.koc_min_followers)) as is_koc,
    pp.category as top_category,
    cc.category as top_content_category,
    ch.platform as preferred_channel,
    hr.hour_of_day as preferred_hour,
    pm.p_alive,
    pm.p_active,
    a.as_of_date
from persons p
cross join settings s
cross join as_of a
left join latest l on l.person_id = p.person_id
left join member_data m on m.person_id = p.person_id
left join contacts c on c.person_id = p.person_id
left join regions pr on pr.phone_prefix = substr(c.phone, 1, 10)
left join city_provinces cp on cp.city = m.city
left join totals t on t.person_id = p.person_id
left join order_totals ot on ot.person_id = p.person_id
left join koc k on k.person_id = p.person_id
left join channel_rank ch on ch.person_id = p.person_id and ch.pick = 1
left join hour_rank hr on hr.person_id = p.person_id and hr.pick = 1
left join product_rank pp on pp.person_id = p.person_id and pp.pick = 1
left join content_rank cc on cc.person_id = p.person_id and cc.pick = 1
left join purchase_model pm on pm.person_id = p.person_id
left join {{ ref('age_bands') }} ab
    on floor({{ dbt.datediff('m.birth_date', 'a.as_of_date', 'day') }} / 365.25) >= ab.min_age
   and (floor({{ dbt.datediff('m.birth_date', 'a.as_of_date', 'day') }} / 365.25) <= ab.max_age or ab.max_age is null)
left join {{ ref('order_value_bands') }} vb
    on ot.orders_total > 0 and ot.net_revenue_total / ot.orders_total >= vb.min_value
   and (ot.net_revenue_total / ot.orders_total < vb.max_value or vb.max_value is null)
left join {{ ref('order_frequency_bands') }} fb
    on l.orders_180d >= fb.min_orders and (l.orders_180d <= fb.max_orders or fb.max_orders is null)
