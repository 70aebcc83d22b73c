"""Which arrival days are done: a day is done only when a whole run over it succeeded.

The last asset of every run records its days in `pipeline.completed_days`. Before a run for day D,
`unfinished_days` finds every earlier day whose data reached raw (or lies in the landing zone
after the first completed day) but whose run never completed — a failed or never-run day — and
the run is widened to start there (CLI and schedule alike), so its opt-outs take effect before
anyone is messaged again. A warehouse from before this record existed has its earlier days taken
as done when the table is first created.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib.contract import SOURCES
from orchestration.lib.landing import source_entries

COMPLETED = "pipeline.completed_days"
_LEDGER = "raw.ingested_files"


def _exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(conn.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                             [schema, table]).fetchone()[0])


def ensure_completed_days(conn: duckdb.DuckDBPyConnection, before: date) -> None:
    """Create the record; in a warehouse that already holds earlier days, take those as done."""
    if _exists(conn, "pipeline", "completed_days"):
        return
    conn.execute("create schema if not exists pipeline")
    conn.execute(f"create table {COMPLETED} (day date, run_id varchar, completed_at timestamp)")
    if _exists(conn, "raw", "ingested_files"):
        conn.execute(f"insert into {COMPLETED} select distinct _dt, 'before-completion-tracking', current_timestamp "
                     f"from {_LEDGER} where _dt < ? and _dt is not null", [before])


def record_completed(conn: duckdb.DuckDBPyConnection, days: list[date], run_id: str) -> None:
    ensure_completed_days(conn, min(days))
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {COMPLETED} where day >= ? and day <= ?", [min(days), max(days)])
        conn.executemany(f"insert into {COMPLETED} values (?, ?, current_timestamp)", [[d, run_id] for d in days])
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def unfinished_days(warehouse: Path, landing: Path, before: date) -> list[date]:
    """Days before `before` that landed but whose run never completed (empty for a new warehouse)."""
    if not warehouse.exists():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        if not _exists(conn, "pipeline", "completed_days"):
            return []
        done = {d for (d,) in conn.execute(f"select day from {COMPLETED}").fetchall()}
        landed = {d for (d,) in conn.execute(f"select distinct _dt from {_LEDGER} where _dt < ? and _dt is not null",
                                             [before]).fetchall()} if _exists(conn, "raw", "ingested_files") else set()
    first = min(done, default=None)
    for source in SOURCES:
        landed |= {d for d in source_entries(landing, source)[0] if first and first < d < before}
    return sorted(landed - done)
