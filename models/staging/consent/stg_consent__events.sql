{{ config(unique_key='consent_id') }}

-- One row per consent event. The identifier is normalised like everywhere else (phones to
-- E.164, emails lower-cased) so it matches the identity graph; rows whose phone or email
-- could not be normalised keep a null identifier_norm and are never matched.
with source as (
    {{ first_arrivals(source('raw', 'consent'), 'consent_id') }}
),

renamed as (
    select
        consent_id,
        event_time,
        channel,
        identifier_type,
        identifier_value,
        status,
        source.source as consent_source,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from source
)

select * from renamed
