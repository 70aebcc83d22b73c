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
