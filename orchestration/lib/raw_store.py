"""Writing ingestion results into the warehouse's `raw` schema, one transaction per run.

Per source: `raw.<source>` (loaded rows, typed), `raw.quarantine_<source>` (rejected rows as
delivered, with reason, file and row number) and the shared ledger `raw.ingested_files`.
Re-running a window first deletes that window's rows from all three, so a re-run replaces a
partition instead of duplicating it.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from orchestration.lib.contract import SourceSpec
from orchestration.lib.ingest import IngestResult, loaded_columns, quarantine_columns

LEDGER = "raw.ingested_files"
_LEDGER_DDL = f"""
create table if not exists {LEDGER} (
    source varchar, _dt date, file varchar, status varchar, error varchar, note varchar, sha256 varchar,
    bytes bigint, modified_ns bigint, encoding varchar, rows_read bigint, rows_loaded bigint, rows_quarantined bigint,
    run_id varchar, rows_erased bigint
)"""


def _type(spec: SourceSpec, column: str) -> str:
    if column in spec.timestamps:
        return "timestamp"
    if column in spec.dates or column == "_dt":
        return "date"
    if column in spec.decimals:
        return "decimal(18, 2)"
    if column in spec.integers or column == "_row_number":
        return "bigint"
    return "varchar"


def ensure_tables(conn: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    ensure_ledger(conn)
    loaded = ", ".join(f'"{c}" {_type(spec, c)}' for c in loaded_columns(spec))
    conn.execute(f"create table if not exists raw.{spec.name} ({loaded})")
    for column in loaded_columns(spec):      # a warehouse from an earlier version gains new columns
        conn.execute(f'alter table raw.{spec.name} add column if not exists "{column}" {_type(spec, column)}')
    # Quarantined rows keep what was delivered: text everywhere.
    quarantine = ", ".join(f'"{c}" {"date" if c == "_dt" else "bigint" if c == "_row_number" else "varchar"}'
                           for c in quarantine_columns(spec))
    conn.execute(f"create table if not exists raw.quarantine_{spec.name} ({quarantine}, _run_id varchar)")


def ensure_ledger(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists raw")
    conn.execute(_LEDGER_DDL)
    conn.execute(f"alter table {LEDGER} add column if not exists note varchar")
    conn.execute(f"alter table {LEDGER} add column if not exists modified_ns bigint")
    conn.execute(f"alter table {LEDGER} add column if not exists rows_erased bigint")


def replace_ledger(conn: duckdb.DuckDBPyConnection, source: str | None, files, start: date, end: date) -> None:
    """Only the ledger rows of the window: for entries that belong to no source (source None), and
    for erasure requests, which are never stored as delivered."""
    ensure_ledger(conn)
    conn.execute("begin transaction")
    try:
        if source is None:
            conn.execute(f"delete from {LEDGER} where source is null and _dt >= ? and _dt < ?", [start, end])
        else:
            conn.execute(f"delete from {LEDGER} where source = ? and _dt >= ? and _dt < ?", [source, start, end])
        if len(files):
            conn.execute(f"insert into {LEDGER} by name select * from files")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def daily_history(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, before: date, days: int = 28):
    """Rows loaded per arrival day over the `days` before `before` (days with a ledger entry),
    and for sales the median order amount per day: the trailing baseline of the volume and
    unit checks."""
    ensure_tables(conn, spec)
    rows = conn.execute(
        f"select _dt, sum(rows_loaded) from {LEDGER} where source = ? and _dt >= ? and _dt < ? "
        "group by _dt order by _dt", [spec.name, before - timedelta(days=days), before]).fetchall()
    amounts = []
    if "amount" in spec.decimals:
        amounts = conn.execute(
            f"select _dt, median(amount) from raw.{spec.name} where _dt >= ? and _dt < ? and amount > 0 "
            "group by _dt order by _dt", [before - timedelta(days=days), before]).fetchall()
    return [(d, int(n or 0)) for d, n in rows], [(d, float(a)) for d, a in amounts]


def known_files(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, before: date) -> dict[str, str]:
    """sha256 → file of files already loaded on earlier days (a re-delivered file is skipped)."""
    ensure_tables(conn, spec)
    rows = conn.execute(
        f"select sha256, file from {LEDGER} where source = ? and _dt < ? and status in ('loaded', 'truncated') "
        "order by _dt, file", [spec.name, before]).fetchall()
    return {sha: file for sha, file in reversed(rows)}


def previous_versions(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, start: date, end: date) -> dict:
    """file → (sha256, note, run_id) of the window's files as last loaded: a file whose bytes have
    changed since is a re-delivery, and its ledger row says so."""
    ensure_tables(conn, spec)
    rows = conn.execute(f"select file, sha256, note, run_id from {LEDGER} where source = ? and _dt >= ? and _dt < ?",
                        [spec.name, start, end]).fetchall()
    return {file: (sha, note, run) for file, sha, note, run in rows}


def replace_window(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, result: IngestResult,
                   start: date, end: date, run_id: str) -> None:
    """Replace the half-open window [start, end) of arrival days with `result`, atomically."""
    ensure_tables(conn, spec)
    loaded = result.loaded  # noqa: F841 — referenced by name in SQL (DuckDB replacement scan)
    quarantined = result.quarantined.assign(_run_id=run_id)  # noqa: F841
    files = result.files  # noqa: F841
    conn.execute("begin transaction")
    try:
        for table in (f"raw.{spec.name}", f"raw.quarantine_{spec.name}"):
            conn.execute(f"delete from {table} where _dt >= ? and _dt < ?", [start, end])
        conn.execute(f"delete from {LEDGER} where source = ? and _dt >= ? and _dt < ?", [spec.name, start, end])
        if len(result.loaded):
            conn.execute(f"insert into raw.{spec.name} by name select * from loaded")
        if len(result.quarantined):
            conn.execute(f"insert into raw.quarantine_{spec.name} by name select * from quarantined")
        if len(result.files):
            conn.execute(f"insert into {LEDGER} by name select * from files")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def table_rows(conn: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> int:
    return conn.execute(f"select count(*) from {table} where _dt >= ? and _dt < ?", [start, end]).fetchone()[0]
