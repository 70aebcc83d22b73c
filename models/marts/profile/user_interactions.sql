-- Everything a person did with the brand, on one timeline: online events, store records, orders
-- (placed, refunded, cancelled), social actions and consent changes, each with its weight from
-- the interaction_weights seed. "Everything person p did, in order":
--   select * from marts.user_interactions where person_id = 'p…' order by occurred_at
with record_persons as (
    select * from {{ ref('int_identity_record_persons') }}
),

online as (
    select r.person_id, e.event_time as occurred_at, e.arrived_on, 'online' as source, e.event_type as interaction_type,
           e.platform, e.content_category as category, cast(null as decimal(18, 2)) as amount, e.event_id as record_id
    from {{ ref('stg_online__events') }} e
    join record_persons r on r.record_source = 'online' and r.record_id = e.event_id
),

offline as (
    select r.person_id, o.record_time, o.arrived_on, 'offline', o.record_type,
           'store', cast(null as varchar), cast(null as decimal(18, 2)), o.record_id
    from {{ ref('stg_offline__records') }} o
    join record_persons r on r.record_source = 'offline' and r.record_id = o.record_id
),

-- An order is placed at order_time (first version's arrival); later refund or cancellation
-- versions are interactions of their own at updated_at.
order_versions as (
    select
        v.*,
        row_number() over (partition by v.order_id order by v.arrived_on, v.updated_at) as version_number
    from {{ ref('stg_sales__order_versions') }} v
),

sales as (
    select r.person_id,
           case when v.version_number = 1 then v.order_time else v.updated_at end,
           v.arrived_on, 'sales',
           case when v.version_number = 1 then 'order'
                when v.status = 'cancelled' then 'cancel'
                else 'refund' end,
           v.channel, v.category,
           case when v.version_number = 1 then v.amount else v.refund_amount end,
           v.order_version_id
    from order_versions v
    join record_persons r on r.record_source = 'sales' and r.record_id = v.order_id
    where v.version_number = 1 or v.status in ('refunded', 'partially_refunded', 'cancelled')
),

social as (
    select r.person_id, s.interaction_time, s.arrived_on, 'social', s.action,
           s.platform, s.content_category, cast(null as decimal(18, 2)), s.interaction_id
    from {{ ref('stg_social__interactions') }} s
    join record_persons r on r.record_source = 'social' and r.record_id = s.interaction_id
),

-- Consent events name one identifier; an openid there may come from either WeChat app.
consent as (
    select m.person_id, c.event_time, c.arrived_on, 'consent', c.status,
           c.channel, cast(null as varchar), cast(null as decimal(18, 2)), c.consent_event_key
    from {{ ref('int_consent_events') }} c
    join (select distinct identifier_type, identifier_value, person_id from {{ ref('identity_map') }}) m
        on m.identifier_type = c.identifier_type and m.identifier_value = c.identifier_value
),

timeline as (
    select * from online
    union all select * from offline
    union all select * from sales
    union all select * from social
    union all select * from consent
)

select
    t.person_id,
    t.occurred_at,
    cast(t.occurred_at as date) as occurred_on,
    t.arrived_on,
    t.source,
    t.interaction_type,
    t.platform,
    t.category,
    t.amount,
    coalesce(w.weight, 0) as weight,
    coalesce(w.is_key_behaviour, false) as is_key_behaviour,
    t.record_id
from timeline t
left join {{ ref('interaction_weights') }} w
    on w.source = t.source and w.interaction_type = t.interaction_type
