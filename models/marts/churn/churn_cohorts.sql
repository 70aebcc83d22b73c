-- Churn per registration cohort and cycle (the churn_cycles seed): a cohort member has churned
-- in a cycle when they show no key behaviour in the cycle's window, which starts the day after
-- the cohort's period (day, week or month) and lasts window_length days, weeks or months. A
-- cohort appears once its window has closed (its last day is loaded) and only if its period
-- lies within the loaded history (a week cut by the first loaded day would look small).
with history as (
    select min(arrived_on) as first_day, max(arrived_on) as as_of_date
    from {{ ref('int_person_activity_daily') }}
),

members as (
    select * from {{ ref('int_registration_cohorts') }}
),

key_behaviour_days as (
    select distinct person_id, activity_date
    from {{ ref('int_person_activity_daily') }}
    where key_behaviours > 0
),

windows as (
    select
        c.cycle,
        m.cohort_type,
        m.cohort_start,
        m.cohort_end,
        count(*) as cohort_size,
        cast({{ dbt.dateadd('day', 1, 'm.cohort_end') }} as date) as window_start,
        cast(case c.window_unit
            when 'day' then {{ dbt.dateadd('day', 'c.window_length', 'm.cohort_end') }}
            when 'week' then {{ dbt.dateadd('day', '7 * c.window_length', 'm.cohort_end') }}
            else {{ dbt.dateadd('day', -1, dbt.dateadd('month', 'c.window_length', dbt.dateadd('day', 1, 'm.cohort_end'))) }}
        end as date) as window_end
    from members m
    join {{ ref('churn_cycles') }} c on c.cohort_type = m.cohort_type
    group by c.cycle, c.window_unit, c.window_length, m.cohort_type, m.cohort_start, m.cohort_end
),

closed as (
    select w.*
    from windows w
    cross join history h
    where w.cohort_start >= h.first_day and w.window_end <= h.as_of_date
),

retained as (
    select w.cycle, w.cohort_type, w.cohort_start, count(distinct m.person_id) as retained_users
    from closed w
    join members m on m.cohort_type = w.cohort_type and m.cohort_start = w.cohort_start
    join key_behaviour_days k
        on k.person_id = m.person_id and k.activity_date between w.window_start and w.window_end
    group by w.cycle, w.cohort_type, w.cohort_start
)

select
    w.cohort_type,
    w.cohort_start,
    w.cohort_end,
    w.cycle,
    w.window_start,
    w.window_end,
    w.cohort_size,
    w.cohort_size - coalesce(r.retained_users, 0) as churned_users,
    round(cast(w.cohort_size - coalesce(r.retained_users, 0) as {{ dbt.type_numeric() }}) / w.cohort_size, 4)
        as churn_rate,
    coalesce(r.retained_users, 0) as retained_users,
    round(cast(coalesce(r.retained_users, 0) as {{ dbt.type_numeric() }}) / w.cohort_size, 4) as retention_rate
from closed w
left join retained r
    on r.cycle = w.cycle and r.cohort_type = w.cohort_type and r.cohort_start = w.cohort_start
