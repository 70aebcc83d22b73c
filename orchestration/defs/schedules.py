"""One job over every asset, and the daily schedule that runs it for yesterday."""

import dagster as dg

all_assets_job = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    description="Ingest every source for a day (or a range) and build every dbt model on it.",
)

# 02:00 business time (the partitions' time zone) each day, for the previous day's partition.
daily_schedule = dg.build_schedule_from_partitioned_job(
    all_assets_job, hour_of_day=2, minute_of_hour=0, name="daily_pipeline_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
