"""Pure helpers that turn the run's arrival days into dbt arguments."""

from __future__ import annotations

from datetime import date


def build_args(start: date, end: date) -> list[str]:
    """`dbt build` of the half-open window [start, end) as dbt's event-time range: the microbatch
    models' batches (one per day, recall's campaign days) and, through run_window_start() and
    run_window_end(), every other model's filter. Not as --vars, which would make dbt re-parse
    the whole project on every run. Tests run where all they read is built: Dagster runs the dbt
    assets as several steps around the Python stages, and a test of two models (recall_audience
    against the contact log's staging view) waits for the step that builds the later one
    (`buildable`; dbt's default `eager` would run it as soon as either is selected). dbt unit tests
    prove rules on given rows, not the day's data: pytest runs them (tests/test_dbt_unit_tests.py),
    a run does not. No JSON artifacts: Dagster reads the build's events from its log, and writing
    the manifest again costs every step half a second."""
    return ["build", "--event-time-start", start.isoformat(),
            "--event-time-end", end.isoformat(), "--indirect-selection", "buildable",
            "--exclude-resource-type", "unit_test", "--no-write-json"]
