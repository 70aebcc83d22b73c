"""Which earlier days a run must also cover: a day that never completed, and a done day whose
folder changed after its run (a corrected file under the same name, a late file)."""

import os
from datetime import date, timedelta

import duckdb

from orchestration.lib.contract import SOURCES
from orchestration.lib.ingest import ingest
from orchestration.lib.raw_store import replace_window
from orchestration.lib.run_days import catch_up, record_completed, window_tags
from tests.conftest import write

HEADER = "record_id,record_time,record_type,store_id,phone\n"
DAYS = [date(2026, 8, 1), date(2026, 8, 2), date(2026, 8, 3)]


def _warehouse(tmp_path, landing):
    for day in DAYS:
        write(landing / "offline" / f"dt={day}" / "stores.csv", HEADER + f"r{day.day},{day} 10:00:00,store_visit,s1,\n")
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        result = ingest(SOURCES["offline"], landing, DAYS, "Asia/Shanghai", "run-1")
        replace_window(conn, SOURCES["offline"], result, DAYS[0], DAYS[-1] + timedelta(days=1), "run-1")
        record_completed(conn, DAYS[:2], "run-1")                    # 08-03 failed
    return warehouse


def test_a_day_that_never_completed_is_caught_up(tmp_path, landing):
    earlier = catch_up(_warehouse(tmp_path, landing), landing, date(2026, 8, 4))
    assert earlier.unfinished == [date(2026, 8, 3)] and earlier.redelivered == {}
    assert earlier.first == date(2026, 8, 3)


def test_a_done_day_whose_file_changed_or_grew_a_file_is_run_again(tmp_path, landing):
    warehouse = _warehouse(tmp_path, landing)
    touched = landing / "offline" / "dt=2026-08-01" / "stores.csv"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))   # same bytes: not a change
    assert catch_up(warehouse, landing, date(2026, 8, 3)).first is None
    write(touched, touched.read_text().replace("r1,", "x1,"))                               # same size, other bytes
    write(landing / "offline" / "dt=2026-08-02" / "late.csv", HEADER)
    earlier = catch_up(warehouse, landing, date(2026, 8, 3))
    assert earlier.redelivered == {date(2026, 8, 1): ["offline/dt=2026-08-01/stores.csv"],
                                   date(2026, 8, 2): ["offline/dt=2026-08-02/late.csv"]}
    assert earlier.first == date(2026, 8, 1)
    assert "2026-08-01 changed after its run: offline/dt=2026-08-01/stores.csv" in earlier.reasons()


def test_a_new_warehouse_has_nothing_to_catch_up(tmp_path, landing):
    assert catch_up(tmp_path / "none.duckdb", landing, date(2026, 8, 4)).first is None


def test_a_launched_run_refuses_to_pass_over_an_unfinished_day(tmp_path, landing, monkeypatch):
    import pytest

    from orchestration.lib.run_lock import SkippedDays, refuse_skipped_days
    from orchestration.settings import Settings

    monkeypatch.setenv("USEROPS_WAREHOUSE", str(_warehouse(tmp_path, landing)))
    monkeypatch.setenv("USEROPS_LANDING", str(landing))
    with pytest.raises(SkippedDays, match=r"never completed: 2026-08-03.*userops run --from 2026-08-03 --to 2026-08-04"):
        refuse_skipped_days(window_tags(date(2026, 8, 4), date(2026, 8, 4)), Settings.from_env())
    refuse_skipped_days(window_tags(date(2026, 8, 3), date(2026, 8, 3)), Settings.from_env())      # covers it: fine


def test_the_schedule_still_requests_yesterday_while_a_run_writes_the_warehouse(tmp_path, landing, monkeypatch):
    import subprocess
    import sys
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from orchestration.defs.schedules import scheduled_request
    from orchestration.settings import Settings

    warehouse = _warehouse(tmp_path, landing)
    monkeypatch.setenv("USEROPS_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("USEROPS_LANDING", str(landing))
    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; held = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(warehouse)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        request = scheduled_request(Settings.from_env(), datetime(2026, 8, 5, 2, tzinfo=ZoneInfo("Asia/Shanghai")))
    finally:
        writer.kill()
    assert request.tags["userops/last_day"] == "2026-08-04" and "busy" in request.tags["userops/catch_up"]
