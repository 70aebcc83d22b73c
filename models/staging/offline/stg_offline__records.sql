{{ config(unique_key='record_id') }}

-- One row per record_id (first arrival wins), with gender spelled one way.
with source as (
    {{ first_arrivals(source('raw', 'offline'), 'record_id') }}
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
    from source
)

select * from renamed
