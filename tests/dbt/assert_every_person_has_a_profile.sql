-- Every person of the identity graph has a row in user_profile.
select p.person_id
from {{ ref('persons') }} p
left join {{ ref('user_profile') }} u on u.person_id = p.person_id
where u.person_id is null
