"""One job over every asset, and the daily schedule that runs it for yesterday (and for any
earlier day that landed but never completed, or whose files changed since its run: see
orchestration/lib/run_days.py)."""

from datetime import datetime, timedelta

import dagster as dg

from orchestration.lib.run_days import due_window, window_tags
from orchestration.settings import Settings

all_assets_job = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    description="Ingest every source for a day (or a range) and build every dbt model on it.",
)


def scheduled_request(settings: Settings, tick: datetime) -> dg.RunRequest:
    """Yesterday in business time, widened back to the first earlier day to run again."""
    from zoneinfo import ZoneInfo

    import duckdb

    day = tick.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1)
    try:
        first, last, reasons = due_window(settings.warehouse, settings.landing, day)
    except duckdb.IOException:          # a run is writing: the launched run checks again once it holds the lock
        return dg.RunRequest(run_key=day.isoformat(), tags={
            **window_tags(day, day), "userops/catch_up": "not known at the tick (the warehouse was busy)"})
    if not reasons:
        return dg.RunRequest(run_key=day.isoformat(), tags=window_tags(day, day))
    return dg.RunRequest(run_key=f"{first}..{last}", tags={
        **window_tags(first, last), "userops/catch_up": "; ".join(reasons)[:4000]})


@dg.schedule(job=all_assets_job, cron_schedule="0 2 * * *", name="daily_pipeline_schedule",
             execution_timezone=Settings.from_env().timezone, default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """02:00 business time each day, for the previous day."""
    return scheduled_request(Settings.from_env(), context.scheduled_execution_time)
