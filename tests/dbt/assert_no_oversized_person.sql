-- No person may hold more identifiers than var('max_identifiers_per_person'): a giant component
-- means a shared identifier slipped past the blocklist and the caps.
select person_id, count(*) as identifiers
from {{ ref('identity_map') }}
group by person_id
having count(*) > {{ var('max_identifiers_per_person', 200) }}
