"""The identity stage: the connected components of the identifier graph (who is one person), and
the stable person ids mapped onto them (who that person was yesterday)."""

from datetime import date

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.transform import dbt_before_identity
from orchestration.lib.components import connected_components, scalar
from orchestration.lib.person_ids import assign_person_ids

EDGES = "intermediate.int_identity_edges"
IDENTIFIERS = "intermediate.int_identifiers"
COMPONENTS = "identity.components"
REGISTRY = "identity.person_registry"
MERGES = "identity.person_merges"
LEDGER = "raw.ingested_files"
MAX_ROUNDS = 64

COMPONENTS_KEY = dg.AssetKey(["identity", "components"])
REGISTRY_KEY = dg.AssetKey(["identity", "person_registry"])


@dg.asset(
    key=COMPONENTS_KEY,
    deps=[get_asset_key_for_model([dbt_before_identity], "int_identity_edges")],
    group_name="identity",
    description=("Who is one person: the connected components of the identity graph, every usable identifier "
                 "with the smallest key of its component (large-star / small-star in portable SQL; the run "
                 f"fails if {MAX_ROUNDS} rounds do not finish, rather than stopping short)."),
    **DAILY_WAREHOUSE_ASSET,
)
def identity_components(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        conn.execute("create schema if not exists identity")
        result = connected_components(conn, EDGES, COMPONENTS, max_rounds=MAX_ROUNDS, scratch="identity.cc")
        edges = scalar(conn, f"select count(*) from {EDGES}")
    context.log.info(f"identity: {result.nodes:,} identifiers in {result.components:,} components after "
                     f"{result.rounds} rounds ({result.seconds:.1f}s); the largest has {result.largest} identifiers")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": result.nodes,
        "identifiers": result.nodes,
        "components": result.components,
        "largest_component_identifiers": result.largest,
        "edges": edges,
        "rounds": result.rounds,
        "seconds": round(result.seconds, 2),
    })


@dg.asset(
    key=REGISTRY_KEY,
    deps=[COMPONENTS_KEY, get_asset_key_for_model([dbt_before_identity], "int_identifiers")],
    group_name="identity",
    description=("Stable person ids: each identifier's person over time (valid_from / valid_to). A person keeps "
                 "its id from run to run; when two existing persons turn out to be one, the oldest id survives "
                 "and the merge is recorded in identity.person_merges. Re-running a day gives the same ids."),
    **DAILY_WAREHOUSE_ASSET,
    check_specs=[
        dg.AssetCheckSpec("every_identifier_has_exactly_one_person", asset=REGISTRY_KEY, blocking=True,
                          description="Every usable identifier belongs to exactly one current person."),
        dg.AssetCheckSpec("no_blocklisted_or_shared_identifier_links_persons", asset=REGISTRY_KEY, blocking=True,
                          description="Identifiers on the blocklist or over a link cap join nobody."),
    ],
)
def person_registry(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    # The graph is built from everything loaded so far, so the registry is dated by the latest
    # arrival day loaded, not by the partition being run: re-running an older day recomputes the
    # same graph on the same date and leaves the ids as they were.
    run_end = date.fromisoformat(context.partition_key_range.end)
    with warehouse.get_connection() as conn:
        loaded = conn.execute(f"select max(_dt) from {LEDGER}").fetchone()[0]
        as_of = max(run_end, loaded) if loaded else run_end
        result = assign_person_ids(conn, COMPONENTS, REGISTRY, MERGES, as_of, scratch="identity.ids")
        current = f"(select * from {REGISTRY} where valid_to is null)"
        not_one = scalar(conn, f"""
            select count(*) from {COMPONENTS} c
            left join (select identifier_key, count(*) as n from {current} r group by identifier_key) r
              on r.identifier_key = c.node
            where coalesce(r.n, 0) <> 1""")
        orphans = scalar(conn, f"""select count(*) from {current} r left join {COMPONENTS} c on c.node = r.identifier_key
                                   where c.node is null""")
        junk_linked = scalar(conn, f"""select count(*) from {IDENTIFIERS} i join {COMPONENTS} c on c.node = i.identifier_key
                                       where i.junk_reason is not null""")
        by_type = conn.execute(f"""
            select i.identifier_type, count(*) from {current} r join {IDENTIFIERS} i using (identifier_key)
            group by i.identifier_type order by 2 desc""").fetchall()
        junk = conn.execute(f"""
            select split_part(junk_reason, ':', 1) as kind, count(*) from {IDENTIFIERS}
            where junk_reason is not null group by 1 order by 2 desc""").fetchall()
        largest = scalar(conn, f"select coalesce(max(n), 0) from (select count(*) as n from {current} r group by person_id) s")
    context.log.info(f"person ids as of {as_of}: {result.persons:,} persons ({result.new_persons:,} new), "
                     f"{result.merges:,} merges, {result.splits:,} splits, {result.changed_identifiers:,} identifiers "
                     f"assigned or moved ({result.seconds:.1f}s)")
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": result.identifiers,
        "as_of": as_of.isoformat(),
        "persons": result.persons,
        "new_persons": result.new_persons,
        "merges_today": result.merges,
        "splits_today": result.splits,
        "identifiers_assigned_or_moved": result.changed_identifiers,
        "largest_person_identifiers": largest,
        "identifiers_by_type": dg.MetadataValue.json(dict(by_type)),
        "junk_identifiers": dg.MetadataValue.json(dict(junk)),
        "seconds": round(result.seconds, 2),
    })
    yield dg.AssetCheckResult(
        check_name="every_identifier_has_exactly_one_person", passed=not_one == 0 and orphans == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"identifiers_without_exactly_one_person": not_one, "persons_for_unknown_identifiers": orphans})
    yield dg.AssetCheckResult(
        check_name="no_blocklisted_or_shared_identifier_links_persons", passed=junk_linked == 0,
        severity=dg.AssetCheckSeverity.ERROR, metadata={"junk_identifiers_linked": junk_linked})


# Tables the registry and the recall writers keep beside their own asset, shown in their stage's
# group (dbt reads them as sources). No edge from the writer: the contact log is both read by the
# caps and written after them, and an edge would make the graph circular (the UI cannot draw it).
person_merges_table = dg.AssetSpec(
    ["identity", "person_merges"], group_name="identity", owners=["team:data-platform"],
    description="Every merge of two existing persons (oldest id survives), written by identity/person_registry.")
