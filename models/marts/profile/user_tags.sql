-- Every tag of every person in long form (person_id, tag_group, tag_value), for BI filters and
-- for audience rules: "lifecycle_stage = silent and rfm_segment = important_winback".
with profile as (
    select * from {{ ref('user_profile') }}
),

tags as (
    {%- set groups = ['lifecycle_stage', 'rfm_segment', 'aov_band', 'frequency_band', 'top_category',
                      'top_content_category', 'preferred_channel', 'age_band', 'gender', 'province', 'city'] %}
    {%- for group in groups %}
    select person_id, '{{ group }}' as tag_group, cast({{ group }} as varchar) as tag_value
    from profile where {{ group }} is not null
    union all
    {%- endfor %}
    select person_id, 'value_role', case when is_koc then 'koc' else 'ordinary' end from profile
    union all
    select person_id, 'membership', case when is_member then 'member' else 'non_member' end from profile
)

select * from tags
