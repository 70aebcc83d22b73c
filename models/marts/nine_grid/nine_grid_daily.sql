{{ config(materialized='incremental', incremental_strategy='append', event_time='snapshot_date',
          pre_hook="{{ delete_run_window('snapshot_date') }}") }}

-- Every person's nine-grid cell on every snapshot day: cell = 3 × value index + engagement
-- index + 1 (low = 0, mid = 1, high = 2), so cell 1 is low value / low engagement and cell 9
-- high / high. Levels come from user_profile_daily (fixed thresholds in nine_grid_thresholds).
select
    d.snapshot_date,
    d.person_id,
    d.value_level,
    d.engagement_level,
    c.cell
from {{ ref('user_profile_daily') }} d
join {{ ref('nine_grid_cells') }} c
    on c.value_level = d.value_level and c.engagement_level = d.engagement_level
where {{ run_window('d.snapshot_date') }}
