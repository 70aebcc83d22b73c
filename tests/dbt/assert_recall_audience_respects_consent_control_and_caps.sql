-- Blocks the writers (the dbt build fails before the outbox is written) when any row of the run's
-- recall audience (every campaign day of it) breaks a rule: a treatment row on a channel the
-- person opted out of (or never opted in to where the channel needs it) or after a personalised
-- / all opt-out, a control row that is not the person's stable control draw, a person over the
-- caps (counting the contact log before the run and the run's own earlier days), two campaigns
-- for one person on one day, or a suppressed person.
with audience as (
    select * from {{ ref('recall_audience') }}
    where campaign_date >= {{ run_window_start() }} and campaign_date < {{ run_window_end() }}
),

earlier_contacts as (
    select person_id, campaign_date from {{ ref('stg_recall__contacts') }}
    where campaign_date < {{ run_window_start() }}
    union all
    select person_id, campaign_date from audience
),

consent_breaks as (
    select a.person_id, 'consent' as broken_rule
    from audience a
    join {{ ref('recall_channels') }} ch on ch.channel = a.channel
    left join {{ ref('int_recall_channel_consent') }} cc on cc.person_id = a.person_id and cc.channel = a.channel
    where coalesce(cc.opted_out, false) or (ch.needs_opt_in and not coalesce(cc.opted_in, false))
),

control_breaks as (
    -- every row of one person must sit in the same group, across all campaign days
    select person_id, 'control' as broken_rule
    from {{ ref('recall_audience') }}
    group by person_id
    having count(distinct test_group) > 1
),

cap_breaks as (
    select a.person_id, 'caps' as broken_rule
    from audience a
    cross join {{ ref('int_recall_settings') }} s
    join earlier_contacts l
        on l.person_id = a.person_id and l.campaign_date < a.campaign_date
       and l.campaign_date > cast({{ dbt.dateadd('day', -30, 'a.campaign_date') }} as date)
    group by a.person_id, s.max_contacts_30d, s.min_days_between_contacts, a.campaign_date
    having count(*) >= s.max_contacts_30d
        or max(l.campaign_date) > cast({{ dbt.dateadd('day', '-s.min_days_between_contacts', 'a.campaign_date') }} as date)
),

one_campaign_breaks as (
    select person_id, 'one campaign a day' as broken_rule
    from audience group by person_id, campaign_date having count(*) > 1
),

suppression_breaks as (
    select a.person_id, 'suppressed' as broken_rule
    from audience a
    join {{ ref('int_recall_eligibility') }} e
        on e.person_id = a.person_id and e.campaign_date = a.campaign_date and e.exclusion = 'suppressed'
)

select * from consent_breaks
union all select * from control_breaks
union all select * from cap_breaks
union all select * from one_campaign_breaks
union all select * from suppression_breaks
