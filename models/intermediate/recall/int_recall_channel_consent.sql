-- What consent allows per person and sending channel, in one place for the eligibility, the
-- blocking test and the writers' re-check: opted_out when the person's latest event for the
-- channel, for `all`, or for `personalised` (no rule-based message at all) is an opt-out on any
-- of their identifiers; opted_in when one for the channel or `all` is an opt-in. Persons with no
-- consent event are absent: a channel that needs no opt-in is allowed, one that does is not.
with consent as (
    select * from {{ ref('int_recall_consent') }}
),

persons as (
    select distinct person_id from consent
)

select
    p.person_id,
    ch.channel,
    max(case when c.has_opt_out then 1 else 0 end) = 1 as opted_out,
    max(case when c.has_opt_in and c.channel <> 'personalised' then 1 else 0 end) = 1 as opted_in
from persons p
cross join {{ ref('recall_channels') }} ch
left join consent c
    on c.person_id = p.person_id and c.channel in (ch.channel, 'all', 'personalised')
group by p.person_id, ch.channel
