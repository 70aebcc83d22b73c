{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_run_window('campaign_date') }}") }}

-- The recall audience of every campaign day of the run: one row per person and campaign (a
-- campaign is a rule on a day), the eligible persons of int_recall_eligibility with their
-- channel, offer and send time. A stable
-- hash of the person puts recall_settings.control_percent of persons in the control group
-- (test_group = control) across every campaign: they stay in this table for measuring and never
-- reach a file. send_at: the person's preferred hour when it is inside the channel's window, else
-- the window's first hour; calls skip weekday 12:00–14:00 (best pick-up, worst conversion).
with eligible as (
    select * from {{ ref('int_recall_eligibility') }} where channel is not null and {{ run_window('campaign_date') }}
),

settings as (
    select * from {{ ref('int_recall_settings') }}
),

hashed as (
    select
        e.*,
        {{ dbt.concat(['e.rule_id', "'-'", dbt.replace(dbt.cast('e.campaign_date', dbt.type_string()), "'-'", "''")]) }}
            as campaign_id,
        {{ dbt.hash(dbt.concat(["'control:'", 's.control_salt', "':'", 'e.person_id'])) }} as control_hash,
        s.control_percent,
        s.control_salt
    from eligible e
    cross join settings s
),

bucketed as (
    select
        h.*,
        -- the first four hex digits of the hash as a number 0 … 65535, portably
        {%- for i in range(4) %}
        ({{ dbt.position('substring(h.control_hash, ' ~ (i + 1) ~ ', 1)', "'0123456789abcdef'") }} - 1) * {{ 16 ** (3 - i) }}
        {%- if not loop.last %} +{% endif %}
        {%- endfor %} as control_bucket
    from hashed h
),

windowed as (
    select
        b.*,
        c.cost_per_message,
        case
            when b.preferred_hour >= c.window_start_hour and b.preferred_hour < c.window_end_hour then b.preferred_hour
            else c.window_start_hour
        end as window_hour
    from bucketed b
    join {{ ref('recall_channels') }} c on c.channel = b.channel
),

timed as (
    select
        w.*,
        case when w.channel = 'call' and w.window_hour >= 12 and w.window_hour < 14
                  and {{ iso_weekday('w.campaign_date') }} <= 5 then 14
             else w.window_hour end as send_hour
    from windowed w
)

select
    campaign_date,
    campaign_id,
    person_id,
    rule_id,
    channel,
    case when control_bucket * 100 < control_percent * 65536 then 'control' else 'treatment' end as test_group,
    offer,
    template_id,
    cast({{ dbt.dateadd('hour', 'send_hour', dbt.cast('campaign_date', dbt.type_timestamp())) }} as {{ dbt.type_timestamp() }})
        as send_at,
    -- opaque per-person token for the landing link (never a phone); returns are attributed by it.
    -- Its 9th hex digit is made a letter, so no run of 11 digits reads as a mobile number in BI.
    {%- set link_hash = dbt.hash(dbt.concat(["'link:'", 'control_salt', "':'", 'campaign_id', "':'", 'person_id'])) %}
    substring({{ link_hash }}, 1, 8) || translate(substring({{ link_hash }}, 9, 1), '0123456789', 'abcdefabcd')
        || substring({{ link_hash }}, 10, 7) as link_token,
    cost_per_message
from timed
