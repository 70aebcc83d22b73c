{{ config(materialized='table') }}

-- One row per person, day of activity and arrival day: what the person did that day, as known
-- once that day's delivery arrived. Snapshots of day D read the rows with arrived_on <= D, so
-- a late event counts from the day it arrived and an older snapshot never changes.
select
    person_id,
    occurred_on as activity_date,
    arrived_on,
    count(*) as interactions,
    sum(case when is_key_behaviour then 1 else 0 end) as key_behaviours,
    sum(weight) as weighted_interactions,
    sum(case when interaction_type in ('register', 'member_register') then 1 else 0 end) as registrations
from {{ ref('user_interactions') }}
where source <> 'consent'
group by person_id, occurred_on, arrived_on
