-- The recall_settings seed as one typed row, to cross join where a setting is needed.
select
    max(case when setting = 'max_contacts_30d' then cast(value as {{ dbt.type_int() }}) end) as max_contacts_30d,
    max(case when setting = 'min_days_between_contacts' then cast(value as {{ dbt.type_int() }}) end)
        as min_days_between_contacts,
    max(case when setting = 'control_percent' then cast(value as {{ dbt.type_int() }}) end) as control_percent,
    max(case when setting = 'control_salt' then value end) as control_salt,
    max(case when setting = 'return_window_days' then cast(value as {{ dbt.type_int() }}) end) as return_window_days,
    max(case when setting = 'landing_base_url' then value end) as landing_base_url,
    max(case when setting = 'outbox_retention_days' then cast(value as {{ dbt.type_int() }}) end)
        as outbox_retention_days,
    max(case when setting = 'min_group_for_lift' then cast(value as {{ dbt.type_int() }}) end) as min_group_for_lift,
    max(case when setting = 'short_link_base' then value end) as short_link_base,
    max(case when setting = 'sms_variable_max_chars' then cast(value as {{ dbt.type_int() }}) end)
        as sms_variable_max_chars
from {{ ref('recall_settings') }}
