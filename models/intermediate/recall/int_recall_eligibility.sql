{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='campaign_date',
          batch_size='day', begin='2024-01-01', lookback=0) }}

-- Every person a recall rule targets on a campaign day, with the first reason they are excluded,
-- checked in this order: no usable identifier on any of the rule's channels; consent (every
-- usable channel opted out — `all` and `personalised` opt-outs close every channel — or not
-- opted in where the channel needs it; int_recall_channel_consent); a suppression list; the
-- frequency caps across all channels (recall_settings, and the rule's own minimum gap); region
-- rules; a higher-priority rule the person also matches. Eligible rows carry the first channel in
-- the rule's preference order that passes every check.
--
-- One batch per campaign day, in order (dbt microbatch; Dagster passes the run's days): a range
-- run plans every day as the daily runs would, each day's caps counting the contact log and the
-- run's own earlier days not logged yet (this table's eligible rows). Who a rule targets comes
-- from the day's own snapshots (lifecycle, RFM, lapse, cell, purchases arrived by then); consent,
-- addresses and suppression are read as they are now, which is stricter for past days.
{%- set day = campaign_day() %}
with settings as (
    select * from {{ ref('int_recall_settings') }}
),

profile as (
    select * from {{ ref('user_profile') }}
),

snapshot as (
    select * from {{ ref('user_profile_daily') }} where snapshot_date = {{ day }}
),

buyers as (
    -- persons with an order that still had a positive net amount by the day
    select distinct person_id
    from (
        select person_id, order_id, sum(net_delta) as net_amount
        from {{ ref('int_order_revenue_deltas') }}
        where arrived_on <= {{ day }}
        group by person_id, order_id
    ) as orders
    where net_amount > 0
),

today as (
    select
        d.person_id,
        d.snapshot_date as campaign_date,
        d.lifecycle_stage,
        d.rfm_segment,
        b.person_id is not null as has_purchased,
        p.province,
        p.preferred_hour,
        (p.birth_date is not null
         and extract(month from p.birth_date) = extract(month from d.snapshot_date)
         and extract(day from p.birth_date) = extract(day from d.snapshot_date)) as on_birthday,
        l.lapse_stage,
        g.cell
    from snapshot d
    left join profile p on p.person_id = d.person_id
    left join buyers b on b.person_id = d.person_id
    left join {{ ref('lapsed_users') }} l on l.person_id = d.person_id and l.as_of_date = d.snapshot_date
    left join {{ ref('nine_grid_daily') }} g on g.person_id = d.person_id and g.snapshot_date = d.snapshot_date
),

candidates as (
    select t.*, r.rule_id, r.priority, r.channels, r.offer, r.template_id, r.min_days_between_contacts
    from today t
    join {{ ref('recall_rules') }} r
        on {{ in_pipe_list('r.lifecycle_stages', 't.lifecycle_stage') }}
       and (r.lapse_stages is null or r.lapse_stages = '' or ({{ in_pipe_list('r.lapse_stages', 't.lapse_stage') }} and t.lapse_stage is not null))
       and (r.has_purchased is null or r.has_purchased = t.has_purchased)
       and (r.cells is null or r.cells = '' or ({{ in_pipe_list('r.cells', dbt.cast('t.cell', dbt.type_string())) }} and t.cell is not null))
       and {{ in_pipe_list('r.rfm_segments', 't.rfm_segment') }}
       and (r.on_birthday is null or not r.on_birthday or t.on_birthday)
       and t.lifecycle_stage <> 'anonymous'
),

-- Each candidate's channels in the rule's order, with what blocks each.
channel_checks as (
    select
        c.person_id,
        c.rule_id,
        ch.channel,
        {{ dbt.position(dbt.concat(["'|'", "ch.channel", "'|'"]), dbt.concat(["'|'", "c.channels", "'|'"])) }} as preference,
        a.address is not null as usable,
        coalesce(cc.opted_out, false) as opted_out,
        coalesce(cc.opted_in, false) as opted_in,
        ch.needs_opt_in,
        rb.province is not null as region_blocked
    from candidates c
    join {{ ref('recall_channels') }} ch on {{ in_pipe_list('c.channels', 'ch.channel') }}
    left join (select distinct person_id, channel, address from {{ ref('int_recall_addresses') }}) a
        on a.person_id = c.person_id and a.channel = ch.channel
    left join {{ ref('int_recall_channel_consent') }} cc on cc.person_id = c.person_id and cc.channel = ch.channel
    left join {{ ref('channel_region_blocks') }} rb on rb.channel = ch.channel and rb.province = c.province
),

channel_summary as (
    select
        person_id,
        rule_id,
        max(case when usable then 1 else 0 end) as any_usable,
        max(case when usable and not opted_out and (opted_in or not needs_opt_in) then 1 else 0 end) as any_consented,
        min(case when usable and not opted_out and (opted_in or not needs_opt_in) and not region_blocked
                 then preference end) as chosen_preference
    from channel_checks
    group by person_id, rule_id
),

suppressed as (
    select person_id from {{ ref('int_recall_suppressed_persons') }}
),

-- Contacts before the day (holdouts of the control group count too, so both groups are capped
-- alike), across all channels and per rule: the contact log (what was written and sent), and for
-- the run's own earlier days that have no log yet (it is written after this build) their plan.
logged as (
    select * from {{ ref('stg_recall__contacts') }} where campaign_date < {{ day }}
),

contacts as (
    select person_id, rule_id, campaign_date from logged
    {%- if is_incremental() %}
    union all
    select person_id, rule_id, campaign_date
    from {{ this }}
    where channel is not null
      and campaign_date >= {{ run_window_start() }} and campaign_date < {{ day }}
      and campaign_date not in (select campaign_date from logged)
    {%- endif %}
),

capped as (
    select c.person_id
    from contacts c
    cross join settings s
    group by c.person_id, s.max_contacts_30d, s.min_days_between_contacts
    having sum(case when c.campaign_date > cast({{ dbt.dateadd('day', -30, day) }} as date) then 1 else 0 end)
               >= s.max_contacts_30d
        or max(c.campaign_date) > cast({{ dbt.dateadd('day', '-s.min_days_between_contacts', day) }} as date)
),

rule_gaps as (
    select person_id, rule_id, max(campaign_date) as last_contacted_on from contacts group by person_id, rule_id
),

checked as (
    select
        c.*,
        case
            when coalesce(cs.any_usable, 0) = 0 then 'no_usable_identifier'
            when coalesce(cs.any_consented, 0) = 0 then 'no_consent'
            when sp.person_id is not null then 'suppressed'
            when cp.person_id is not null
              or g.last_contacted_on > cast({{ dbt.dateadd('day', '-c.min_days_between_contacts', 'c.campaign_date') }} as date)
                then 'frequency_cap'
            when cs.chosen_preference is null then 'region'
        end as exclusion,
        cs.chosen_preference
    from candidates c
    left join channel_summary cs on cs.person_id = c.person_id and cs.rule_id = c.rule_id
    left join suppressed sp on sp.person_id = c.person_id
    left join capped cp on cp.person_id = c.person_id
    left join rule_gaps g on g.person_id = c.person_id and g.rule_id = c.rule_id
),

ranked as (
    select
        k.*,
        row_number() over (partition by k.person_id order by case when k.exclusion is null then 0 else 1 end,
                           k.priority, k.rule_id) as rule_rank
    from checked k
)

select
    r.campaign_date,
    r.person_id,
    r.rule_id,
    r.priority,
    r.offer,
    r.template_id,
    r.preferred_hour,
    coalesce(r.exclusion, case when r.rule_rank > 1 then 'higher_priority_rule' end) as exclusion,
    case when r.exclusion is null and r.rule_rank = 1 then ch.channel end as channel
from ranked r
left join channel_checks ch
    on ch.person_id = r.person_id and ch.rule_id = r.rule_id and ch.preference = r.chosen_preference
