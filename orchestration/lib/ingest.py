"""Landing-zone partition → (loaded rows, quarantined rows, file ledger), for one source.

Order of work for each day of a run: read every file (a file that breaks the contract is
recorded as failed and the rest of the day still loads), parse and normalise the contract's
columns, apply the Great Expectations row rules, then split rows into loaded and quarantined.
Every row read ends up in exactly one of the two frames, or — when it names only identifiers
of erased persons (orchestration/lib/erasure.py) — is dropped and counted as erased (rows read =
loaded + quarantined + erased). Erased identifiers are blanked in the rows that are kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from orchestration.lib import erasure, expectations, fail_closed
from orchestration.lib.contract import SourceSpec, canonical_value
from orchestration.lib.identifiers import normalize_email, normalize_id_series, normalize_phone, normalize_series
from orchestration.lib.landing import FileContractError, landing_entries, partition_files, read_file, source_entries
from orchestration.lib.parsing import parse_dates, parse_decimals, parse_integers, parse_timestamps

LINEAGE = ("_dt", "_source_file", "_row_number")
# Events dated more than one day after the end of their arrival day are clock errors (contract).
FUTURE_TOLERANCE = timedelta(days=2)


@dataclass
class IngestResult:
    source: str
    loaded: pd.DataFrame
    quarantined: pd.DataFrame
    files: pd.DataFrame
    failed_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)      # each names the file and day
    unattributed_opt_outs: int = 0                          # fail-closed sources: refusals naming nobody
    rows_erased: int = 0                                    # dropped: they named erased persons only

    @property
    def rows_read(self) -> int:
        return len(self.loaded) + len(self.quarantined) + self.rows_erased

    @property
    def reasons(self) -> Counter:
        return Counter(self.quarantined["_reason"]) if len(self.quarantined) else Counter()


@dataclass
class IngestTotals:
    """What a run did over all its batches (for metadata and checks)."""

    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_erased: int = 0
    reasons: Counter = field(default_factory=Counter)
    failed_files: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unattributed_opt_outs: int = 0
    fail_closed_rows: int = 0
    rows_per_day: dict = field(default_factory=dict)        # arrival day with files read → rows read
    amount_per_day: dict = field(default_factory=dict)      # arrival day → median amount of its orders

    @property
    def rows_read(self) -> int:
        return self.rows_loaded + self.rows_quarantined + self.rows_erased

    def add(self, result: IngestResult) -> None:
        self.rows_loaded += len(result.loaded)
        self.rows_quarantined += len(result.quarantined)
        self.rows_erased += result.rows_erased
        self.reasons.update(result.reasons)
        self.failed_files += result.failed_files
        self.warnings += result.warnings
        self.unattributed_opt_outs += result.unattributed_opt_outs
        if "_read_problem" in result.loaded.columns:
            self.fail_closed_rows += int(result.loaded["_read_problem"].notna().sum())
        read = result.files[result.files["status"].isin(["loaded", "truncated"])]
        self.rows_per_day.update({d: int(n) for d, n in read.groupby("_dt")["rows_read"].sum().items()})
        if "amount" in result.loaded.columns and len(result.loaded):
            paid = result.loaded[result.loaded["amount"] > 0]
            self.amount_per_day.update({d: float(a) for d, a in paid.groupby("_dt")["amount"].median().items()})
        self.files += result.files.assign(_dt=result.files["_dt"].astype(str)).to_dict(orient="records")


def loaded_columns(spec: SourceSpec) -> list[str]:
    """Column order of raw.<source>: the contract's columns (typed), phone kinds, what fail-closed
    sources derived (see fail_closed.py), extras, lineage."""
    return [*spec.columns, *(f"{c}_kind" for c in spec.phones), *fail_closed.derived_columns(spec),
            "_extra", *LINEAGE]


def quarantine_columns(spec: SourceSpec) -> list[str]:
    return [*spec.columns, "_extra", "_raw_record", "_reason", "_detail", *LINEAGE]


def _relative(path: Path, landing: Path) -> str:
    try:
        return str(path.relative_to(landing))
    except ValueError:
        return str(path)


def _extras(frame: pd.DataFrame, spec: SourceSpec) -> pd.Series:
    """Unknown columns kept as one JSON object per row (None when the row has none)."""
    extra = [c for c in frame.columns if c not in spec.columns and not c.startswith("_")]
    if not extra:
        return pd.Series([None] * len(frame), index=frame.index, dtype="object")
    lines = frame[extra].to_json(orient="records", lines=True, force_ascii=False).splitlines()
    series = pd.Series(lines, index=frame.index, dtype="object")
    return series.where(frame[extra].notna().any(axis=1), None)


def plan_batches(spec: SourceSpec, landing: Path, days: list[date], max_bytes: int) -> list[list[date]]:
    """Split a run's days into runs of consecutive days whose files add up to about `max_bytes`,
    so a year-long backfill never holds the whole year in memory (a single day is never split)."""
    batches: list[list[date]] = []
    size = 0
    for day in days:
        day_bytes = sum(p.stat().st_size for p in partition_files(landing, spec.name, day)[0])
        if batches and size + day_bytes <= max_bytes:
            batches[-1].append(day)
            size += day_bytes
        else:
            batches.append([day])
            size = day_bytes
    return batches


LEDGER_COLUMNS = ["source", "_dt", "file", "status", "error", "note", "sha256", "bytes", "modified_ns", "encoding",
                  "rows_read", "run_id"]
REDELIVERED = "re-delivered: replaces the version"


def redelivery_note(previous: tuple[str | None, str | None, str | None] | None, sha256: str) -> str | None:
    """The ledger's record that a file now holds other bytes than when it was last loaded (kept
    on later re-runs of the day while the bytes stay the same)."""
    if previous is None:
        return None
    old_sha, old_note, old_run = previous
    if old_sha and old_sha != sha256:
        return f"{REDELIVERED} {old_sha[:12]}… loaded by run {old_run}"
    kept = [part for part in (old_note or "").split("; ") if part.startswith(REDELIVERED)]
    return kept[0] if kept and old_sha == sha256 else None


def ignored_entries(spec: SourceSpec | None, landing: Path, day: date) -> list[tuple[Path, str]]:
    """What a run ending on `day` reports as not read beyond the day folders themselves: entries of
    the source folder that name no day (or, with no spec, entries of the landing zone that belong
    to no source). Reported by every run until someone moves them."""
    return source_entries(landing, spec.name)[1] if spec else landing_entries(landing)


def ignored_ledger(source: str | None, entries: list[tuple[Path, str]], landing: Path, day: date,
                   run_id: str) -> tuple[list[dict], list[str]]:
    rows, warnings = [], []
    for path, why in entries:
        name = _relative(path, landing)
        rows.append({"source": source, "_dt": day, "file": name, "status": "ignored", "error": why,
                     "bytes": path.stat().st_size if path.is_file() else None,
                     "modified_ns": path.stat().st_mtime_ns if path.is_file() else None, "rows_read": 0,
                     "run_id": run_id})
        warnings.append(f"{source or 'landing'} {day}: {name} ignored: {why}")
    return rows, warnings


def read_days(spec: SourceSpec, landing: Path, days: list[date], run_id: str,
              known_files: dict[str, str] | None = None, undated: bool = False, previous: dict | None = None):
    """Read every file of the days. Returns (text rows, malformed rows, ledger rows, failures,
    warnings). Every entry of the day folders is in the ledger: read, failed or ignored (why);
    with `undated`, so are the source folder's entries that name no day (on the last day).
    `previous` (file → sha256, note, run_id of its last load) marks a file whose bytes changed."""
    known = dict(known_files or {})            # sha256 → file already loaded (earlier day or this run)
    previous = previous or {}
    frames, malformed, ledger, failed, warnings = [], [], [], [], []
    for day in days:
        paths, ignored = partition_files(landing, spec.name, day)
        if undated and day == days[-1]:
            ignored = ignored + ignored_entries(spec, landing, day)
        rows, said = ignored_ledger(spec.name, ignored, landing, day, run_id)
        ledger += rows
        warnings += said
        for path in paths:
            name = _relative(path, landing)
            entry = {"source": spec.name, "_dt": day, "file": name, "run_id": run_id,
                     "modified_ns": path.stat().st_mtime_ns}
            if path.parent.name != f"dt={day.isoformat()}":
                warnings.append(f"{spec.name} {day}: {name} read as arrival day {day} (folder should be dt={day})")
            try:
                read = read_file(path, spec)
            except FileContractError as exc:
                failed.append(str(exc))
                ledger.append({**entry, "status": "failed", "error": str(exc), "sha256": None,
                               "bytes": path.stat().st_size, "encoding": None, "rows_read": 0})
                continue
            redelivered = redelivery_note(previous.get(name), read.sha256)
            entry.update(sha256=read.sha256, bytes=read.bytes, encoding=read.encoding,
                         note="; ".join(([redelivered] if redelivered else []) + read.notes + read.warnings) or None)
            warnings += [f"{spec.name} {day}: {name}: {w}" for w in read.warnings]
            if redelivered and previous[name][0] != read.sha256:
                warnings.append(f"{spec.name} {day}: {name} re-delivered with other content: "
                                "its earlier rows are replaced")
            if read.sha256 in known:
                ledger.append({**entry, "status": "duplicate_file", "rows_read": 0,
                               "error": f"same bytes as {known[read.sha256]}; skipped"})
                continue
            known[read.sha256] = name
            rows = len(read.frame) + len(read.bad_rows)
            status = "truncated" if read.truncated else "loaded"
            error = f"{name}: last record cut off (truncated delivery?)" if read.truncated else None
            if read.truncated:
                failed.append(error)
            ledger.append({**entry, "status": status, "error": error, "rows_read": rows})
            frame = read.frame
            frame["_dt"] = day
            frame["_source_file"] = name
            frames.append(frame)
            for number, reason, raw in read.bad_rows:
                malformed.append({"_dt": day, "_source_file": name, "_row_number": number, "_reason": reason,
                                  "_detail": ("the file ends inside this record" if reason == "truncated"
                                              else "could not split the record into the header's fields"),
                                  "_raw_record": raw})
    text = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return text, malformed, ledger, failed, warnings


def type_rows(text: pd.DataFrame, spec: SourceSpec, tz: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Parse and normalise the contract's columns. Returns (typed frame, reason, detail), where
    reason is the first parsing problem of a row (or null)."""
    n = len(text)
    for column in spec.columns:
        if column not in text.columns:
            text[column] = pd.Series([None] * n, index=text.index, dtype="object")
    typed = pd.DataFrame(index=text.index)
    reason = pd.Series([None] * n, index=text.index, dtype="object")
    detail = pd.Series([None] * n, index=text.index, dtype="object")

    def flag(mask: pd.Series, code: str | pd.Series, column: str) -> None:
        mask = mask.fillna(False).astype(bool) & reason.isna()
        reason[mask] = code[mask] if isinstance(code, pd.Series) else code
        detail[mask] = column

    for column in spec.columns:
        raw = text[column]
        if column in spec.timestamps:
            parsed = parse_timestamps(raw, tz)
            present = raw.astype("string").str.strip().fillna("") != ""
            flag(present & parsed.isna(), "bad_timestamp", column)
            typed[column] = parsed
        elif column in spec.dates:
            typed[column], bad = parse_dates(raw)
            flag(bad, "bad_date", column)
        elif column in spec.decimals:
            typed[column], bad = parse_decimals(raw)
            flag(bad, "bad_number", column)
        elif column in spec.integers:
            typed[column], bad = parse_integers(raw)
            flag(bad, "bad_number", column)
        elif column in spec.phones or column in spec.emails:
            fn = normalize_phone if column in spec.phones else normalize_email
            norm = normalize_series(raw, fn)
            flag(norm["reason"].notna(), norm["reason"], column)
            typed[column] = norm["value"]
            if column in spec.phones:
                typed[f"{column}_kind"] = norm["kind"]
        elif column in spec.ids:
            typed[column] = normalize_id_series(raw)
        elif column in spec.enums:      # `短信` → sms, `OPT-OUT` → opt_out
            typed[column] = raw.map(lambda v: canonical_value(spec.name, column, v)).astype("object")
        else:
            cleaned = raw.astype("string").str.strip()
            typed[column] = cleaned.mask(cleaned == "").astype("object")
    if spec.typed_identifier:
        type_column, value_column = spec.typed_identifier
        raw = text[value_column]
        value = normalize_id_series(raw)
        for id_type, fn in (("phone", normalize_phone), ("email", normalize_email)):
            rows = typed[type_column] == id_type
            if rows.any():
                norm = normalize_series(raw[rows], fn)
                value[rows] = norm["value"]
                flag(rows & norm["reason"].reindex(rows.index).notna(),
                     norm["reason"].reindex(rows.index), value_column)
        typed[value_column] = value
    for column, fallback in spec.defaults.items():
        typed[column] = typed[column].fillna(typed[fallback] if isinstance(fallback, str) else fallback)
    # Future-dated events: more than a day after the end of their arrival day.
    limit = pd.to_datetime(text["_dt"]).astype("datetime64[us]") + FUTURE_TOLERANCE
    flag(typed[spec.event_time] >= limit, "future_event_time", spec.event_time)
    typed["_extra"] = _extras(text, spec)
    typed["_dt"] = text["_dt"]
    typed["_source_file"] = text["_source_file"]
    typed["_row_number"] = text["_row_number"].astype("int64")
    return typed, reason, detail


def ingest(spec: SourceSpec, landing: Path, days: list[date], tz: str, run_id: str,
           known_files: dict[str, str] | None = None, undated: bool = False,
           previous: dict | None = None, tombstones: set[str] | None = None, salt: bytes = b"") -> IngestResult:
    text, malformed, ledger, failed, warnings = read_days(spec, landing, days, run_id, known_files, undated,
                                                          previous)
    loaded_cols, quarantine_cols = loaded_columns(spec), quarantine_columns(spec)
    erased_per_file: Counter = Counter()
    if tombstones and malformed:          # unparsed records: searched for erased phones and emails
        kept = [m for m in malformed if not erasure.text_is_erased(m["_raw_record"], tombstones, salt)]
        erased_per_file.update(m["_source_file"] for m in malformed if m not in kept)
        malformed = kept
    if len(text):
        typed, reason, detail = type_rows(text, spec, tz)
        if tombstones:
            gone, touched = erasure.mask_erased(typed, spec.identifiers, spec.typed_identifier, tombstones, salt)
            for column in [*spec.identifiers, *(spec.typed_identifier[1:] if spec.typed_identifier else ())]:
                text.loc[touched & typed[column].isna(), column] = None      # quarantine keeps no erased cell
            erased_per_file.update(text.loc[gone, "_source_file"])
            text, typed, reason, detail = text[~gone], typed[~gone], reason[~gone], detail[~gone]
        # Row rules from the GX suite, on the rows that parsed.
        candidates = typed[reason.isna()]
        positions_to_index = candidates.index.to_numpy()
        for outcome in expectations.validate_rows(candidates[list(spec.columns)], spec.name):
            index = positions_to_index[list(outcome.positions)]
            fresh = reason.loc[index].isna()
            reason.loc[index[fresh.to_numpy()]] = outcome.reason
            detail.loc[index[fresh.to_numpy()]] = outcome.column
        if spec.fail_closed:
            fail_closed.derive(spec, typed, reason, detail)       # unreadable refusals still refuse
        bad = reason.notna()
        loaded = typed[~bad].reindex(columns=loaded_cols)
        quarantined = text[bad].copy()
        quarantined["_extra"] = typed.loc[bad, "_extra"]
        quarantined["_raw_record"] = None
        quarantined["_reason"] = reason[bad]
        quarantined["_detail"] = detail[bad]
        quarantined = quarantined.reindex(columns=quarantine_cols)
    else:
        loaded = pd.DataFrame(columns=loaded_cols)
        quarantined = pd.DataFrame(columns=quarantine_cols)
    if malformed:
        quarantined = pd.concat([quarantined, pd.DataFrame(malformed).reindex(columns=quarantine_cols)],
                                ignore_index=True)
    quarantined = quarantined.sort_values(["_dt", "_source_file", "_row_number"], ignore_index=True)
    loaded = loaded.sort_values(["_dt", "_source_file", "_row_number"], ignore_index=True)
    files = pd.DataFrame(ledger, columns=LEDGER_COLUMNS)
    if len(files):
        per_file_loaded = loaded.groupby("_source_file").size()
        per_file_quarantined = quarantined.groupby("_source_file").size()
        files["rows_loaded"] = files["file"].map(per_file_loaded).fillna(0).astype("int64")
        files["rows_quarantined"] = files["file"].map(per_file_quarantined).fillna(0).astype("int64")
        files["rows_erased"] = files["file"].map(erased_per_file).fillna(0).astype("int64")
    else:
        for column in ("rows_loaded", "rows_quarantined", "rows_erased"):
            files[column] = pd.Series(dtype="int64")
    unattributed = fail_closed.unattributed_refusals(spec, quarantined) if spec.fail_closed else 0
    return IngestResult(spec.name, loaded, quarantined, files, failed, warnings, unattributed,
                        sum(erased_per_file.values()))


def _median(values: list[float]) -> float | None:
    return float(pd.Series(values).median()) if values else None


def volume_warnings(spec: SourceSpec, totals: IngestTotals, history: list[tuple[date, int]],
                    min_share: float, min_days: int) -> list[str]:
    """Days whose delivered rows fall far below the trailing median (a cut or emptied export):
    each day with files is compared with the median of the 28 days before it that had files."""
    known = dict(history) | totals.rows_per_day
    warnings = []
    for day, rows in sorted(totals.rows_per_day.items()):
        before = [n for d, n in known.items() if day - timedelta(days=28) <= d < day]
        median = _median(before)
        if len(before) >= min_days and median and rows < min_share * median:
            warnings.append(f"{spec.name} {day}: {rows:,} rows delivered, under {min_share:.0%} of the trailing "
                            f"median {median:,.0f} (a file cut short or an empty export?)")
    return warnings


def freshness_warnings(spec: SourceSpec, totals: IngestTotals, history: list[tuple[date, int]],
                       days: list[date], streak: int = 7) -> list[str]:
    """Days of the run on which a source that delivered on each of the `streak` days before sent
    nothing (a stopped export: the contract allows a quiet source, not a silent break)."""
    if streak <= 0:                  # an event-driven source (consent, replies): a quiet day is normal
        return []
    delivered = {d for d, n in history} | set(totals.rows_per_day)
    return [f"{spec.name} {day}: nothing delivered, after a delivery on each of the {streak} days before "
            "(an export that stopped?)"
            for day in days if day not in delivered
            and all(day - timedelta(days=k) in delivered for k in range(1, streak + 1))]


def unit_errors(spec: SourceSpec, totals: IngestTotals, history: list[tuple[date, float]],
                max_ratio: float, min_days: int) -> list[str]:
    """Days whose median order amount jumped (×100: fen delivered as yuan) against the trailing median."""
    known = dict(history) | totals.amount_per_day
    errors = []
    for day, amount in sorted(totals.amount_per_day.items()):
        before = [a for d, a in known.items() if day - timedelta(days=28) <= d < day]
        median = _median(before)
        if len(before) >= min_days and median and amount >= max_ratio * median:
            errors.append(f"{spec.name} {day}: median amount {amount:,.2f} is {amount / median:,.0f}× the trailing "
                          f"median {median:,.2f}: amounts in fen instead of yuan (units changed)?")
    return errors
