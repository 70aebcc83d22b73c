"""The dbt project as one `@dbt_assets`, built for the run's arrival days. The Python stages sit
between its models (identity components after the edges, the purchase model after the
histories, the outbox before recall_outcomes): Dagster runs the dbt assets on each side of them
as separate steps of the same definition, each one `dbt build` of its part of the run's window."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets, get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import dbt_project
from orchestration.defs.window import window_days
from orchestration.lib.dbt_args import build_args
from orchestration.lib.dbt_metadata import with_table_metadata
from orchestration.lib.translator import translator


@dbt_assets(
    manifest=dbt_project.manifest_path,     # not project=: it only adds an unserializable entry to every asset
    dagster_dbt_translator=translator,
    name="dbt_models",
    pool="warehouse",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBResource):
    """A `dbt build` of this step's models for the run's arrival-day window [start, end)."""
    invocation = dbt.cli(build_args(*window_days(context)[:2]), context=context)
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


def model_key(name: str) -> dg.AssetKey:
    """The asset key of a dbt model or seed."""
    return get_asset_key_for_model([dbt_models], name)
