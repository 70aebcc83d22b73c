"""Stable person ids on top of the identity graph's connected components.

Components are recomputed from every edge on each run, so their keys (the smallest identifier
key) move whenever a smaller identifier joins a person. Persons must not: everything downstream
hangs from `person_id`. The registry remembers which person each identifier belonged to, as a
history (`valid_from`, `valid_to`; the current row has `valid_to` null), and each run maps the
new components onto it:

- a component whose identifiers belonged to one person keeps that person's id (new identifiers
  joining a person take its id);
- a component holding identifiers of several existing persons (a new edge merged them) keeps the
  **oldest** id (first issued; ties: the smallest id) and records every other one in the merges
  table as `(merged_on, from_person_id, into_person_id)`;
- a person whose identifiers now fall into several components (an identifier turned junk and
  stopped linking) keeps its id in the component that holds most of them (ties: the smallest
  component key); the other parts become new persons;
- a brand-new person gets `p<smallest identifier key>`, deterministic for the same data; should
  that id have been issued before (a junk identifier unblocked later), the run date is appended.

Assigning as of day D first rewinds the registry and the merges to their state before D, so
assigning again for the same day and data gives the same ids (the pipeline dates each run by
the latest arrival day loaded). A full rebuild over many days assigns once, as of its last day:
it gives the same partition of identifiers as the day-by-day path, but the ids may differ: a
rebuild names each person after its smallest identifier key now, the day-by-day path after the
smallest key when the person first appeared (or the oldest survivor of a merge).

Portable like components.py: `CREATE TABLE … AS SELECT` with joins, GROUP BY, ROW_NUMBER() and
UNION ALL, swapped in by rename (in one transaction); no UPDATE, DELETE or MERGE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date

from orchestration.lib.components import Connection, scalar


@dataclass(frozen=True)
class AssignmentResult:
    identifiers: int
    persons: int
    new_persons: int
    merges: int
    splits: int
    changed_identifiers: int
    seconds: float


def ensure_tables(conn: Connection, registry: str, merges: str) -> None:
    conn.execute(f"""create table if not exists {registry} (
        identifier_key bigint, person_id varchar, valid_from date, valid_to date)""")
    conn.execute(f"create table if not exists {merges} (merged_on date, from_person_id varchar, into_person_id varchar)")


def assign_person_ids(conn: Connection, components: str, registry: str, merges: str, as_of: date,
                      scratch: str = "ids") -> AssignmentResult:
    """Map `components(node, component)` onto the registry as of `as_of`; see the module docs."""
    began = time.monotonic()
    d = f"date '{as_of.isoformat()}'"
    suffix = as_of.strftime("%Y%m%d")
    t = {name: f"{scratch}_{name}" for name in
         ("history", "previous", "issued", "claims", "kept", "survivors", "assigned", "next_merges",
          "next_registry", "next")}

    def table(name: str, select: str) -> None:
        conn.execute(f"drop table if exists {t['next']}")
        conn.execute(f"create table {t['next']} as {select}")
        conn.execute(f"drop table if exists {t[name]}")
        conn.execute(f"alter table {t['next']} rename to {t[name].split('.')[-1]}")

    ensure_tables(conn, registry, merges)
    # Rewind: the registry as it stood before as_of (a re-run of a day replaces that day's changes).
    table("history", f"""
        select identifier_key, person_id, valid_from,
               case when valid_to >= {d} then cast(null as date) else valid_to end as valid_to
        from {registry} where valid_from < {d}""")
    table("previous", f"select identifier_key, person_id from {t['history']} where valid_to is null")
    table("issued", f"select person_id, min(valid_from) as issued_on from {t['history']} group by person_id")
    # How many of each old person's identifiers every component holds.
    table("claims", f"""
        select c.component, p.person_id, count(*) as held
        from {components} c join {t['previous']} p on p.identifier_key = c.node
        group by c.component, p.person_id""")
    # An old id stays with the component holding most of its identifiers.
    table("kept", f"""
        select component, person_id from (
            select component, person_id,
                   row_number() over (partition by person_id order by held desc, component) as pick
            from {t['claims']}) as ranked
        where pick = 1""")
    # Among the ids a component keeps, the oldest survives; the others merge into it.
    table("survivors", f"""
        select k.component, k.person_id,
               row_number() over (partition by k.component order by i.issued_on, k.person_id) as rank_in_component
        from {t['kept']} k join {t['issued']} i on i.person_id = k.person_id""")
    table("assigned", f"""
        select c.node as identifier_key,
               coalesce(s.person_id,
                        case when i.person_id is null then 'p' || cast(c.component as varchar)
                             else 'p' || cast(c.component as varchar) || '-{suffix}' end) as person_id
        from {components} c
        left join {t['survivors']} s on s.component = c.component and s.rank_in_component = 1
        left join {t['issued']} i on i.person_id = 'p' || cast(c.component as varchar)""")
    conn.execute("begin transaction")
    try:
        table("next_merges", f"""
            select merged_on, from_person_id, into_person_id from {merges} where merged_on < {d}
            union all
            select {d} as merged_on, m.person_id as from_person_id, s.person_id as into_person_id
            from {t['survivors']} m
            join {t['survivors']} s on s.component = m.component and s.rank_in_component = 1
            where m.rank_in_component > 1""")
        # Unchanged current rows stay; changed or vanished ones close on as_of; new ones open.
        table("next_registry", f"""
            select h.identifier_key, h.person_id, h.valid_from, h.valid_to
            from {t['history']} h
            left join {t['assigned']} a on a.identifier_key = h.identifier_key
            where h.valid_to is not null or a.person_id = h.person_id
            union all
            select h.identifier_key, h.person_id, h.valid_from, {d} as valid_to
            from {t['history']} h
            left join {t['assigned']} a on a.identifier_key = h.identifier_key
            where h.valid_to is null and (a.person_id is null or a.person_id <> h.person_id)
            union all
            select a.identifier_key, a.person_id, {d} as valid_from, cast(null as date) as valid_to
            from {t['assigned']} a
            left join {t['previous']} p on p.identifier_key = a.identifier_key
            where p.person_id is null or p.person_id <> a.person_id""")
        for final, built in ((registry, t["next_registry"]), (merges, t["next_merges"])):
            conn.execute(f"drop table {final}")
            conn.execute(f"alter table {built} rename to {final.split('.')[-1]}")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    result = AssignmentResult(
        identifiers=scalar(conn, f"select count(*) from {t['assigned']}"),
        persons=scalar(conn, f"select count(distinct person_id) from {t['assigned']}"),
        new_persons=scalar(conn, f"""select count(distinct a.person_id) from {t['assigned']} a
                                      left join {t['issued']} i on i.person_id = a.person_id where i.person_id is null"""),
        merges=scalar(conn, f"select count(*) from {merges} where merged_on = {d}"),
        splits=scalar(conn, f"""select count(*) from (select person_id from {t['claims']} group by person_id
                                 having count(*) > 1) as split"""),
        changed_identifiers=scalar(conn, f"select count(*) from {registry} where valid_from = {d}"),
        seconds=0.0,
    )
    for name in t.values():
        conn.execute(f"drop table if exists {name}")
    return replace(result, seconds=time.monotonic() - began)
