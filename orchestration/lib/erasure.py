"""Erasure of a person (PIPL Art. 47): every copy we keep, and a tombstone against their return.

A request names one identifier (types and spellings as in consent). The run of its arrival day
resolves it to the person that identifier belongs to (`marts.identity_map`), takes every
identifier of that person, and then:

- keeps a **tombstone** per identifier: a salted SHA-256 of `type:value` (the salt lives outside
  the warehouse, see `salt`), never the clear value, in `privacy.erasure_tombstones`;
- **deletes** every row that names the person or one of those identifiers from every table of
  the warehouse (by column name: person ids, identifier keys, identifier values; quarantine
  tables, which hold text as delivered, are normalised first);
- **scrubs** the retained outbox folders: lines, JSON elements and zipped hash lists that carry
  any form of the identifiers (clear, E.164, 11-digit, lower-cased, MD5 / SHA-256 of each) are
  removed and the manifest updated;
- **verifies** that no table or outbox file still holds any of those forms, and records the
  request in `marts.erasure_log` (no clear values).

Ingestion then drops the erased identifiers from every record it reads (`mask_erased`): a record
left with no identifier is dropped and counted as `erased`, so re-ingesting old files or re-running
a day never brings the person back.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.identifiers import normalize_email, normalize_id, normalize_phone

SALT_ENV = "USEROPS_ERASURE_SALT"
TOMBSTONES = "privacy.erasure_tombstones"
REQUESTS = "privacy.erasure_requests"
LOG = "marts.erasure_log"

# Columns, by name, that identify a person wherever they appear.
PERSON_COLUMNS = ("person_id", "from_person_id", "into_person_id")
KEY_COLUMNS = ("identifier_key", "node", "src", "dst")
VALUE_COLUMNS = ("phone", "email", "member_id", "member_card_no", "device_id", "push_token", "wechat_openid",
                 "wechat_unionid", "wecom_external_userid", "weibo_uid", "douyin_id", "invitee_openid",
                 "identifier_value", "address")
# Never erased from: the pipeline's own bookkeeping, the tombstones, the seeds (`main`, rebuilt from CSV).
SKIPPED_SCHEMAS = ("privacy", "pipeline", "main", "information_schema", "pg_catalog")


def salt(warehouse: Path) -> bytes:
    """The tombstones' salt: $USEROPS_ERASURE_SALT, else a file beside the warehouse created on
    first use (keep it with the warehouse's backups: without it old tombstones match nothing).
    Outside the warehouse file, so a copy of the warehouse cannot be enumerated back to phones."""
    if os.environ.get(SALT_ENV):
        return os.environ[SALT_ENV].encode()
    path = warehouse.with_name(warehouse.name + ".erasure-salt")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def tombstone(salt_bytes: bytes, identifier_type: str, value: str) -> str:
    return hashlib.sha256(salt_bytes + f"{identifier_type}:{value}".encode()).hexdigest()


def normalise(identifier_type: str, raw: object) -> str | None:
    """An identifier as the warehouse stores it (phones E.164, emails lower-cased)."""
    fn = {"phone": normalize_phone, "email": normalize_email}.get(identifier_type, normalize_id)
    return fn(raw).value


def forms(identifier_type: str, value: str) -> set[str]:
    """Every lower-cased form in which the identifier can appear in a file or table."""
    clear = {value.lower()}
    if identifier_type == "phone" and value.startswith("+86"):
        clear |= {value[1:], value[3:]}
    elif identifier_type == "phone" and value.startswith("+"):
        clear.add(value[1:])
    hashed = {h(c.encode()).hexdigest() for c in clear for h in (hashlib.md5, hashlib.sha256)}
    return clear | hashed


def forms_pattern(all_forms: set[str]) -> re.Pattern | None:
    """Matches any form not embedded in a longer run of letters and digits."""
    if not all_forms:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(all_forms, key=len, reverse=True))
    return re.compile(rf"(?<![0-9a-z])(?:{alternatives})(?![0-9a-z])")


# --- ingestion: erased identifiers never come back ---------------------------------------------

def load_tombstones(conn: duckdb.DuckDBPyConnection) -> set[str]:
    exists = conn.execute("select count(*) from information_schema.tables where table_schema = 'privacy' "
                          "and table_name = 'erasure_tombstones'").fetchone()[0]
    return {h for (h,) in conn.execute(f"select identifier_hash from {TOMBSTONES}").fetchall()} if exists else set()


def mask_erased(typed: pd.DataFrame, identifiers: dict[str, str], typed_identifier: tuple[str, str] | None,
                tombstones: set[str], salt_bytes: bytes) -> tuple[pd.Series, pd.Series]:
    """Blank every erased identifier in `typed` (in place). Returns (erased: rows left with no
    identifier after that, which are dropped; touched: rows that had an erased identifier)."""
    touched = pd.Series(False, index=typed.index)
    left = pd.Series(False, index=typed.index)
    if not tombstones:
        return touched, touched
    columns = [(column, kind) for column, kind in identifiers.items() if column in typed.columns]
    for column, kind in columns:
        values = typed[column]
        hit = values.notna() & values.map(lambda v: isinstance(v, str) and tombstone(salt_bytes, kind, v) in tombstones)
        typed.loc[hit, column] = None
        touched |= hit
        left |= typed[column].notna()
    if typed_identifier:
        type_column, value_column = typed_identifier
        hit = typed[value_column].notna() & pd.Series(
            [isinstance(v, str) and isinstance(t, str) and tombstone(salt_bytes, t, v) in tombstones
             for t, v in zip(typed[type_column], typed[value_column])], index=typed.index)
        typed.loc[hit, value_column] = None
        touched |= hit
        left |= typed[value_column].notna()
    return touched & ~left, touched


_PHONE_LIKE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def text_is_erased(text: object, tombstones: set[str], salt_bytes: bytes) -> bool:
    """Whether a record we could not parse names an erased phone or email."""
    if not tombstones or not isinstance(text, str):
        return False
    candidates = [("phone", normalise("phone", m)) for m in _PHONE_LIKE.findall(text)]
    candidates += [("email", normalise("email", m)) for m in _EMAIL_LIKE.findall(text)]
    return any(v and tombstone(salt_bytes, kind, v) in tombstones for kind, v in candidates)


# --- the run of a request's day ------------------------------------------------------------------

@dataclass
class Erasure:
    """What one run erased."""
    persons: set[str] = field(default_factory=set)
    identifiers: list[tuple[str, str]] = field(default_factory=list)         # (type, normalised value)
    keys: set[int] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)                            # their recall link tokens
    rows_removed: Counter = field(default_factory=Counter)                   # table → rows
    problems: list[str] = field(default_factory=list)

    @property
    def all_forms(self) -> set[str]:
        return {f for kind, value in self.identifiers for f in forms(kind, value)} | self.tokens

    @property
    def pattern(self) -> re.Pattern | None:
        return forms_pattern(self.all_forms)

    @property
    def sql_pattern(self) -> str | None:
        """The same for DuckDB's RE2, which has no look-behind."""
        alternatives = "|".join(re.escape(f) for f in sorted(self.all_forms, key=len, reverse=True))
        return rf"(^|[^0-9a-z])({alternatives})([^0-9a-z]|$)" if alternatives else None


def _exists(conn, schema: str, table: str) -> bool:
    return bool(conn.execute("select count(*) from information_schema.tables where table_schema = ? "
                             "and table_name = ?", [schema, table]).fetchone()[0])


def resolve(conn: duckdb.DuckDBPyConnection, requests: pd.DataFrame) -> tuple[Erasure, dict[str, dict]]:
    """The persons and all their identifiers behind the requests (requests: request_id,
    identifier_type, identifier_value normalised). Returns the erasure and, per request, what it
    resolved to (for the log)."""
    erasure, per_request = Erasure(), {}
    known = _exists(conn, "marts", "identity_map")
    for request in requests.itertuples():
        persons = set()
        if known:
            persons = {p for (p,) in conn.execute(
                "select distinct person_id from marts.identity_map where identifier_type = ? and identifier_value = ?",
                [request.identifier_type, request.identifier_value]).fetchall()}
        identifiers = {(request.identifier_type, request.identifier_value)}
        if persons:
            rows = conn.execute("select identifier_type, identifier_value, identifier_key from marts.identity_map "
                                f"where person_id in ({', '.join('?' * len(persons))})", sorted(persons)).fetchall()
            identifiers |= {(t, v) for t, v, _ in rows}
            erasure.keys |= {k for _, _, k in rows}
        erasure.persons |= persons
        if persons and _exists(conn, "marts", "recall_audience"):
            # the opaque token of their landing links, in the short-link tables and the links sent
            erasure.tokens |= {t.lower() for (t,) in conn.execute(
                "select distinct link_token from marts.recall_audience "
                f"where person_id in ({', '.join('?' * len(persons))})", sorted(persons)).fetchall()}
        erasure.identifiers += sorted(identifiers - set(erasure.identifiers))
        per_request[request.request_id] = {"persons": len(persons), "identifiers": len(identifiers)}
    return erasure, per_request


def _tables(conn) -> list[tuple[str, str, dict[str, str]]]:
    rows = conn.execute("""
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where t.table_type = 'BASE TABLE' and c.table_schema not in ?
        order by 1, 2, c.ordinal_position""", [list(SKIPPED_SCHEMAS)]).fetchall()
    tables: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, kind in rows:
        tables.setdefault((schema, table), {})[column] = kind
    return [(schema, table, columns) for (schema, table), columns in tables.items()]


def delete_everywhere(conn: duckdb.DuckDBPyConnection, erasure: Erasure) -> None:
    """Delete every row naming the erased persons, keys or identifier values."""
    values = sorted({v for _, v in erasure.identifiers})
    pattern = erasure.pattern
    for schema, table, columns in _tables(conn):
        name = f'"{schema}"."{table}"'
        conditions, params = [], []
        for column in columns:
            if column in PERSON_COLUMNS and erasure.persons:
                conditions.append(f'"{column}" in (select unnest(?))')
                params.append(sorted(erasure.persons))
            elif column in KEY_COLUMNS and erasure.keys and columns[column].upper() in ("BIGINT", "HUGEINT"):
                conditions.append(f'"{column}" in (select unnest(?))')
                params.append(sorted(erasure.keys))
            elif column in VALUE_COLUMNS and values and columns[column].upper() == "VARCHAR":
                conditions.append(f'"{column}" in (select unnest(?))')
                params.append(values)
        removed = 0
        if conditions:
            removed = conn.execute(f"delete from {name} where {' or '.join(conditions)}", params).fetchone()[0]
        if schema == "raw" and table.startswith("quarantine_") and pattern is not None:
            removed += _delete_quarantined(conn, name, columns, erasure)
        if removed:
            erasure.rows_removed[f"{schema}.{table}"] += int(removed)


def _delete_quarantined(conn, name: str, columns: dict[str, str], erasure: Erasure) -> int:
    """Quarantined rows hold text as delivered: normalise their identifier cells (and search
    the raw record) before comparing."""
    wanted = set(erasure.identifiers)
    text_columns = [c for c in columns if c in VALUE_COLUMNS or c in ("_raw_record", "_extra")]
    if not text_columns:
        return 0
    frame = conn.execute(f'select _source_file, _row_number, {", ".join(chr(34) + c + chr(34) for c in text_columns)} '
                         f"from {name}").df()
    pattern = erasure.pattern
    doomed = []
    for row in frame.to_dict(orient="records"):
        hit = False
        for column in text_columns:
            cell = row[column]
            if not isinstance(cell, str):
                continue
            if column in ("_raw_record", "_extra", "identifier_value", "address"):
                hit = bool(pattern.search(cell.lower())) or any(
                    (kind, normalise(kind, cell)) in wanted for kind in ("phone", "email"))
            else:
                kind = "phone" if column == "phone" else "email" if column == "email" else column
                hit = (kind, normalise(kind, cell)) in wanted or bool(pattern.search(cell.lower()))
            if hit:
                break
        if hit:
            doomed.append((row["_source_file"], row["_row_number"]))
    if doomed:
        rows = pd.DataFrame(doomed, columns=["_source_file", "_row_number"])  # noqa: F841 — read by name in SQL
        conn.execute(f"delete from {name} where (_source_file, _row_number) in (select * from rows)")
    return len(doomed)


def find_traces(conn: duckdb.DuckDBPyConnection, erasure: Erasure) -> list[str]:
    """Tables whose text still holds a form of an erased identifier (or an erased person id)."""
    pattern = erasure.sql_pattern
    found = []
    for schema, table, columns in _tables(conn):
        text = [c for c, kind in columns.items() if kind.upper() == "VARCHAR"]
        checks, params = [], []
        if pattern is not None and text:
            for column in text:
                checks.append(f'regexp_matches(lower("{column}"), ?)')
                params.append(pattern)
        for column in (c for c in columns if c in PERSON_COLUMNS and erasure.persons):
            checks.append(f'"{column}" in (select unnest(?))')
            params.append(sorted(erasure.persons))
        if checks:
            n = conn.execute(f'select count(*) from "{schema}"."{table}" where {" or ".join(checks)}', params).fetchone()[0]
            if n:
                found.append(f"{schema}.{table}: {n} row(s)")
    return found


# --- the outbox -----------------------------------------------------------------------------

def _scrub_lines(text: str, pattern: re.Pattern, header: bool) -> tuple[str, int]:
    lines = text.splitlines(keepends=True)
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    kept = [line for line in body if not pattern.search(line.lower())]
    return "".join(head + kept), len(body) - len(kept)


def _scrub_json(value, pattern: re.Pattern) -> tuple[object, int]:
    """Remove list elements that carry a form, with the same positions of the lists beside them
    (parallel arrays such as an SMS batch's phones and parameters, also when JSON-encoded)."""
    if isinstance(value, dict):
        decoded = {}
        for key, item in value.items():
            if isinstance(item, str) and item.startswith("["):
                try:
                    decoded[key] = json.loads(item)
                except ValueError:
                    pass
        lists = {k: (decoded[k] if k in decoded else v) for k, v in value.items()
                 if isinstance(v, list) or k in decoded}
        removed = 0
        for length in {len(v) for v in lists.values() if isinstance(v, list)}:
            group = [k for k, v in lists.items() if isinstance(v, list) and len(v) == length]
            bad = {i for k in group for i, element in enumerate(lists[k])
                   if pattern.search(json.dumps(element, ensure_ascii=False).lower())}
            for k in group:
                lists[k] = [e for i, e in enumerate(lists[k]) if i not in bad]
            removed = max(removed, len(bad))
        out = {}
        for key, item in value.items():
            if key in lists:
                cleaned, _ = _scrub_json(lists[key], pattern)
                out[key] = json.dumps(cleaned, ensure_ascii=False) if key in decoded else cleaned
            else:
                out[key], inner = _scrub_json(item, pattern)
                removed = max(removed, inner)
        return out, removed
    if isinstance(value, list):
        kept = [e for e in value if not pattern.search(json.dumps(e, ensure_ascii=False).lower())]
        return [_scrub_json(e, pattern)[0] for e in kept], len(value) - len(kept)
    return value, 0


def scrub_file(path: Path, pattern: re.Pattern) -> int | None:
    """Remove what carries an erased identifier from one outbox file; returns the records
    removed (None: the file did not mention them)."""
    data = path.read_bytes()
    if path.suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(info, archive.read(info)) for info in archive.infolist()]
        if not any(pattern.search(body.decode("utf-8", "replace").lower()) for _, body in members):
            return None
        removed, buffer = 0, io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, body in members:
                text, n = _scrub_lines(body.decode("utf-8"), pattern, header=False)
                removed += n
                archive.writestr(info, text.encode("utf-8"))
        path.write_bytes(buffer.getvalue())
        return removed
    text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    if not pattern.search(text.lower()):
        return None
    bom = "\ufeff" if data.startswith(b"\xef\xbb\xbf") else ""
    if path.suffix == ".json":
        document, removed = _scrub_json(json.loads(text), pattern)
        text = json.dumps(document, ensure_ascii=False, indent=2 if "\n  " in text else None) + (
            "\n" if text.endswith("\n") else "")
    else:                                   # .csv (header kept), .jsonl, .txt
        text, removed = _scrub_lines(text, pattern, header=path.suffix == ".csv")
    path.write_bytes((bom + text).encode("utf-8"))
    return removed


def scrub_outbox(outbox: Path, erasure: Erasure, request_ids: list[str], day: str) -> None:
    """Scrub every retained day folder and bring its manifest up to date."""
    from orchestration.lib.outbox import MANIFEST, read_manifest

    pattern = erasure.pattern
    if pattern is None or not outbox.is_dir():
        return
    for folder in sorted(outbox.glob("dt=*")):
        manifest = read_manifest(folder) if (folder / MANIFEST).exists() else None
        changed = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
            removed = scrub_file(path, pattern)
            if removed is None:
                continue
            changed += removed
            erasure.rows_removed[f"outbox/{folder.name}"] += removed
            relative = path.relative_to(folder).as_posix()
            for entry in (manifest or {}).get("files", []):
                if entry["path"] == relative:
                    body = path.read_bytes()
                    entry.update(rows=max(0, entry["rows"] - removed), bytes=len(body),
                                 sha256=hashlib.sha256(body).hexdigest())
        if manifest is not None and changed:
            manifest.setdefault("erasures", []).append({"on": day, "requests": request_ids, "records_removed": changed})
            (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                           encoding="utf-8")


def outbox_traces(outbox: Path, erasure: Erasure) -> list[str]:
    pattern = erasure.pattern
    if pattern is None or not outbox.is_dir():
        return []
    found = []
    for path in sorted(p for p in outbox.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts = ([zipfile.ZipFile(io.BytesIO(data)).read(n) for n in zipfile.ZipFile(io.BytesIO(data)).namelist()]
                 if path.suffix == ".zip" else [data])
        if any(pattern.search(t.decode("utf-8", "replace").lower()) for t in texts):
            found.append(str(path.relative_to(outbox)))
    return found


def record(conn: duckdb.DuckDBPyConnection, requests: pd.DataFrame, erasure: Erasure, per_request: dict,
           salt_bytes: bytes, completed_at: datetime) -> None:
    """Tombstones, the requests without their clear values, and the erasure log."""
    conn.execute("create schema if not exists privacy")
    conn.execute(f"create table if not exists {TOMBSTONES} (identifier_hash varchar, identifier_type varchar, "
                 "request_id varchar, erased_on date)")
    conn.execute(f"create table if not exists {REQUESTS} (request_id varchar, requested_at timestamp, "
                 "identifier_type varchar, identifier_hash varchar, persons_found bigint, _dt date, "
                 "_source_file varchar, _row_number bigint)")
    conn.execute("create schema if not exists marts")
    conn.execute(f"create table if not exists {LOG} (request_id varchar, requested_at timestamp, "
                 "completed_at timestamp, persons_erased bigint, identifiers_erased bigint, rows_removed varchar)")
    first = requests.iloc[0]["request_id"] if len(requests) else None
    stones = pd.DataFrame([{"identifier_hash": tombstone(salt_bytes, kind, value), "identifier_type": kind,
                            "request_id": first, "erased_on": completed_at.date()}
                           for kind, value in erasure.identifiers])
    rows = requests.assign(
        identifier_hash=[tombstone(salt_bytes, t, v) for t, v in zip(requests.identifier_type, requests.identifier_value)],
        persons_found=[per_request[r]["persons"] for r in requests.request_id])
    rows = rows[["request_id", "requested_at", "identifier_type", "identifier_hash", "persons_found", "_dt",
                 "_source_file", "_row_number"]]
    removed = json.dumps(dict(sorted(erasure.rows_removed.items())), sort_keys=True)
    log = pd.DataFrame([{"request_id": r.request_id, "requested_at": r.requested_at, "completed_at": completed_at,
                         "persons_erased": per_request[r.request_id]["persons"],
                         "identifiers_erased": per_request[r.request_id]["identifiers"], "rows_removed": removed}
                        for r in requests.itertuples()])
    if len(stones):
        conn.execute(f"insert into {TOMBSTONES} select * from stones where identifier_hash not in "
                     f"(select identifier_hash from {TOMBSTONES})")
    conn.execute(f"insert into {REQUESTS} by name select * from rows "
                 f"where request_id not in (select request_id from {REQUESTS})")
    if len(log):      # a day run again keeps the log of the run that did the erasing
        conn.execute(f"insert into {LOG} by name select * from log where request_id not in (select request_id from {LOG})")


def erase(conn: duckdb.DuckDBPyConnection, requests: pd.DataFrame, salt_bytes: bytes, outbox: Path, day: str,
          completed_at: datetime) -> Erasure:
    """Carry out the requests (normalised: request_id, requested_at, identifier_type,
    identifier_value, _dt, _source_file, _row_number). Files first (idempotent), then tombstones,
    deletions and the log in one transaction, so a crash at any point leaves a state from which
    the day's run again resolves the same persons; then the check that nothing is left."""
    erasure, per_request = resolve(conn, requests)
    scrub_outbox(outbox, erasure, sorted(requests.request_id), day)
    conn.execute("begin transaction")
    try:
        delete_everywhere(conn, erasure)
        record(conn, requests, erasure, per_request, salt_bytes, completed_at)
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    erasure.problems = find_traces(conn, erasure) + [f"outbox/{p}" for p in outbox_traces(outbox, erasure)]
    return erasure


COMPACT_SCRATCH = ".compact.tmp-"


def requests_on(conn: duckdb.DuckDBPyConnection, first, last) -> int:
    """Erasure requests that arrived on the days first..last."""
    if not _exists(conn, "privacy", "erasure_requests"):
        return 0
    return conn.execute(f"select count(*) from {REQUESTS} where _dt between ? and ?", [first, last]).fetchone()[0]


def compact(warehouse: Path) -> tuple[int, int]:
    """Rewrite the warehouse file with its live data only, after an erasure: DuckDB keeps deleted
    rows and the blocks of dropped or rebuilt tables in the file as free space, not overwritten,
    so the erased values would survive in the file's bytes. A fresh copy (COPY FROM DATABASE, the
    documented way to compact) replaces it by an atomic rename; no connection may be open on it.
    A scratch copy a killed run left is removed first. Returns the file's bytes before and after."""
    for stale in warehouse.parent.glob(f"{warehouse.name}{COMPACT_SCRATCH}*"):
        stale.unlink()
    scratch = warehouse.with_name(f"{warehouse.name}{COMPACT_SCRATCH}{os.getpid()}")
    before = warehouse.stat().st_size
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("checkpoint")
        catalog, = conn.execute("select current_database()").fetchone()
        quoted = str(scratch).replace("'", "''")
        conn.execute(f"attach '{quoted}' as compacted")
        conn.execute(f'copy from database "{catalog}" to compacted')
        conn.execute("detach compacted")
    if Path(f"{warehouse}.wal").exists():
        scratch.unlink()
        raise RuntimeError(f"{warehouse}.wal is still there after a checkpoint: not replacing the warehouse")
    os.replace(scratch, warehouse)
    return before, warehouse.stat().st_size
