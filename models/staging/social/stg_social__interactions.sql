{{ config(unique_key='interaction_id') }}

-- One row per interaction_id (first arrival wins). wechat_openid here is the official
-- account's openid, a different identifier from the mini-program's openid in online/sales.
with source as (
    select * from {{ source('raw', 'social') }}
    where {{ arrival_window('_dt') }}
),

ranked as (
    select
        *,
        row_number() over (partition by interaction_id order by _dt, _source_file, _row_number) as arrival_rank
    from source
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
    from ranked
    where arrival_rank = 1
    {% if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as stored
          where stored.interaction_id = ranked.interaction_id
            and stored.arrived_on < cast('{{ var("min_date") }}' as date)
      )
    {% endif %}
)

select * from renamed
