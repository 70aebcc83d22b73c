-- Identifiers kept out of linking: on the blocklist, or seen with more distinct identifiers than
-- their type's cap. They stay on their records for analytics but never join two persons.
select
    identifier_type,
    wechat_app,
    identifier_value,
    junk_reason as reason,
    linked_count,
    observations,
    first_seen_at,
    last_seen_at
from {{ ref('int_identifiers') }}
where junk_reason is not null
