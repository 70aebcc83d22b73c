-- Persons holding an identifier on the suppression_list seed (phones typed as 11 digits or E.164,
-- emails as typed): the whole person is never contacted. A view, so the writers' re-check right
-- before writing reads the list as it is then.
select distinct m.person_id
from {{ ref('suppression_list') }} s
join {{ ref('identity_map') }} m
    on m.identifier_type = s.identifier_type
   and m.identifier_value = case
        when s.identifier_type = 'phone' and s.identifier_value not like '+%' then {{ dbt.concat(["'+86'", "s.identifier_value"]) }}
        when s.identifier_type = 'email' then lower(trim(s.identifier_value))
        else trim(s.identifier_value) end
