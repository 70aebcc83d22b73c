-- The retention table: of the persons registered in a cohort, how many showed a key behaviour
-- on the Nth day after their own registration day (N = 1 .. retention_curve_days in the
-- churn_settings seed), in the articles' form "registered 83,990, retained 51,568, 61%". A
-- cohort's day N appears once it has been seen for every member (cohort end + N loaded).
with history as (
    select min(arrived_on) as first_day, max(arrived_on) as as_of_date
    from {{ ref('int_person_activity_daily') }}
),

members as (
    select * from {{ ref('int_registration_cohorts') }}
),

cohorts as (
    select cohort_type, cohort_start, cohort_end, count(*) as registered_users
    from members
    group by cohort_type, cohort_start, cohort_end
),

day_numbers as (
    select generated_number as day_number
    from ({{ dbt.generate_series(366) }}) as series
    cross join {{ ref('int_churn_settings') }} s
    where generated_number <= s.retention_curve_days
),

observed as (
    select c.*, d.day_number
    from cohorts c
    cross join day_numbers d
    cross join history h
    where c.cohort_start >= h.first_day
      and {{ dbt.dateadd('day', 'd.day_number', 'c.cohort_end') }} <= h.as_of_date
),

retained as (
    select m.cohort_type, m.cohort_start, {{ dbt.datediff('m.registered_on', 'a.activity_date', 'day') }} as day_number,
           count(distinct m.person_id) as retained_users
    from members m
    cross join {{ ref('int_churn_settings') }} s
    join {{ ref('int_person_activity_daily') }} a
        on a.person_id = m.person_id and a.key_behaviours > 0 and a.activity_date > m.registered_on
       and {{ dbt.datediff('m.registered_on', 'a.activity_date', 'day') }} <= s.retention_curve_days
    group by m.cohort_type, m.cohort_start, {{ dbt.datediff('m.registered_on', 'a.activity_date', 'day') }}
)

select
    o.cohort_type,
    o.cohort_start,
    o.cohort_end,
    o.day_number,
    o.registered_users,
    coalesce(r.retained_users, 0) as retained_users,
    round(cast(coalesce(r.retained_users, 0) as {{ dbt.type_numeric() }}) / o.registered_users, 4) as retention_rate
from observed o
left join retained r
    on r.cohort_type = o.cohort_type and r.cohort_start = o.cohort_start and r.day_number = o.day_number
