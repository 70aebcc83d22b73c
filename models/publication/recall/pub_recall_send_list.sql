{#- The recall audience as the outbox writes it: each treatment and control row of recall_audience
    with the address its channel needs, the offer's text, and consent and suppression read again
    now — a view, so the re-check sees the consent events as they are when the writers run, not as
    they were when the audience was built. `recheck` names why a row must not be sent; null means
    send. -#}
with addresses as (
    -- one address per person and channel; ads carry the email beside the phone
    select
        person_id,
        channel,
        max(case when not (channel = 'ads' and address_kind = 'email') then address end) as address,
        max(case when not (channel = 'ads' and address_kind = 'email') then address_kind end) as address_kind,
        max(owner) as owner,
        max(case when channel = 'ads' and address_kind = 'email' then address end) as email
    from {{ ref('int_recall_addresses') }}
    group by person_id, channel
)

select
    a.campaign_date,
    a.campaign_id,
    a.person_id,
    a.rule_id,
    a.channel,
    a.test_group,
    a.send_at,
    a.link_token,
    ad.address,
    ad.address_kind,
    ad.owner,
    ad.email,
    o.offer_text_zh as offer_text,
    case
        when coalesce(cc.opted_out, false) then 'opted_out_since_the_audience_was_built'
        when ch.needs_opt_in and not coalesce(cc.opted_in, false) then 'no_opt_in'
        when sp.person_id is not null then 'suppressed'
        when ad.address is null and ad.email is null then 'no_usable_identifier'
    end as recheck
from {{ ref('recall_audience') }} as a
inner join {{ ref('recall_offers') }} as o on o.offer = a.offer
inner join {{ ref('recall_channels') }} as ch on ch.channel = a.channel
left join addresses as ad on ad.person_id = a.person_id and ad.channel = a.channel
left join {{ ref('int_recall_channel_consent') }} as cc on cc.person_id = a.person_id and cc.channel = a.channel
left join {{ ref('int_recall_suppressed_persons') }} as sp on sp.person_id = a.person_id
