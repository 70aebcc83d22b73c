"""The dbt project as Dagster assets, in four partitioned, single-run-backfill `dbt build`s around
the Python stages: everything the identity graph's edges need; then everything after the
identity stage up to the buyers' purchase histories; then everything that reads the purchase
model fitted on them (the profile's p_alive and what follows from the profile, recall's
audiences); then the recall outcomes, which read the contact log the outbox writes."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import dbt_project
from orchestration.defs.partitions import daily_partitions, single_run
from orchestration.lib.dbt_args import build_args
from orchestration.lib.dbt_metadata import with_table_metadata
from orchestration.lib.translator import translator

# dbt nodes the connected-components asset reads (int_identity_edges and all it depends on).
BEFORE_IDENTITY = "+int_identity_edges"
# dbt nodes that read the purchase model fitted by the churn stage (and all that follows them).
AFTER_PURCHASE_MODEL = "source:churn.purchase_model+"
# dbt nodes that read the contact log as the recall outbox writes it (the billed cost).
AFTER_OUTBOX = "recall_outcomes"


def dbt_build(name: str, **selection: str) -> dg.AssetsDefinition:
    """A `dbt build` of the selected nodes for the run's arrival-day window [min_date, max_date)."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,     # not project=: it only adds an unserializable entry to every asset
        dagster_dbt_translator=translator,
        name=name,
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        pool="warehouse",
        **selection,
    )
    def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBResource):
        invocation = dbt.cli(build_args(context.partition_time_window), context=context)
        # Held back until dbt has exited, then reported with their row counts and full column
        # schemas read from the warehouse (one process at a time holds the DuckDB file).
        events, failure = [], None
        try:
            for event in invocation.stream():
                events.append(event)
        except Exception as error:       # a failed node: what was built is still reported, then the step fails
            failure = error
        with warehouse.get_connection() as conn:
            yield from with_table_metadata(events, invocation.manifest, conn)
        if failure is not None:
            raise failure

    return _build


dbt_before_identity = dbt_build("dbt_before_identity", select=BEFORE_IDENTITY)
dbt_after_identity = dbt_build("dbt_after_identity", exclude=f"{BEFORE_IDENTITY} {AFTER_PURCHASE_MODEL}")
dbt_after_purchase_model = dbt_build("dbt_after_purchase_model", select=AFTER_PURCHASE_MODEL, exclude=AFTER_OUTBOX)
dbt_after_outbox = dbt_build("dbt_after_outbox", select=AFTER_OUTBOX)
dbt_models = [dbt_before_identity, dbt_after_identity, dbt_after_purchase_model, dbt_after_outbox]


def model_key(name: str) -> dg.AssetKey:
    """The asset key of a dbt model or seed, whichever of the three builds holds it."""
    keys = {key.path[-1]: key for build in dbt_models for key in build.keys}
    if name not in keys:
        raise KeyError(f"no dbt model or seed named {name!r} in the manifest")
    return keys[name]
