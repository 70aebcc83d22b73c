"""The run-failure sensor: every failed run (schedule, UI or CLI, once the daemon sees it) gives
one alert line per root failure, unless Dagster will retry it (orchestration/lib/alerts.py)."""

import dagster as dg

from orchestration.lib import alerts
from orchestration.lib.run_days import run_window
from orchestration.settings import Settings


@dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="One line per root failure to USEROPS_ALERT_FILE and USEROPS_ALERT_WEBHOOK.")
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    if alerts.will_retry(run.tags):
        return
    failures = [(event.step_key, alerts.root_message(event.event_specific_data.error))
                for event in context.get_step_failure_events()]
    settings = Settings.from_env()
    window = run_window(run.tags)
    days = "" if window is None else str(window[0]) if window[0] == window[1] else f"{window[0]}–{window[1]}"
    run_error = alerts.root_message(getattr(context.failure_event.event_specific_data, "error", None))
    alerts.send(alerts.failure_lines(run.run_id, run.job_name, days, failures, run_error), settings.alert_file,
                settings.alert_webhook)
