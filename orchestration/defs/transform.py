"""The dbt project as Dagster assets: one partitioned, single-run-backfill `dbt build`."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import dbt_project
from orchestration.defs.partitions import daily_partitions, single_run
from orchestration.lib.dbt_args import build_args
from orchestration.lib.translator import translator


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool="warehouse",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build for the run's arrival-day window, passed as vars min_date / max_date."""
    yield from dbt.cli(build_args(context.partition_time_window), context=context).stream()
