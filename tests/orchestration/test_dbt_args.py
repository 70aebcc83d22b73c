from datetime import date

from orchestration.lib.dbt_args import build_args


def test_the_run_window_is_passed_as_the_event_time_range_not_vars():
    args = build_args(date(2026, 8, 1), date(2026, 8, 2))
    assert args[:5] == ["build", "--event-time-start", "2026-08-01", "--event-time-end", "2026-08-02"]  # half-open
    assert "--vars" not in args                     # vars that change per run force a full re-parse
    assert args[5:7] == ["--indirect-selection", "buildable"]   # a test waits for the step building all it reads
    assert args[7:9] == ["--exclude-resource-type", "unit_test"]       # pytest runs the dbt unit tests
    assert args[9:] == ["--no-write-json"]
