"""The identity stage: the connected components of the identifier graph (who is one person)."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import daily_partitions, single_run
from orchestration.defs.transform import dbt_before_identity
from orchestration.lib.components import connected_components

EDGES = "intermediate.int_identity_edges"
COMPONENTS = "identity.components"


@dg.asset(
    key=["identity", "components"],
    deps=[get_asset_key_for_model([dbt_before_identity], "int_identity_edges")],
    group_name="identity",
    description=("Connected components of the identity graph: every usable identifier with the smallest key "
                 "of its component (large-star / small-star in portable SQL; fails at the round cap)."),
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="warehouse",
    kinds={"python", "duckdb"},
    owners=["team:data-platform"],
)
def identity_components(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        conn.execute("create schema if not exists identity")
        result = connected_components(conn, EDGES, COMPONENTS, max_rounds=64, scratch="identity.cc")
        edges = conn.execute(f"select count(*) from {EDGES}").fetchone()[0]
    context.log.info(f"identity: {result.nodes:,} identifiers in {result.components:,} persons after "
                     f"{result.rounds} rounds ({result.seconds:.1f}s); largest person has {result.largest} identifiers")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": result.nodes,
        "identifiers": result.nodes,
        "persons": result.components,
        "largest_person_identifiers": result.largest,
        "edges": edges,
        "rounds": result.rounds,
        "seconds": round(result.seconds, 2),
    })
