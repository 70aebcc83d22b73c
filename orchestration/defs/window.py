"""What every asset writing the warehouse shares, and the run's arrival days.

No asset is partitioned: a run's days are two run tags (`userops/first_day`, `userops/last_day`,
set by `userops run`, the schedule, or for a launch from the UI by the executor: see
orchestration/lib/run_days.py). Dagster's SQLite storage expands a partition range into rows per
asset and per check: a 365-day range of this project's ~90 assets and 300 checks spent 43 s
writing ~110,000 check rows before its first step (see docs/performance.md)."""

from datetime import date, timedelta

import dagster as dg

from orchestration.lib.run_days import FIRST_DAY_TAG, LAST_DAY_TAG, run_window

# In the `warehouse` pool (DuckDB has one writer), owned by the platform team.
WAREHOUSE_ASSET = {
    "pool": "warehouse",
    "kinds": {"python", "duckdb"},
    "owners": ["team:data-platform"],
}


def window_days(context: dg.AssetExecutionContext) -> tuple[date, date, list[date]]:
    """The arrival days [start, end) of this run (a day, or a whole range)."""
    # The stored run, not context.run: a run launched without days has them added by the executor
    # after its steps' copy of the run was made (orchestration/lib/run_lock.py).
    stored = context.instance.get_run_by_id(context.run.run_id)
    window = run_window((stored or context.run).tags)
    if window is None:
        raise dg.Failure(f"this run names no arrival day: give it the tags {FIRST_DAY_TAG} and {LAST_DAY_TAG} "
                         "(YYYY-MM-DD), or use `userops run --date …`")
    start, end = window[0], window[1] + timedelta(days=1)
    return start, end, [start + timedelta(days=i) for i in range((end - start).days)]
