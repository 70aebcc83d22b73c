"""The dbt project as Dagster assets, in two partitioned, single-run-backfill `dbt build`s around
the identity stage: everything the identity graph's edges need, then everything after it."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import dbt_project
from orchestration.defs.partitions import daily_partitions, single_run
from orchestration.lib.dbt_args import build_args
from orchestration.lib.translator import translator

# dbt nodes the connected-components asset reads (int_identity_edges and all it depends on).
BEFORE_IDENTITY = "+int_identity_edges"


def dbt_build(name: str, **selection: str) -> dg.AssetsDefinition:
    """A `dbt build` of the selected nodes for the run's arrival-day window [min_date, max_date)."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=translator,
        name=name,
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        pool="warehouse",
        **selection,
    )
    def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(build_args(context.partition_time_window), context=context).stream()

    return _build


dbt_before_identity = dbt_build("dbt_before_identity", select=BEFORE_IDENTITY)
dbt_after_identity = dbt_build("dbt_after_identity", exclude=BEFORE_IDENTITY)
dbt_models = [dbt_before_identity, dbt_after_identity]
