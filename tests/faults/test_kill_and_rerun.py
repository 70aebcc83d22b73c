"""Faults a run must survive (issue 14), through the real `userops` command: SIGKILL during
ingestion, during the dbt build, while the outbox is written and between the outbox and the
contact log, each followed by the next run; two runs started together; a warehouse held by
another process; a run Dagster launches while the CLI holds the warehouse.

After every kill the next run proceeds on its own (it says what it recovered), and the run that
finally completes leaves the same tables and byte-identical channel files as runs never
interrupted.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.run_lock import RUN_PID_ENV, RunLock
from tests.conftest import REPO_ROOT, cli_env, run_cli, warehouse_digest

RUN = ["run", "--from", "2026-08-01", "--to", "2026-08-02"]


class Run:
    """`userops run` in the background, its output in a file (a pipe would fill and stall it)."""

    def __init__(self, env: dict, extra: dict | None = None):
        full = {**os.environ, **env, **(extra or {})}
        full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full.get('PATH', '')}"
        self.log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "userops"), *RUN], env=full,
                                        cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.pid = self.process.pid

    def finish(self, timeout: int = 900) -> tuple[int, str]:
        code = self.process.wait(timeout=timeout)
        self.log.seek(0)
        return code, self.log.read()


def _children_running_dbt(pid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                marked = f"{RUN_PID_ENV}={pid}:".encode() in (entry / "environ").read_bytes()
                if marked and b"dbt" in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


def _kill_during_dbt(env: dict) -> tuple[int, str]:
    run = Run(env)
    deadline = time.monotonic() + 300
    while not _children_running_dbt(run.pid) and run.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)                                                    # well inside the build
    run.process.send_signal(signal.SIGKILL)
    return run.finish()


def _killed_at(env: dict, failpoint: str) -> tuple[int, str]:
    return Run(env, {"USEROPS_FAILPOINT": failpoint}).finish()


def _channel_files(outbox: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(outbox.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "manifest.json":                         # names the run that wrote it
                data = json.dumps({k: v for k, v in json.loads(data).items() if k != "run_id"}).encode()
            files[path.relative_to(outbox).as_posix()] = data
    return files


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from orchestration.sample.generator import generate

    root = tmp_path_factory.mktemp("faults")
    landing = root / "landing"
    generate(landing, 120, date(2026, 8, 1), date(2026, 8, 2), 11)
    calm_env, faulty_env = cli_env(root / "calm", landing), cli_env(root / "faulty", landing)
    for env in (calm_env, faulty_env):
        env["USEROPS_START_DATE"] = "2026-08-01"
    # Two runs started a second apart on one warehouse: the second waits for the first.
    first = Run(calm_env)
    time.sleep(1)
    second = Run(calm_env)
    together = [run.finish() for run in (first, second)]
    # The same range on another warehouse, killed four ways before a run completes.
    kills = {"ingestion": _killed_at(faulty_env, "ingested_a_batch"), "dbt": _kill_during_dbt(faulty_env),
             "outbox write": _killed_at(faulty_env, "outbox_files_written"),
             "between outbox and contact log": _killed_at(faulty_env, "outbox_committed")}
    final = run_cli(RUN, faulty_env)
    return {"root": root, "together": together, "kills": kills, "final": final,
            "calm": calm_env, "faulty": faulty_env}


def test_every_kill_is_recovered_by_the_next_run(runs):
    outcomes = list(runs["kills"].items())
    assert [(name, rc) for name, (rc, _) in outcomes] == [(name, -signal.SIGKILL) for name, _ in outcomes]
    later = [out for _, (_, out) in outcomes[1:]] + [runs["final"].stdout]
    for (name, _), out in zip(outcomes, later):
        assert "recovered from an interrupted run: run " in out, name           # its run marked failed
    assert re.search(r"removed \.dt=2026-08-0[12]\.tmp-", later[2])             # the outbox scratch folder
    assert runs["final"].returncode == 0, runs["final"].stdout[-3000:] + runs["final"].stderr[-3000:]
    assert not list(Path(runs["faulty"]["USEROPS_OUTBOX"]).glob(".*"))


def test_the_run_after_the_kills_equals_runs_never_interrupted(runs):
    assert [rc for rc, _ in runs["together"]] == [0, 0], runs["together"][1][1][-3000:]
    calm, faulty = (Path(env["USEROPS_WAREHOUSE"]) for env in (runs["calm"], runs["faulty"]))
    assert warehouse_digest(faulty) == warehouse_digest(calm)
    calm_files = _channel_files(Path(runs["calm"]["USEROPS_OUTBOX"]))
    assert any("/sms/" in name for name in calm_files)
    assert _channel_files(Path(runs["faulty"]["USEROPS_OUTBOX"])) == calm_files


def test_a_crash_between_outbox_and_contact_log_neither_loses_nor_doubles_contacts(runs):
    outbox = Path(runs["faulty"]["USEROPS_OUTBOX"]) / "dt=2026-08-02"
    contacts = json.loads((outbox / "manifest.json").read_text())["contacts"]
    with duckdb.connect(runs["faulty"]["USEROPS_WAREHOUSE"], read_only=True) as conn:
        logged, = conn.execute("select count(*) from recall.contact_log where test_group = 'treatment' "
                               "and campaign_date = '2026-08-02'").fetchone()
    assert logged == contacts > 0


def test_two_runs_started_together_take_turns(runs):
    import dagster as dg

    (_, first_out), (_, second_out) = runs["together"]
    assert "another run holds the warehouse: pid" in second_out and "userops run --from 2026-08-01" in second_out
    instance = dg.DagsterInstance.from_config(runs["calm"]["DAGSTER_HOME"])
    records = sorted(instance.get_run_records(), key=lambda r: r.start_time)
    assert len(records) == 2 and records[0].end_time <= records[1].start_time       # never interleaved


def test_a_warehouse_held_by_another_process_fails_fast_naming_it(runs):
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; held = duckdb.connect(sys.argv[1], "
                               "read_only=True); print('open', flush=True); time.sleep(120)",
                               runs["calm"]["USEROPS_WAREHOUSE"]], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        began = time.monotonic()
        result = run_cli(RUN, runs["calm"])
        took = time.monotonic() - began
    finally:
        holder.kill()
    assert result.returncode == 1 and took < 15
    assert f"PID {holder.pid}" in result.stderr and "serving.duckdb (read-only)" in result.stderr


def test_a_run_dagster_launches_waits_for_the_warehouse(runs):
    env = {**os.environ, **runs["calm"], "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "orchestration.definitions",
               "--select", "raw/landing_zone"]          # no days: the executor picks the last day landed
    with RunLock(Path(runs["calm"]["USEROPS_WAREHOUSE"]), "the test", print):
        log = tempfile.TemporaryFile("w+")
        launched = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
        time.sleep(20)
        waiting = launched.poll() is None
    launched.wait(timeout=300)
    log.seek(0)
    out = log.read()
    assert waiting and launched.returncode == 0, out[-3000:]
    assert "another run holds the warehouse" in out and "the test" in out
    assert "no days given: running" in out
