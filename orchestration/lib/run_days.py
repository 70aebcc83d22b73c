"""Which arrival days are done: a day is done only when a whole run over it succeeded, and stays
done only while its files are the ones that run read.

The last asset of every run records its days in `pipeline.completed_days`. Before a run for day D,
`catch_up` finds every earlier day whose data reached raw (or lies in the landing zone after the
first completed day) but whose run never completed — a failed or never-run day — and every done
day whose folder now holds a file the ledger does not know or one whose bytes changed (a corrected
file re-delivered under the same name). The run is widened to start at the first of them (CLI and
schedule alike), so an opt-out takes effect and a correction replaces the earlier rows before
anyone is messaged again. A warehouse from before this record existed has its earlier days taken
as done when the table is first created.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib.contract import LANDING_SPECS
from orchestration.lib.landing import folder_files, source_entries

COMPLETED = "pipeline.completed_days"
_LEDGER = "raw.ingested_files"


FIRST_DAY_TAG, LAST_DAY_TAG = "userops/first_day", "userops/last_day"


def window_tags(first: date, last: date) -> dict[str, str]:
    """The run tags that name a run's arrival days (inclusive)."""
    return {FIRST_DAY_TAG: first.isoformat(), LAST_DAY_TAG: last.isoformat()}


def run_window(tags: dict[str, str]) -> tuple[date, date] | None:
    """The first and last arrival day of a run, from its tags (None when it names none)."""
    first, last = tags.get(FIRST_DAY_TAG), tags.get(LAST_DAY_TAG)
    return (date.fromisoformat(first), date.fromisoformat(last)) if first and last else None


def due_window(warehouse: Path, landing: Path, last: date) -> tuple[date, date, list[str]]:
    """The days a run ending on `last` covers: widened back to the first earlier day to run again
    (a failed, never-run or corrected day), with the reasons for widening."""
    earlier = catch_up(warehouse, landing, last)
    return (earlier.first or last), last, earlier.reasons() if earlier.first else []


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


@dataclass
class CatchUp:
    """Earlier days a run for `before` must also cover, and why."""
    unfinished: list[date] = field(default_factory=list)
    redelivered: dict[date, list[str]] = field(default_factory=dict)   # day → files new or changed since its run

    @property
    def first(self) -> date | None:
        return min([*self.unfinished, *self.redelivered], default=None)

    def reasons(self) -> list[str]:
        lines = [f"earlier day(s) landed but never completed: {', '.join(map(str, self.unfinished))}"] \
            if self.unfinished else []
        lines += [f"{day} changed after its run: {', '.join(files[:5])}" + (f" (+{len(files) - 5} more)"
                                                                          if len(files) > 5 else "")
                  for day, files in sorted(self.redelivered.items())]
        return lines


def catch_up(warehouse: Path, landing: Path, before: date) -> CatchUp:
    """The days before `before` to run again (nothing for a new warehouse). Raises
    duckdb.IOException while another process writes the warehouse."""
    if not warehouse.exists():
        return CatchUp()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        if not _exists(conn, "pipeline", "completed_days"):
            return CatchUp()
        done = {d for (d,) in conn.execute(f"select day from {COMPLETED} where day < ?", [before]).fetchall()}
        ledger = []
        if _exists(conn, "raw", "ingested_files"):
            columns = {c for (c,) in conn.execute("select column_name from information_schema.columns where "
                                                  "table_schema = 'raw' and table_name = 'ingested_files'").fetchall()}
            modified = "modified_ns" if "modified_ns" in columns else "null"     # written before re-deliveries were tracked
            ledger = conn.execute(f"select source, _dt, file, sha256, bytes, {modified} from {_LEDGER} "
                                  "where source is not null and _dt < ?", [before]).fetchall()
    landed = {day for _, day, *_ in ledger}
    first = min(done, default=None)
    known = {(source, file): (sha, size, modified) for source, _, file, sha, size, modified in ledger}
    redelivered: dict[date, list[str]] = {}
    for source in LANDING_SPECS:
        days = source_entries(landing, source)[0]
        landed |= {d for d in days if first and first < d < before}
        for day in sorted(d for d in days if d in done):
            files, ignored = folder_files(days[day])
            changed = [name for name in (path.relative_to(landing).as_posix() for path, _ in ignored)
                       if (source, name) not in known]
            changed += [path.relative_to(landing).as_posix() for path in files
                        if _changed(path, known.get((source, path.relative_to(landing).as_posix())))]
            if changed:
                redelivered[day] = changed
    return CatchUp(sorted(landed - done), redelivered)


def _changed(path: Path, known: tuple | None) -> bool:
    """A file the ledger does not list, or whose bytes differ from the ones loaded (hashed only when
    its size or modification time differ from the ledger's)."""
    if known is None:
        return True
    sha, size, modified = known
    stat = path.stat()
    if stat.st_size == size and (modified is None or stat.st_mtime_ns == modified):
        return False
    return sha is None or hashlib.sha256(path.read_bytes()).hexdigest() != sha
