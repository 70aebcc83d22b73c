{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_run_window('snapshot_date') }}") }}

-- Users and share of each of the nine cells on each snapshot day (every cell, empty ones too).
-- "Share of cell 9 over time": select snapshot_date, share from marts.nine_grid_summary where cell = 9
with daily as (
    select * from {{ ref('nine_grid_daily') }}
    where {{ run_window('snapshot_date') }}
),

days as (
    select snapshot_date, count(*) as population from daily group by snapshot_date
),

counts as (
    select snapshot_date, cell, count(*) as users from daily group by snapshot_date, cell
)

select
    d.snapshot_date,
    c.cell,
    c.value_level,
    c.engagement_level,
    coalesce(n.users, 0) as users,
    cast(coalesce(n.users, 0) as double) / d.population as share
from days d
cross join {{ ref('nine_grid_cells') }} c
left join counts n on n.snapshot_date = d.snapshot_date and n.cell = c.cell
