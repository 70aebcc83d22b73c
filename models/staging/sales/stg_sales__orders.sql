{{ config(unique_key='order_id') }}

-- One row per order: its latest version (latest updated_at; on a tie the later delivery).
-- An incremental run looks at every delivered version of the orders its window touched, and at
-- the version already stored (which may have arrived after the window), so a late replay of an
-- old version never overwrites a newer one.
{%- set order_columns = [
    'order_id', 'order_time', 'updated_at', 'status', 'amount', 'refund_amount', 'channel',
    'store_id', 'member_id', 'member_card_no', 'phone', 'phone_kind', 'email', 'wechat_openid',
    'item_count', 'category', 'coupon_id', 'campaign_id', 'arrived_on', 'source_file', 'source_row'
] %}

with window_orders as (
    select distinct order_id from {{ source('raw', 'sales') }}
    where {{ run_window('_dt') }}
),

delivered as (
    select
        *,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from {{ source('raw', 'sales') }}
    where _dt < {{ run_window_end() }}
    {%- if is_incremental() %}
      and order_id in (select order_id from window_orders)
    {%- endif %}
),

versions as (
    select {{ order_columns | join(', ') }} from delivered
    {%- if is_incremental() %}
    union all
    select {{ order_columns | join(', ') }} from {{ this }}
    where order_id in (select order_id from window_orders)
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_id
            order by updated_at desc, arrived_on desc, source_file desc, source_row desc
        ) as version_rank
    from versions
),

latest as (
    select
        {{ order_columns | join(',\n        ') }},
        cast(order_time as date) as order_date,
        -- Net revenue (output contract): amount − refunds of the latest version; cancelled = 0.
        case when status = 'cancelled' then 0 else amount - coalesce(refund_amount, 0) end as net_amount
    from ranked
    where version_rank = 1
)

select * from latest
