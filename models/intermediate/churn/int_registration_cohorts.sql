-- Every registered person in their day, week (Monday to Sunday) and month cohort. Registration
-- is the first register / member_register record; persons registered before the loaded history
-- have none and belong to no cohort.
with registrations as (
    select person_id, min(activity_date) as registered_on
    from {{ ref('int_person_activity_daily') }}
    where registrations > 0
    group by person_id
),

cohort_types as (
    select 'day' as cohort_type
    union all select 'week'
    union all select 'month'
),

cohorts as (
    select
        r.person_id,
        r.registered_on,
        t.cohort_type,
        case t.cohort_type
            when 'day' then r.registered_on
            when 'week' then cast({{ dbt.date_trunc('week', 'r.registered_on') }} as date)
            else cast({{ dbt.date_trunc('month', 'r.registered_on') }} as date)
        end as cohort_start
    from registrations r
    cross join cohort_types t
)

select
    person_id,
    registered_on,
    cohort_type,
    cohort_start,
    -- the cohort's last day: the day itself, the Sunday, the month's last day
    case cohort_type
        when 'day' then cohort_start
        when 'week' then cast({{ dbt.dateadd('day', 6, 'cohort_start') }} as date)
        else cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'cohort_start')) }} as date)
    end as cohort_end
from cohorts
