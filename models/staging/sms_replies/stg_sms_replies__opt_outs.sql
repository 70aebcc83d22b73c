{{ config(unique_key='consent_event_key') }}

-- SMS replies that are an unsubscribe word (回T退订, TD, 拒收 …, matched at ingestion against
-- seeds/unsubscribe_words.csv), as SMS opt-outs of the replying phone from replied_at on, in the
-- shape of consent events. Other replies stay in raw.sms_replies.
with keyed as (
    select
        *,
        {{ dbt.hash(dbt.concat([
            "phone", "'|'", "coalesce(cast(replied_at as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(content, '')"])) }} as consent_event_key
    from {{ source('raw', 'sms_replies') }}
    where unsubscribe_word is not null and phone is not null
),

source as (
    {{ first_arrivals('keyed', 'consent_event_key') }}
),

renamed as (
    select
        consent_event_key,
        {{ dbt.concat(["'sms_reply:'", "consent_event_key"]) }} as consent_id,
        replied_at as event_time,
        'sms' as channel,
        'phone' as identifier_type,
        phone as identifier_value,
        'opt_out' as status,
        'unsubscribe_reply' as consent_source,
        _read_problem as read_problem,
        gateway,
        _dt as arrived_on,
        _source_file as source_file,
        _row_number as source_row
    from source
)

select * from renamed
