{{ config(unique_key='event_id') }}

-- One row per event_id. The same event may arrive twice (in one file or on a later day): the
-- first arrival is kept, so re-running a later day never rewrites an earlier event.
with source as (
    select * from {{ source('raw', 'online') }}
    where {{ arrival_window('_dt') }}
),

ranked as (
    select
        *,
        row_number() over (partition by event_id order by _dt, _source_file, _row_number) as arrival_rank
    from source
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
    from ranked
    where arrival_rank = 1
    {% if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as stored
          where stored.event_id = ranked.event_id
            and stored.arrived_on < cast('{{ var("min_date") }}' as date)
      )
    {% endif %}
)

select * from renamed
