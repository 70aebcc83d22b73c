"""The identity stage on the warehouse: the connected components of the identifier graph
(orchestration/lib/components.py) and the stable person ids mapped onto them
(orchestration/lib/person_ids.py), with the figures and health checks the run reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from orchestration.lib.components import ComponentsResult, connected_components, scalar
from orchestration.lib.person_ids import AssignmentResult, assign_person_ids
from orchestration.lib.raw_store import LEDGER
from orchestration.lib.relations import relation

COMPONENTS = "identity.components"
REGISTRY = "identity.person_registry"
MERGES = "identity.person_merges"
MAX_ROUNDS = 64


def resolve_components(connect: Callable) -> tuple[ComponentsResult, int]:
    """identity.components from int_identity_edges; the result and the number of edges."""
    edges = relation("int_identity_edges")
    with connect() as conn:
        conn.execute("create schema if not exists identity")
        result = connected_components(conn, edges, COMPONENTS, max_rounds=MAX_ROUNDS, scratch="identity.cc")
        return result, scalar(conn, f"select count(*) from {edges}")


@dataclass(frozen=True)
class RegistryHealth:
    identifiers_without_exactly_one_person: int
    persons_for_unknown_identifiers: int
    junk_identifiers_linked: int
    largest_person_identifiers: int
    identifiers_by_type: dict
    junk_identifiers: dict


def assign_ids(connect: Callable, run_end: date) -> tuple[date, AssignmentResult, RegistryHealth]:
    """Person ids as of the latest arrival day loaded (not the partition being run: re-running an
    older day recomputes the same graph on the same date and leaves the ids as they were)."""
    identifiers = relation("int_identifiers")
    with connect() as conn:
        loaded = conn.execute(f"select max(_dt) from {LEDGER}").fetchone()[0]
        as_of = max(run_end, loaded) if loaded else run_end
        result = assign_person_ids(conn, COMPONENTS, REGISTRY, MERGES, as_of, scratch="identity.ids")
        current = f"(select * from {REGISTRY} where valid_to is null)"
        health = RegistryHealth(
            identifiers_without_exactly_one_person=scalar(conn, f"""
                select count(*) from {COMPONENTS} c
                left join (select identifier_key, count(*) as n from {current} r group by identifier_key) r
                  on r.identifier_key = c.node
                where coalesce(r.n, 0) <> 1"""),
            persons_for_unknown_identifiers=scalar(conn, f"""
                select count(*) from {current} r left join {COMPONENTS} c on c.node = r.identifier_key
                where c.node is null"""),
            junk_identifiers_linked=scalar(conn, f"""
                select count(*) from {identifiers} i join {COMPONENTS} c on c.node = i.identifier_key
                where i.junk_reason is not null"""),
            largest_person_identifiers=scalar(conn, f"""
                select coalesce(max(n), 0) from (select count(*) as n from {current} r group by person_id) s"""),
            identifiers_by_type=dict(conn.execute(f"""
                select i.identifier_type, count(*) from {current} r join {identifiers} i using (identifier_key)
                group by i.identifier_type order by 2 desc""").fetchall()),
            junk_identifiers=dict(conn.execute(f"""
                select split_part(junk_reason, ':', 1) as kind, count(*) from {identifiers}
                where junk_reason is not null group by 1 order by 2 desc""").fetchall()),
        )
    return as_of, result, health
