-- How many persons each rule targeted today and why those left out were left out, in the order
-- the checks run (the metadata of the recall assets and the daily report read this).
select
    campaign_date,
    rule_id,
    coalesce(exclusion, 'eligible') as outcome,
    count(*) as persons
from {{ ref('int_recall_eligibility') }}
group by campaign_date, rule_id, coalesce(exclusion, 'eligible')
