"""Pure helpers that turn a Dagster partition window into dbt arguments."""

from __future__ import annotations

import json

import dagster as dg


def partition_vars(window: dg.TimeWindow) -> dict[str, str]:
    """Half-open [start, end) window as dbt vars; models filter `>= min_date and < max_date`."""
    return {"min_date": window.start.strftime("%Y-%m-%d"), "max_date": window.end.strftime("%Y-%m-%d")}


def build_args(window: dg.TimeWindow) -> list[str]:
    return ["build", "--vars", json.dumps(partition_vars(window))]
