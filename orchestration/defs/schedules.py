"""One job over every asset, and the daily schedule that runs it for yesterday (and for any
earlier day that landed but never completed, or whose files changed since its run: see
orchestration/lib/run_days.py)."""

from datetime import datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.lib.run_days import catch_up
from orchestration.settings import Settings

all_assets_job = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    description="Ingest every source for a day (or a range) and build every dbt model on it.",
)


def scheduled_request(settings: Settings, tick: datetime) -> dg.RunRequest:
    """Yesterday's partition in business time, widened back to the first earlier day to run again."""
    from zoneinfo import ZoneInfo

    import duckdb

    day = tick.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1)
    try:
        earlier = catch_up(settings.warehouse, settings.landing, day)
    except duckdb.IOException:          # a run is writing: the launched run checks again once it holds the lock
        return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat(),
                             tags={"userops/catch_up": "not known at the tick (the warehouse was busy)"})
    if not earlier.first:
        return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
    return dg.RunRequest(run_key=f"{earlier.first}..{day}", tags={
        ASSET_PARTITION_RANGE_START_TAG: earlier.first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: day.isoformat(),
        "userops/catch_up": "; ".join(earlier.reasons())[:4000]})


@dg.schedule(job=all_assets_job, cron_schedule="0 2 * * *", name="daily_pipeline_schedule",
             execution_timezone=Settings.from_env().timezone, default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """02:00 business time each day, for the previous day's partition."""
    return scheduled_request(Settings.from_env(), context.scheduled_execution_time)
