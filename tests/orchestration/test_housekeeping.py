"""Unattended operation with known answers: outbox retention, run-history pruning, the failure
alert, source freshness — each on the real component (files, a Dagster instance, the sensor)."""

from datetime import date

import dagster as dg

from orchestration.lib.outbox import DayOutbox, expire, read_manifest


def test_outbox_folders_past_retention_lose_their_files_and_keep_their_manifest(tmp_path):
    for day in ("2026-05-01", "2026-08-01"):
        outbox = DayOutbox(tmp_path, day)
        outbox.write_text("ads", "ads/c1/meta_0001.csv", "phone\nabc\n", 1, ["c1"])
        outbox.commit({"run_id": "r"})
    assert expire(tmp_path, date(2026, 8, 2), 90) == ["dt=2026-05-01"]
    old = tmp_path / "dt=2026-05-01"
    assert [p.name for p in old.rglob("*")] == ["manifest.json"]
    manifest = read_manifest(old)
    assert manifest["expired"] == {"on": "2026-08-02", "files_deleted": 1, "retention_days": 90}
    assert manifest["files"][0]["path"] == "ads/c1/meta_0001.csv"              # what was there, without the data
    assert (tmp_path / "dt=2026-08-01" / "ads" / "c1" / "meta_0001.csv").exists()
    assert expire(tmp_path, date(2026, 8, 2), 90) == []                          # once


@dg.op
def boom():
    raise ValueError("the landing zone is not mounted")


@dg.job
def failing():
    boom()


@dg.op
def fine():
    return 1


@dg.job
def passing():
    fine()


def test_old_runs_are_pruned_with_their_logs(tmp_path):
    from orchestration.lib.run_lock import prune_run_history

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    result = passing.execute_in_process(instance=instance)
    assert prune_run_history(instance, 30) == 0                      # a fresh run is kept
    assert prune_run_history(instance, -1) == 1 and instance.get_runs() == []
    assert not (tmp_path / "storage" / result.run_id).exists()


def test_a_failed_run_alerts_one_line_per_root_failure_unless_it_will_be_retried(tmp_path, monkeypatch):
    from orchestration.defs.alerts import alert_on_run_failure

    alert_file = tmp_path / "alerts" / "alerts.log"
    monkeypatch.setenv("USEROPS_ALERT_FILE", str(alert_file))
    instance = dg.DagsterInstance.local_temp(str(tmp_path))

    def evaluate(tags):
        result = failing.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
        event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.PIPELINE_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=event, dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id)).for_run_failure()
        alert_on_run_failure(context)
        return result.run_id

    run_id = evaluate({})
    lines = alert_file.read_text().splitlines()
    assert lines == [f"userops run {run_id[:8]} (failing) FAILED at boom: ValueError: the landing zone is not mounted"]
    evaluate({"dagster/max_retries": "2", "dagster/retry_number": "0"})           # Dagster will try again
    assert alert_file.read_text().splitlines() == lines
    from orchestration.lib.alerts import failure_lines
    assert failure_lines("abcdef1234", "daily_pipeline", "2026-08-04", [], "earlier day(s) landed …") == [
        "userops run abcdef12 (daily_pipeline 2026-08-04) FAILED: earlier day(s) landed …"]      # before any step


def test_a_daily_source_that_stops_warns():
    from orchestration.defs.ingest import check_results
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.ingest import IngestTotals

    history = ([(date(2026, 8, d), 40) for d in range(1, 8)], [])
    check = {c.check_name: c for c in check_results(SOURCES["offline"], IngestTotals(), history,
                                                     [date(2026, 8, 8)])}["deliveries_as_expected"]
    assert not check.passed and "offline 2026-08-08: nothing delivered" in check.description
    quiet = {c.check_name: c for c in check_results(SOURCES["consent"], IngestTotals(), history, [date(2026, 8, 8)])}
    assert quiet["deliveries_as_expected"].passed                    # a day without opt-outs is normal
    gap = ([(date(2026, 8, d), 40) for d in range(1, 8) if d != 4], [])            # not a daily source
    assert {c.check_name: c for c in check_results(SOURCES["offline"], IngestTotals(), gap,
                                                   [date(2026, 8, 8)])}["deliveries_as_expected"].passed


def test_recovery_stops_what_a_dead_run_left_running_and_removes_its_scratch(tmp_path):
    import os
    import subprocess
    import sys

    from orchestration.lib.run_lock import RUN_PID_ENV, recover

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()                                                       # a run process that is gone
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                              env={**os.environ, RUN_PID_ENV: f"{dead.pid}:{tmp_path / 'w.duckdb'}"})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],      # another warehouse's
                             env={**os.environ, RUN_PID_ENV: f"{dead.pid}:/elsewhere/w.duckdb"})
    (tmp_path / "outbox" / f".dt=2026-08-02.tmp-{dead.pid}").mkdir(parents=True)
    (tmp_path / "outbox" / f".dt=2026-08-03.tmp-{os.getpid()}").mkdir()            # a live writer's: kept
    (tmp_path / "serving").mkdir()
    (tmp_path / "serving" / f".serving.duckdb.tmp-{dead.pid}.wal").write_text("")
    try:
        done = recover(dg.DagsterInstance.ephemeral(), tmp_path / "w.duckdb", [tmp_path / "outbox", tmp_path / "serving"])
        assert orphan.wait(timeout=15) == -9 and other.poll() is None
    finally:
        orphan.kill()
        other.kill()
    assert f"stopped pid {orphan.pid}, still running for dead run process {dead.pid}" in done
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [f".dt=2026-08-03.tmp-{os.getpid()}"]
    assert list((tmp_path / "serving").iterdir()) == []
