"""Pure helpers that turn a Dagster partition window into dbt arguments."""

from __future__ import annotations

import json

import dagster as dg


def partition_vars(window: dg.TimeWindow) -> dict[str, str]:
    """Half-open [start, end) window as dbt vars; models filter `>= min_date and < max_date`."""
    return {"min_date": window.start.strftime("%Y-%m-%d"), "max_date": window.end.strftime("%Y-%m-%d")}


def build_args(window: dg.TimeWindow) -> list[str]:
    """`dbt build` of the window: vars for the models' own filters, and the same days as the
    event-time range of the microbatch models (one batch per day, recall's campaign days). dbt
    unit tests prove rules on given rows, not the day's data: pytest runs them
    (tests/test_dbt_unit_tests.py), a run does not."""
    days = partition_vars(window)
    return ["build", "--vars", json.dumps(days),
            "--event-time-start", days["min_date"], "--event-time-end", days["max_date"],
            "--exclude-resource-type", "unit_test"]
