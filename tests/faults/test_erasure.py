"""Erasure through the real pipeline (issue 14): persons spread over every table — one of them
texted the day before — are erased by a request file; afterwards no copy (the warehouse, the
serving copy and its Parquet, the outbox, the reports, the Dagster home) holds any form of their
identifiers, also after the days that first delivered them are run again."""

import io
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import erasure
from tests.conftest import cli_env, run_cli, write


def _copies(env: dict) -> list[Path]:
    warehouse = Path(env["USEROPS_WAREHOUSE"])
    return [warehouse.parent, Path(env["USEROPS_SERVING"]), Path(env["USEROPS_OUTBOX"]), Path(env["USEROPS_REPORTS"]),
            Path(env["DAGSTER_HOME"])]


def _file_traces(folders: list[Path], pattern) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".erasure-salt")):
            data = path.read_bytes()
            texts = [data]
            if data.startswith(b"PK"):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    texts += [archive.read(n) for n in archive.namelist()]
            if any(pattern.search(t.decode("latin-1").lower()) for t in texts):
                found.append(str(path))
    return found


def _table_traces(database: Path, done: erasure.Erasure) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return erasure.find_traces(conn, done)


def _parquet_traces(folder: Path, pattern: str) -> list[str]:
    found = []
    with duckdb.connect() as conn:
        for path in sorted(folder.rglob("*.parquet")):
            columns = [c for c, t, *_ in conn.execute(f"describe select * from read_parquet('{path}')").fetchall()
                       if t == "VARCHAR"]
            if columns and conn.execute(f"select count(*) from read_parquet('{path}') where "
                                        + " or ".join(f'regexp_matches(lower("{c}"), ?)' for c in columns),
                                        [pattern] * len(columns)).fetchone()[0]:
                found.append(str(path))
    return found


@pytest.fixture(scope="module")
def erased(tmp_path_factory):
    from orchestration.sample.generator import generate

    root = tmp_path_factory.mktemp("erasure")
    landing = root / "landing"
    generate(landing, 150, date(2026, 8, 1), date(2026, 8, 3), 5)
    env = {**cli_env(root, landing), "USEROPS_START_DATE": "2026-08-01"}
    before = run_cli(["run", "--from", "2026-08-01", "--to", "2026-08-02"], env)
    assert before.returncode == 0, before.stdout[-3000:] + before.stderr[-3000:]
    with duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True) as conn:
        texted, = conn.execute("select min(person_id) from marts.recall_audience where channel = 'sms' "
                               "and test_group = 'treatment'").fetchone()
        emailer, = conn.execute("select min(person_id) from marts.identity_map where identifier_type = 'email' "
                                "and person_id <> ?", [texted]).fetchone()
        persons = [texted, emailer]
        identifiers = conn.execute("select identifier_type, identifier_value, person_id from marts.identity_map "
                                   "where person_id in (?, ?)", persons).fetchall()
    done = erasure.Erasure(persons=set(persons), identifiers=[(t, v) for t, v, _ in identifiers])
    before_files = _file_traces(_copies(env), done.pattern)
    before_tables = _table_traces(Path(env["USEROPS_WAREHOUSE"]), done)
    phone = next(v for t, v, p in identifiers if p == texted and t == "phone")
    email = next(v for t, v, p in identifiers if p == emailer and t == "email")
    # As a privacy desk would type them: a spaced national phone, an upper-cased email.
    write(landing / "erasure" / "dt=2026-08-03" / "requests.csv",
          "request_id,requested_at,identifier_type,identifier_value\n"
          f"q1,2026-08-03 09:00:00,Mobile,{phone[3:6]} {phone[6:10]} {phone[10:]}\n"
          f"q2,2026-08-03 09:30:00,email,{email.upper()}\n")
    day = run_cli(["run", "--date", "2026-08-03"], env)
    traces_after_day = {"files": _file_traces(_copies(env), done.pattern),
                        "warehouse": _table_traces(Path(env["USEROPS_WAREHOUSE"]), done),
                        "serving": _table_traces(Path(env["USEROPS_SERVING"]) / "serving.duckdb", done),
                        "parquet": _parquet_traces(Path(env["USEROPS_SERVING"]) / "parquet", done.sql_pattern)}
    again = run_cli(["run", "--from", "2026-08-01", "--to", "2026-08-02"], env)      # old files read again
    traces_after_rerun = {"files": _file_traces(_copies(env), done.pattern),
                          "warehouse": _table_traces(Path(env["USEROPS_WAREHOUSE"]), done)}
    return {"env": env, "day": day, "again": again, "done": done, "after_day": traces_after_day,
            "before": {"files": before_files, "tables": before_tables},
            "after_rerun": traces_after_rerun, "texted": texted}


def test_the_erasure_day_succeeds_and_logs_each_request(erased):
    assert erased["day"].returncode == 0, erased["day"].stdout[-3000:] + erased["day"].stderr[-3000:]
    with duckdb.connect(erased["env"]["USEROPS_WAREHOUSE"], read_only=True) as conn:
        log = conn.execute("select request_id, persons_erased, identifiers_erased > 0, rows_removed "
                           "from marts.erasure_log order by request_id").fetchall()
    assert [(r, n, some) for r, n, some, _ in log] == [("q1", 1, True), ("q2", 1, True)]
    assert "marts.user_profile" in log[0][3] and "outbox/dt=2026-08-02" in log[0][3]      # the texted person's file


def test_no_copy_holds_any_form_of_an_erased_identifier(erased):
    # The same scans found them before: in the texted person's SMS file and across the tables.
    assert any("/outbox/dt=2026-08-02/sms/" in f for f in erased["before"]["files"])
    assert {"marts.user_profile", "raw.online", "staging.stg_online__events"} <= {
        t.split(":")[0] for t in erased["before"]["tables"]}
    assert erased["after_day"] == {"files": [], "warehouse": [], "serving": [], "parquet": []}


def test_running_the_old_days_again_does_not_bring_them_back(erased):
    assert erased["again"].returncode == 0, erased["again"].stdout[-3000:] + erased["again"].stderr[-3000:]
    assert erased["after_rerun"] == {"files": [], "warehouse": []}
    with duckdb.connect(erased["env"]["USEROPS_WAREHOUSE"], read_only=True) as conn:
        dropped, = conn.execute("select sum(rows_erased) from raw.ingested_files where _dt <= '2026-08-02'").fetchone()
        balanced, = conn.execute("select count(*) from raw.ingested_files where status = 'loaded' and "
                                 "rows_read <> rows_loaded + rows_quarantined + rows_erased").fetchone()
    assert dropped > 0 and balanced == 0
