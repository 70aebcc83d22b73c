{{ config(unique_key='event_id') }}

-- One row per event_id. The same event may arrive twice (in one file or on a later day): the
-- first arrival is kept, so re-running a later day never rewrites an earlier event.
with source as (
    {{ first_arrivals(source('raw', 'online'), 'event_id') }}
),

renamed as (
    select
        event_id,
        event_time,
        cast(event_time as date) as event_date,
        event_type,
        platform,
        device_id,
        push_token,
        member_id,
        phone,
        phone_kind,
        email,
        wechat_openid,
        wechat_unionid,
        content_category,
        item_id,
        campaign_id,
        acquisition_channel,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from source
)

select * from renamed
