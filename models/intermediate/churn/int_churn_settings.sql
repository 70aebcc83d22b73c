-- The churn_settings seed as one typed row, to cross join where a setting is needed.
select
    max(case when setting = 'retention_curve_days' then cast(value as {{ dbt.type_int() }}) end) as retention_curve_days,
    max(case when setting = 'min_buyers_to_fit' then cast(value as {{ dbt.type_int() }}) end) as min_buyers_to_fit,
    max(case when setting = 'active_within_days' then cast(value as {{ dbt.type_int() }}) end) as active_within_days,
    max(case when setting = 'warning_max_p_alive' then cast(value as {{ dbt.type_float() }}) end) as warning_max_p_alive,
    max(case when setting = 'warning_min_value_level' then value end) as warning_min_value_level
from {{ ref('churn_settings') }}
