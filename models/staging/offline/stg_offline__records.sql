{{ config(unique_key='record_id') }}

-- One row per record_id (first arrival wins), with gender spelled one way.
with source as (
    select * from {{ source('raw', 'offline') }}
    where {{ arrival_window('_dt') }}
),

ranked as (
    select
        *,
        row_number() over (partition by record_id order by _dt, _source_file, _row_number) as arrival_rank
    from source
),

renamed as (
    select
        record_id,
        record_time,
        cast(record_time as date) as record_date,
        record_type,
        store_id,
        store_city,
        member_card_no,
        phone,
        phone_kind,
        name,
        case
            when gender in ('M', 'm', '男') then 'M'
            when gender in ('F', 'f', '女') then 'F'
        end as gender,
        birthday as birth_date,
        city,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from ranked
    where arrival_rank = 1
    {% if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as stored
          where stored.record_id = ranked.record_id
            and stored.arrived_on < cast('{{ var("min_date") }}' as date)
      )
    {% endif %}
)

select * from renamed
