-- One row per person: how many identifiers of each type it holds, whether it is a member, whether
-- it is still anonymous (nothing but devices, push tokens and WeChat ids), first and last seen.
-- Turning anonymous persons into identified members is a metric the team tracks.
with identity as (
    select * from {{ ref('identity_map') }}
)

select
    person_id,
    count(*) as identifiers,
    sum(case when identifier_type = 'phone' then 1 else 0 end) as phones,
    sum(case when identifier_type = 'email' then 1 else 0 end) as emails,
    sum(case when identifier_type = 'member_id' then 1 else 0 end) as member_ids,
    sum(case when identifier_type = 'member_card_no' then 1 else 0 end) as member_cards,
    sum(case when identifier_type in ('device_id', 'push_token') then 1 else 0 end) as devices,
    sum(case when identifier_type in ('wechat_openid', 'wechat_unionid', 'wecom_external_userid') then 1 else 0 end)
        as wechat_ids,
    sum(case when identifier_type in ('weibo_uid', 'douyin_id') then 1 else 0 end) as social_ids,
    max(case when identifier_type in ('member_id', 'member_card_no') then 1 else 0 end) = 1 as is_member,
    max(case when identifier_type in ('member_id', 'member_card_no', 'phone', 'email') then 1 else 0 end) = 0
        as is_anonymous,
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at
from identity
group by person_id
