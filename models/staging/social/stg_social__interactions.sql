{{ config(unique_key='interaction_id') }}

-- One row per interaction_id (first arrival wins). wechat_openid here is the official
-- account's openid, a different identifier from the mini-program's openid in online/sales.
with source as (
    {{ first_arrivals(source('raw', 'social'), 'interaction_id') }}
),

renamed as (
    select
        interaction_id,
        interaction_time,
        cast(interaction_time as date) as interaction_date,
        platform,
        action,
        wechat_openid,
        wechat_unionid,
        wecom_external_userid,
        wecom_owner,
        weibo_uid,
        douyin_id,
        phone,
        phone_kind,
        content_category,
        invitee_openid,
        follower_count,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from source
)

select * from renamed
