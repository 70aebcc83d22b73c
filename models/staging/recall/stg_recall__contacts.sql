-- Every past contact (and control holdout) from the writers' contact log.
with source as (
    select * from {{ source('recall', 'contact_log') }}
)

select
    campaign_date,
    campaign_id,
    person_id,
    rule_id,
    channel,
    test_group,
    send_at,
    outbox_file,
    run_id,
    cost
from source
