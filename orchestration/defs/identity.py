"""The identity stage (orchestration/lib/identity.py does the work): the connected components of
the identifier graph (who is one person), and the stable person ids mapped onto them (who that
person was yesterday), with every merge of two existing persons."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.window import WAREHOUSE_ASSET, window_days
from orchestration.defs.transform import model_key
from orchestration.lib.components import ComponentsDidNotConverge
from orchestration.lib.identity import MAX_ROUNDS, assign_ids, resolve_components

COMPONENTS_KEY = dg.AssetKey(["identity", "components"])
REGISTRY_KEY = dg.AssetKey(["identity", "person_registry"])
MERGES_KEY = dg.AssetKey(["identity", "person_merges"])
SPEC = {"group_name": "identity", "kinds": WAREHOUSE_ASSET["kinds"], "owners": WAREHOUSE_ASSET["owners"]}


@dg.asset(
    key=COMPONENTS_KEY,
    deps=[model_key("int_identity_edges")],
    group_name="identity",
    description=("Who is one person: the connected components of the identity graph, every usable identifier "
                 "with the smallest key of its component (large-star / small-star in portable SQL; the run "
                 f"fails if {MAX_ROUNDS} rounds do not finish, rather than stopping short)."),
    **WAREHOUSE_ASSET,
)
def identity_components(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    try:
        result, edges = resolve_components(warehouse.get_connection)
    except ComponentsDidNotConverge as error:
        raise dg.Failure(str(error)) from error
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


@dg.multi_asset(
    specs=[
        dg.AssetSpec(REGISTRY_KEY, deps=[COMPONENTS_KEY, model_key("int_identifiers")], **SPEC,
                     description=("Stable person ids: each identifier's person over time (valid_from / valid_to). A "
                                  "person keeps its id from run to run; when two existing persons turn out to be one, "
                                  "the oldest id survives and the merge is recorded in identity.person_merges. "
                                  "Re-running a day gives the same ids.")),
        dg.AssetSpec(MERGES_KEY, deps=[COMPONENTS_KEY], **SPEC,
                     description="Every merge of two existing persons (oldest id survives), written with the registry."),
    ],
    check_specs=[
        dg.AssetCheckSpec("every_identifier_has_exactly_one_person", asset=REGISTRY_KEY, blocking=True,
                          description="Every usable identifier belongs to exactly one current person."),
        dg.AssetCheckSpec("no_blocklisted_or_shared_identifier_links_persons", asset=REGISTRY_KEY, blocking=True,
                          description="Identifiers on the blocklist or over a link cap join nobody."),
    ],
    name="identity_person_registry",
    pool=WAREHOUSE_ASSET["pool"],
)
def person_registry(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    as_of, result, health = assign_ids(warehouse.get_connection, window_days(context)[2][-1])
    context.log.info(f"person ids as of {as_of}: {result.persons:,} persons ({result.new_persons:,} new), "
                     f"{result.merges:,} merges, {result.splits:,} splits, {result.changed_identifiers:,} identifiers "
                     f"assigned or moved ({result.seconds:.1f}s)")
    yield dg.MaterializeResult(asset_key=REGISTRY_KEY, metadata={
        "dagster/row_count": result.identifiers,
        "as_of": as_of.isoformat(),
        "persons": result.persons,
        "new_persons": result.new_persons,
        "merges_today": result.merges,
        "splits_today": result.splits,
        "identifiers_assigned_or_moved": result.changed_identifiers,
        "largest_person_identifiers": health.largest_person_identifiers,
        "identifiers_by_type": dg.MetadataValue.json(health.identifiers_by_type),
        "junk_identifiers": dg.MetadataValue.json(health.junk_identifiers),
        "seconds": round(result.seconds, 2),
    })
    yield dg.MaterializeResult(asset_key=MERGES_KEY, metadata={"as_of": as_of.isoformat(), "merges_today": result.merges})
    yield dg.AssetCheckResult(
        asset_key=REGISTRY_KEY, check_name="every_identifier_has_exactly_one_person",
        passed=health.identifiers_without_exactly_one_person == 0 and health.persons_for_unknown_identifiers == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"identifiers_without_exactly_one_person": health.identifiers_without_exactly_one_person,
                  "persons_for_unknown_identifiers": health.persons_for_unknown_identifiers})
    yield dg.AssetCheckResult(
        asset_key=REGISTRY_KEY, check_name="no_blocklisted_or_shared_identifier_links_persons",
        passed=health.junk_identifiers_linked == 0, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"junk_identifiers_linked": health.junk_identifiers_linked})
