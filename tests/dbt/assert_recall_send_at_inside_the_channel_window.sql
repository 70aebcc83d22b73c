-- Every recall contact is timed inside its channel's send window (recall_channels), on its
-- campaign day, and no call lands on a weekday between 12:00 and 14:00.
select a.campaign_id, a.person_id, a.channel, a.send_at
from {{ ref('recall_audience') }} a
join {{ ref('recall_channels') }} c on c.channel = a.channel
where cast(a.send_at as date) <> a.campaign_date
   or extract(hour from a.send_at) < c.window_start_hour
   or extract(hour from a.send_at) >= c.window_end_hour
   or (a.channel = 'call' and {{ iso_weekday('a.campaign_date') }} <= 5
       and extract(hour from a.send_at) >= 12 and extract(hour from a.send_at) < 14)
