-- One row per merge of two existing persons: from merged_on, from_person_id is into_person_id.
-- Downstream tables keyed by person_id (profiles, audiences, contact logs) follow these rows to
-- carry a merged person's history over to the survivor.
select
    merged_on,
    from_person_id,
    into_person_id
from {{ ref('stg_identity__person_merges') }}
