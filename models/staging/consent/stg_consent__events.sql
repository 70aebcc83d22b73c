{{ config(unique_key='consent_event_key') }}

-- One row per consent event, de-duplicated by its content, not by consent_id: a vendor that
-- updates a subscription record re-sends the same consent_id with a new status, and that is a
-- new event (the latest event_time wins downstream, never the first arrival). The identifier is
-- normalised at ingestion like everywhere else (phones E.164, emails lower-cased) so it matches
-- the identity graph. read_problem is set on rows that could not be fully read and were kept as
-- opt-outs of the identifier they name (fail closed).
with keyed as (
    select
        *,
        {{ dbt.hash(dbt.concat([
            "coalesce(consent_id, '')", "'|'", "coalesce(cast(event_time as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(channel, '')", "'|'", "coalesce(identifier_type, '')", "'|'",
            "coalesce(identifier_value, '')", "'|'", "coalesce(status, '')"])) }} as consent_event_key
    from {{ source('raw', 'consent') }}
),

source as (
    {{ first_arrivals('keyed', 'consent_event_key') }}
),

renamed as (
    select
        consent_event_key,
        consent_id,
        event_time,
        channel,
        identifier_type,
        identifier_value,
        status,
        source.source as consent_source,
        _read_problem as read_problem,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from source
)

select * from renamed
