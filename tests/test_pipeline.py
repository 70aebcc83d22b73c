"""End to end through the real `userops` command, the real Dagster instance, dbt and DuckDB."""

import json
import re
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.defs.ingest import ingest_assets
from orchestration.defs.resources import LandingZone
from orchestration.lib.contract import SOURCES
from orchestration.lib.run_days import window_tags
from orchestration.lib.serving import read_only_connection
from orchestration.settings import dbt_state_path
from tests.conftest import cli_env, run_cli, warehouse_digest, write

def test_range_run_succeeds_and_prints_counts(pipeline_run):
    result = pipeline_run["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "staging.stg_online__events" in result.stdout and "raw.quarantine_online" in result.stdout
    # Seen: the counts showed table totals as "rows in window". A table without a day column shows —.
    assert "rows of 2026-08-01 … 2026-08-14" in result.stdout
    assert re.search(r"marts\.identity_map\s+—\s+[\d,]+\n", result.stdout)
    assert f"daily report for 2026-08-14: {pipeline_run['tmp'] / 'reports' / 'dt=2026-08-14' / 'report.html'}" in result.stdout


def test_warehouse_holds_every_day_and_accounts_for_every_row(pipeline_run):
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as conn:
        days = conn.execute("select count(distinct _dt) from raw.online").fetchone()[0]
        assert days == 14
        for source in SOURCES:
            read, = conn.execute("select sum(rows_read) from raw.ingested_files where source = ?", [source]).fetchone()
            loaded, = conn.execute(f"select count(*) from raw.{source}").fetchone()
            quarantined, = conn.execute(f"select count(*) from raw.quarantine_{source}").fetchone()
            assert read == loaded + quarantined > 0, source
        # Staging: one row per event id, orders at their latest version.
        stg, distinct = conn.execute("select (select count(*) from staging.stg_online__events), "
                                     "(select count(distinct event_id) from raw.online)").fetchone()
        assert stg == distinct
        stale = conn.execute("""
            with latest as (
                select order_id, arg_max(status, updated_at) as status, count(*) as versions
                from raw.sales group by order_id
            )
            select count(*) filter (where versions > 1), count(*) filter (where latest.status <> s.status)
            from latest join staging.stg_sales__orders s using (order_id)""").fetchone()
        assert stale[0] > 0 and stale[1] == 0
        # The GBK-encoded offline export arrives with its Chinese names and cities intact.
        chinese, = conn.execute("select count(*) from raw.offline where regexp_matches(name, '^[张王李刘陈杨黄赵吴周徐孙马朱胡郭何高林罗]') "
                                "and store_city in ('上海', '北京', '乌鲁木齐', '广州', '深圳', '杭州', '成都', '武汉', '南京', '西安')").fetchone()
        assert chinese > 0
        reasons = {r for (r,) in conn.execute("select distinct _reason from raw.quarantine_online").fetchall()}
        assert reasons, "the sample carries bad rows that must land in quarantine"


def _refusing_phones(landing) -> dict[str, set[str]]:
    """Phones that refused SMS or every channel in the sample's own files, read without the
    pipeline: consent rows in the spellings the generator writes, and STOP replies."""
    import unicodedata

    import pandas as pd

    def digits(value) -> str:
        return re.sub(r"\D", "", unicodedata.normalize("NFKC", str(value)))[-11:]

    refusing = {"sms": set(), "all": set()}
    for path in (landing / "consent").rglob("*.csv"):
        rows = pd.read_csv(path, dtype=str, encoding="utf-8-sig", on_bad_lines="skip").fillna("")
        for row in rows.itertuples():
            channel, status, kind = (str(v).strip().lower() for v in (row.channel, row.status, row.identifier_type))
            if status in {"opt_out", "退订", "unsubscribe"} and kind in {"phone", "mobile", "手机号"}:
                if channel in {"sms", "短信"}:
                    refusing["sms"].add(digits(row.identifier_value))
                elif channel in {"all", "全部"}:
                    refusing["all"].add(digits(row.identifier_value))
    for path in (landing / "sms_replies").rglob("*.csv"):
        rows = pd.read_csv(path, dtype=str)
        refusing["sms"] |= {digits(r.phone_number) for r in rows.itertuples()
                            if r.content.strip().lower() in {"td", "退订", "t", "r", "拒收", "n", "stop"}}
    return refusing


def test_on_the_sample_nobody_who_refused_is_messaged_and_every_file_is_accounted(pipeline_run):
    landing, outbox = pipeline_run["landing"], Path(pipeline_run["env"]["USEROPS_OUTBOX"])
    refusing = _refusing_phones(landing)
    assert refusing["sms"] and refusing["all"]           # the sample carries both, in vendor spellings
    sms_text = "".join(p.read_text(errors="replace") for p in outbox.glob("dt=*/sms/**/*") if p.is_file())
    every_text = "".join(p.read_text(errors="replace") for p in outbox.rglob("*") if p.is_file()
                         and p.suffix in {".csv", ".json", ".jsonl", ".txt"})
    assert sms_text, "the sample's last day texts someone"
    assert [p for p in refusing["sms"] | refusing["all"] if p in sms_text] == []
    assert [p for p in refusing["all"] if p in every_text] == []
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as conn:
        person = dict(conn.execute("select identifier_value, person_id from marts.identity_map "
                                   "where identifier_type = 'phone'").fetchall())
        audience = conn.execute("select person_id, channel from marts.recall_audience").fetchall()
        ledger = {f for (f,) in conn.execute("select file from raw.ingested_files").fetchall()}
    blocked_sms = {person.get("+86" + p) for p in refusing["sms"] | refusing["all"]} - {None}
    blocked_all = {person.get("+86" + p) for p in refusing["all"]} - {None}
    assert blocked_sms and [(p, c) for p, c in audience if (c == "sms" and p in blocked_sms) or p in blocked_all] == []
    files = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert files - ledger == set()


def test_no_log_or_run_metadata_carries_a_phone_or_email(pipeline_run):
    """Dagster's run storage, event log and compute logs (the Dagster home) hold no clear phone
    or email of anyone in the sample, so an erasure has nothing to chase there."""
    import pandas as pd

    truth = pd.read_csv(pipeline_run["truth"] / "identifiers.csv", dtype=str)
    values = set(truth.loc[truth.identifier_type == "email", "identifier_value"].str.lower())
    values |= {v.removeprefix("+86") for v in truth.loc[truth.identifier_type == "phone", "identifier_value"]}
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    home = Path(pipeline_run["env"]["DAGSTER_HOME"])
    found = {str(p.relative_to(home)): m.group(0) for p in home.rglob("*") if p.is_file()
             for m in [pattern.search(p.read_bytes().decode("latin-1").lower())] if m}
    assert found == {}


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_dbt_assets_show_their_row_count_and_every_column(pipeline_run, monkeypatch):
    """Seen: dbt asset pages listed few columns (user_profile 7 of 45) and no row counts."""
    monkeypatch.setenv("DAGSTER_HOME", pipeline_run["env"]["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        metadata = {name: instance.get_latest_materialization_event(dg.AssetKey(["marts", name]))
                    .asset_materialization.metadata for name in ("user_profile", "nine_grid_summary")}
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as conn:
        for name, entries in metadata.items():
            actual = [c for (c,) in conn.execute("select column_name from information_schema.columns where "
                                                 "table_schema = 'marts' and table_name = ? order by ordinal_position",
                                                 [name]).fetchall()]
            assert [c.name for c in entries["dagster/column_schema"].value.columns] == actual
            assert entries["dagster/row_count"].value == conn.execute(f"select count(*) from marts.{name}").fetchone()[0]
    described = {c.name: c.description for c in metadata["user_profile"]["dagster/column_schema"].value.columns}
    assert described["phone_masked"] and described["is_koc"]                             # from the YAML


def test_rerunning_a_day_leaves_identical_tables_and_files_while_bi_reads(pipeline_run, tmp_path, monkeypatch):
    """Re-run 08-07 on a copy of the sample run, with a BI connection open on the serving copy
    the whole time: same tables, same files, the copy republished under the open reader."""
    work = tmp_path / "copy"
    shutil.copytree(pipeline_run["tmp"], work, ignore=shutil.ignore_patterns("*.lock"))
    env = {**pipeline_run["env"], **cli_env(work, work / "landing")}
    warehouse = work / "wh" / "warehouse.duckdb"
    before = warehouse_digest(warehouse)
    outbox = _files(work / "outbox")
    assert any(path.startswith("dt=2026-08-14/sms/") for path in outbox)
    served = work / "serving" / "serving.duckdb"
    bi = read_only_connection(served)
    rows = bi.execute("select count(*), sum(users) from marts.nine_grid_summary").fetchone()
    inode = served.stat().st_ino
    result = run_cli(["run", "--date", "2026-08-07"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    # Each dbt step started from this warehouse's partial-parse state (issue 16: every build used
    # to parse the whole project, for --vars or for another warehouse's profile).
    logs = sorted(dbt_state_path(warehouse).glob("dbt_models*/dbt.log"))
    assert len(logs) == 4 and not [log for log in logs if "Unable to do partial parsing" in log.read_text()]
    assert warehouse_digest(warehouse) == before
    assert _files(work / "outbox") == outbox                           # the same bytes, manifest included
    assert bi.execute("select count(*), sum(users) from marts.nine_grid_summary").fetchone() == rows   # still usable
    bi.close()
    assert served.stat().st_ino != inode and not Path(f"{served}.wal").exists()                     # republished whole
    with read_only_connection(served) as fresh:
        assert fresh.execute("select count(*), sum(users) from marts.nine_grid_summary").fetchone() == rows
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 2                                              # both runs are in the UI's history
        assert {(r.tags["userops/first_day"], r.tags["userops/last_day"]) for r in runs} == \
            {("2026-08-01", "2026-08-14"), ("2026-08-07", "2026-08-07")}


def test_a_day_on_which_nothing_arrived_fails_naming_the_landing_folder(pipeline_run, tmp_path):
    """Seen: a day with no files at all went green, wrote no snapshot, re-wrote the previous day's
    report, and the CLI printed the old day's report path."""
    work = tmp_path / "copy"
    shutil.copytree(pipeline_run["tmp"], work, ignore=shutil.ignore_patterns("*.lock", "landing"))
    env = {**pipeline_run["env"], **cli_env(work, pipeline_run["landing"])}
    warehouse = work / "wh" / "warehouse.duckdb"
    before = warehouse_digest(warehouse)
    report = (work / "reports" / "dt=2026-08-14" / "report.html").read_bytes()
    result = run_cli(["run", "--date", "2026-08-15"], env)
    assert result.returncode == 1
    assert f"nothing arrived for 2026-08-15: no source folder under {pipeline_run['landing']}" in result.stderr
    assert "daily report for" not in result.stdout and "dt=2026-08-14" not in result.stdout
    assert not (work / "reports" / "dt=2026-08-15").exists() and not (work / "outbox" / "dt=2026-08-15").exists()
    assert (work / "reports" / "dt=2026-08-14" / "report.html").read_bytes() == report      # not re-written
    assert warehouse_digest(warehouse) == before                                            # nothing built


def test_bad_file_fails_the_run_naming_check_file_and_column(tmp_path):
    landing = tmp_path / "landing"
    day = landing / "online" / "dt=2026-08-01"
    write(day / "part-0001.jsonl", json.dumps({"event_id": "e1", "event_time": "2026-08-01T10:00:00+08:00",
                                               "event_type": "login"}) + "\n")
    write(day / "part-0002.jsonl", json.dumps({"event_id": "e2", "event_time": "2026-08-01T10:00:00+08:00"}) + "\n")
    env = cli_env(tmp_path, landing)
    result = run_cli(["run", "--date", "2026-08-01"], env)
    assert result.returncode == 1
    assert "raw/online:files_readable" in result.stderr
    assert "part-0002.jsonl" in result.stderr and "event_type" in result.stderr
    with duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True) as conn:   # the good file still loaded
        assert conn.execute("select list(event_id) from raw.online").fetchone()[0] == ["e1"]
        # The blocking check stopped what runs after it: dbt did not build on a broken delivery.
        schemas = {s for (s,) in conn.execute("select schema_name from information_schema.schemata").fetchall()}
        assert "staging" not in schemas


def test_days_before_the_first_day_are_refused(tmp_path):
    result = run_cli(["run", "--date", "2023-12-31"], cli_env(tmp_path, tmp_path / "landing"))
    assert result.returncode == 2
    assert "USEROPS_START_DATE" in result.stderr


def test_a_history_from_before_2000_has_a_profile_for_every_person(tmp_path):
    """Seen (issue 17): a history starting in 1997 (the CDNOW transaction log) gave an empty
    user_profile_daily: the first build's snapshot days started at a fixed 2000-01-01."""
    from orchestration.sample.generator import generate

    generate(tmp_path / "landing", 40, date(1997, 1, 1), date(1997, 1, 3), 7)
    env = {**cli_env(tmp_path, tmp_path / "landing"), "USEROPS_START_DATE": ""}     # the first day landed
    result = run_cli(["run", "--from", "1997-01-01", "--to", "1997-01-03"], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True) as conn:
        persons = conn.execute("select count(*) from marts.persons").fetchone()[0]
        assert persons > 0
        assert conn.execute("select count(*), min(as_of_date), max(as_of_date) from marts.user_profile").fetchone() == \
            (persons, date(1997, 1, 3), date(1997, 1, 3))
        assert conn.execute("select min(snapshot_date) from marts.user_profile_daily").fetchone()[0] == date(1997, 1, 1)


def test_ingest_asset_in_dagster_reports_rows_and_checks(tmp_path, sample):
    online = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw", "online"]))
    result = dg.materialize(
        [online], tags=window_tags(date(2026, 8, 3), date(2026, 8, 3)), raise_on_error=False,
        resources={"landing": LandingZone(path=str(sample["landing"])),
                   "warehouse": DuckDBResource(database=str(tmp_path / "w.duckdb"))},
    )
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    read, loaded, quarantined = (metadata[k].value for k in ("rows_read", "rows_loaded", "rows_quarantined"))
    assert read == loaded + quarantined and loaded > 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["files_readable"] is True and "quarantine_rate" in checks
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.online").fetchone()[0] == loaded
        assert conn.execute("select distinct _dt from raw.online").fetchall() == [(date(2026, 8, 3),)]


def test_range_loads_in_batches_with_the_same_result(tmp_path, sample):
    """A backfill range is loaded in memory-bounded batches of days; the result is the same."""
    online = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw", "online"]))
    counts = {}
    for batch_bytes in (1, 10**9):                      # one day per batch vs everything at once
        database = tmp_path / f"w{batch_bytes}.duckdb"
        result = dg.materialize(
            [online], raise_on_error=False,
            tags=window_tags(date(2026, 8, 2), date(2026, 8, 6)),
            resources={"landing": LandingZone(path=str(sample["landing"]), batch_bytes=batch_bytes),
                       "warehouse": DuckDBResource(database=str(database))},
        )
        assert result.success
        metadata = result.get_asset_materialization_events()[0].materialization.metadata
        with duckdb.connect(str(database), read_only=True) as conn:
            counts[batch_bytes] = (metadata["rows_read"].value, metadata["rows_loaded"].value,
                                   conn.execute("select count(*), count(distinct _dt) from raw.online").fetchone())
    assert counts[1] == counts[10**9]
    assert counts[1][2][1] == 5 and counts[1][2][0] == counts[1][1] > 0


def test_rerun_after_upstream_correction_leaves_no_stale_rows(tmp_path):
    """A file withdrawn from a day already loaded: re-running the day removes its rows from
    raw and from staging (the incremental window is rebuilt, not only merged)."""
    landing = tmp_path / "landing"
    day = landing / "online" / "dt=2026-08-01"
    event = {"event_time": "2026-08-01T10:00:00+08:00", "event_type": "app_open", "device_id": "d1"}
    write(day / "part-0001.jsonl", json.dumps({"event_id": "e1", **event}) + "\n")
    withdrawn = write(day / "part-0002.jsonl", json.dumps({"event_id": "e2", **event}) + "\n")
    env = cli_env(tmp_path, landing)
    assert run_cli(["run", "--date", "2026-08-01"], env).returncode == 0
    withdrawn.unlink()
    assert run_cli(["run", "--date", "2026-08-01"], env).returncode == 0
    with duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True) as conn:
        assert conn.execute("select list(event_id) from raw.online").fetchone()[0] == ["e1"]
        assert conn.execute("select list(event_id) from staging.stg_online__events").fetchone()[0] == ["e1"]
