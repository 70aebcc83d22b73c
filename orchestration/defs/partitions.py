"""Daily partitions on the arrival day (dt) in the business time zone."""

import dagster as dg

from orchestration.settings import Settings

_settings = Settings.from_env()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_settings.start_date.isoformat(),
    timezone=_settings.timezone,
)

# A date range runs as one run (one dbt invocation for the whole range), not one run per day.
single_run = dg.BackfillPolicy.single_run()

# What every Python asset writing the warehouse shares: partitioned by day, one run per range,
# in the `warehouse` pool (DuckDB has one writer), owned by the platform team.
DAILY_WAREHOUSE_ASSET = {
    "partitions_def": daily_partitions,
    "backfill_policy": single_run,
    "pool": "warehouse",
    "kinds": {"python", "duckdb"},
    "owners": ["team:data-platform"],
}
