-- Every identifier seen in every record, keyed. Identifiers in one record belong to one person
-- (the edges of the identity graph); a social `invite` names another person (invitee_openid) and
-- links nobody, so it is not read here. Consent events carry one identifier and link nothing.
with observed as (
    {{ identifier_observations(ref('stg_online__events'), 'online', 'event_id', 'event_time', {
        'device_id': 'device_id', 'push_token': 'push_token', 'member_id': 'member_id', 'phone': 'phone',
        'email': 'email', 'wechat_openid': 'wechat_openid', 'wechat_unionid': 'wechat_unionid'}, 'miniprogram') }}
    union all
    {{ identifier_observations(ref('stg_offline__records'), 'offline', 'record_id', 'record_time', {
        'member_card_no': 'member_card_no', 'phone': 'phone'}) }}
    union all
    {{ identifier_observations(ref('stg_sales__orders'), 'sales', 'order_id', 'order_time', {
        'member_id': 'member_id', 'member_card_no': 'member_card_no', 'phone': 'phone', 'email': 'email',
        'wechat_openid': 'wechat_openid'}, 'miniprogram') }}
    union all
    {{ identifier_observations(ref('stg_social__interactions'), 'social', 'interaction_id', 'interaction_time', {
        'wechat_openid': 'wechat_openid', 'wechat_unionid': 'wechat_unionid',
        'wecom_external_userid': 'wecom_external_userid', 'weibo_uid': 'weibo_uid', 'douyin_id': 'douyin_id',
        'phone': 'phone'}, 'wechat_oa') }}
)

select
    {{ identifier_key("identifier_type || ':' || coalesce(wechat_app, '') || ':' || identifier_value") }}
        as identifier_key,
    record_source,
    record_id,
    identifier_type,
    wechat_app,
    identifier_value,
    observed_at
from observed
