-- Every consent event, whichever way it reached us: the consent exports and the SMS STOP replies.
select
    consent_event_key, consent_id, event_time, channel, identifier_type, identifier_value, status,
    consent_source, read_problem, arrived_on, source_file
from {{ ref('stg_consent__events') }}

union all

select
    consent_event_key, consent_id, event_time, channel, identifier_type, identifier_value, status,
    consent_source, read_problem, arrived_on, source_file
from {{ ref('stg_sms_replies__opt_outs') }}
