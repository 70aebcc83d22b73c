{{ config(unique_key='consent_id') }}

-- One row per consent event. The identifier is normalised like everywhere else (phones to
-- E.164, emails lower-cased) so it matches the identity graph; rows whose phone or email
-- could not be normalised keep a null identifier_norm and are never matched.
with source as (
    select * from {{ source('raw', 'consent') }}
    where {{ arrival_window('_dt') }}
),

ranked as (
    select
        *,
        row_number() over (partition by consent_id order by _dt, _source_file, _row_number) as arrival_rank
    from source
),

renamed as (
    select
        consent_id,
        event_time,
        channel,
        identifier_type,
        identifier_value,
        status,
        source as consent_source,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from ranked
    where arrival_rank = 1
    {% if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as stored
          where stored.consent_id = ranked.consent_id
            and stored.arrived_on < cast('{{ var("min_date") }}' as date)
      )
    {% endif %}
)

select * from renamed
