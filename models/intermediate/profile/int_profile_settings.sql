-- The profile_settings seed as one typed row, to cross join where a threshold is needed.
{%- set names = ['new_days', 'silent_days', 'churn_days', 'history_days', 'interaction_half_life_days',
                 'koc_min_converted_invites', 'koc_min_shares', 'koc_min_followers'] %}
select
    {%- for name in names %}
    max(case when setting = '{{ name }}' then cast(value as {{ dbt.type_int() }}) end) as {{ name }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
from {{ ref('profile_settings') }}
