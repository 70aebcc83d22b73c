-- Each person's consent per channel key (sms, call, push, wechat, wecom, email, ads, all,
-- personalised): the latest event per (channel, identifier) wins — an opt-out when two events
-- share the time (fail closed) — and the person has an opt-out for the channel when any of their
-- identifiers' latest event is one (likewise opt-ins).
with latest as (
    select
        channel,
        identifier_type,
        identifier_value,
        status,
        row_number() over (partition by channel, identifier_type, identifier_value
                           order by event_time desc, case when status = 'opt_out' then 0 else 1 end,
                                    arrived_on desc, consent_id desc) as recency
    from {{ ref('int_consent_events') }}
    where identifier_value is not null
),

identifiers as (
    select distinct identifier_type, identifier_value, person_id from {{ ref('identity_map') }}
)

select
    i.person_id,
    l.channel,
    max(case when l.status = 'opt_out' then 1 else 0 end) = 1 as has_opt_out,
    max(case when l.status = 'opt_in' then 1 else 0 end) = 1 as has_opt_in
from latest l
join identifiers i on i.identifier_type = l.identifier_type and i.identifier_value = l.identifier_value
where l.recency = 1
group by i.person_id, l.channel
