-- Where each person can be reached, per channel: the identifier a sending system needs (the most
-- recently seen one). sms and call: a mainland mobile number (+86 1…, 11 digits); push: the
-- latest push token, else the member id as the push alias; wechat: an openid of the official
-- account (mini-program openids are scoped to the other app); wecom: an external user id and the
-- staff member who owns the contact; email: an address; ads: a mobile and an email where known.
-- address_kind tells push tokens from aliases and ad phones from ad emails.
with ids as (
    select
        person_id, identifier_type, wechat_app, identifier_value,
        row_number() over (partition by person_id, identifier_type, wechat_app
                           order by last_seen_at desc, identifier_value) as recency
    from {{ ref('identity_map') }}
    where identifier_type <> 'phone'
       or (identifier_value like '+861%' and {{ dbt.length('identifier_value') }} = 14)
),

latest as (
    select * from ids where recency = 1
),

wecom_owners as (
    select wecom_external_userid, wecom_owner,
           row_number() over (partition by wecom_external_userid order by interaction_time desc, interaction_id) as recency
    from {{ ref('stg_social__interactions') }}
    where wecom_external_userid is not null and wecom_owner is not null
),

by_channel as (
    select person_id, 'sms' as channel, identifier_value as address, 'phone' as address_kind,
           cast(null as varchar) as owner
    from latest where identifier_type = 'phone'
    union all
    select person_id, 'call', identifier_value, 'phone', null from latest where identifier_type = 'phone'
    union all
    select person_id, 'push', identifier_value, 'registration_id', null from latest where identifier_type = 'push_token'
    union all
    select l.person_id, 'push', l.identifier_value, 'alias', null from latest l
    where l.identifier_type = 'member_id'
      and not exists (select 1 from latest t where t.person_id = l.person_id and t.identifier_type = 'push_token')
    union all
    select person_id, 'wechat', identifier_value, 'openid', null from latest
    where identifier_type = 'wechat_openid' and wechat_app = 'wechat_oa'
    union all
    select l.person_id, 'wecom', l.identifier_value, 'external_userid', o.wecom_owner from latest l
    join wecom_owners o on o.wecom_external_userid = l.identifier_value and o.recency = 1
    where l.identifier_type = 'wecom_external_userid'
    union all
    select person_id, 'email', identifier_value, 'email', null from latest where identifier_type = 'email'
    union all
    select person_id, 'ads', identifier_value, identifier_type, null from latest where identifier_type in ('phone', 'email')
)

select person_id, channel, address, address_kind, owner from by_channel
