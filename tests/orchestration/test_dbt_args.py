from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.lib.dbt_args import build_args


def test_partition_window_is_passed_as_the_event_time_range_not_vars():
    tz = ZoneInfo("Asia/Shanghai")
    window = dg.TimeWindow(datetime(2026, 8, 1, tzinfo=tz), datetime(2026, 8, 2, tzinfo=tz))
    args = build_args(window)
    assert args[:5] == ["build", "--event-time-start", "2026-08-01", "--event-time-end", "2026-08-02"]  # half-open
    assert "--vars" not in args                     # vars that change per run force a full re-parse
    assert args[5:7] == ["--indirect-selection", "buildable"]   # a test waits for the step building all it reads
    assert args[7:9] == ["--exclude-resource-type", "unit_test"]       # pytest runs the dbt unit tests
    assert args[9:] == ["--no-write-json"]
