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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select=BEFORE_IDENTITY,
    name="dbt_before_identity",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="warehouse",
)
def dbt_before_identity(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build up to the identity graph's edges, for the run's arrival-day window."""
    yield from dbt.cli(build_args(context.partition_time_window), context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=BEFORE_IDENTITY,
    name="dbt_after_identity",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="warehouse",
)
def dbt_after_identity(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build of everything downstream of (or beside) the identity stage."""
    yield from dbt.cli(build_args(context.partition_time_window), context=context).stream()


dbt_models = [dbt_before_identity, dbt_after_identity]
