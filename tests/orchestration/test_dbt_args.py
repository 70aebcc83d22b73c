from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.lib.dbt_args import build_args, partition_vars


def test_partition_window_is_half_open():
    tz = ZoneInfo("Asia/Shanghai")
    window = dg.TimeWindow(datetime(2026, 8, 1, tzinfo=tz), datetime(2026, 8, 2, tzinfo=tz))
    assert partition_vars(window) == {"min_date": "2026-08-01", "max_date": "2026-08-02"}
    args = build_args(window)
    assert args[:2] == ["build", "--vars"] and '"max_date": "2026-08-02"' in args[2]
    assert args[3:7] == ["--event-time-start", "2026-08-01", "--event-time-end", "2026-08-02"]  # one recall batch per day
    assert args[7:] == ["--exclude-resource-type", "unit_test"]       # pytest runs the dbt unit tests
