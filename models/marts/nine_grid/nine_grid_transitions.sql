{{ config(materialized='incremental', incremental_strategy='append',
          pre_hook="{{ delete_run_window('to_date') }}") }}

-- How many users moved from each cell to each cell between a snapshot day and the day one lag
-- earlier (lags in the nine_grid_lags seed: a day, a week, a month). Persons present on both
-- days; each (from_date, to_date) sums to the persons present on both.
-- "Users from cell 4 to cell 7 this week":
--   select users from marts.nine_grid_transitions
--   where to_date = date '2026-10-31' and lag_days = 7 and from_cell = 4 and to_cell = 7
with daily as (
    select snapshot_date, person_id, cell from {{ ref('nine_grid_daily') }}
),

pairs as (
    select
        f.snapshot_date as from_date,
        t.snapshot_date as to_date,
        l.lag_days,
        l.lag_name,
        f.cell as from_cell,
        t.cell as to_cell
    from daily t
    cross join {{ ref('nine_grid_lags') }} l
    join daily f
        on f.person_id = t.person_id
       and f.snapshot_date = cast({{ dbt.dateadd('day', '-l.lag_days', 't.snapshot_date') }} as date)
    where {{ run_window('t.snapshot_date') }}
)

select from_date, to_date, lag_days, lag_name, from_cell, to_cell, count(*) as users
from pairs
group by from_date, to_date, lag_days, lag_name, from_cell, to_cell
