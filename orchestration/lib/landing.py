"""Reading the landing zone: `<landing>/<source>/dt=YYYY-MM-DD/<files>`.

Every cell is read as text (leading zeros and long numbers survive); typing happens later.
A file either yields rows (plus the row numbers of lines it could not split into fields) or
raises `FileContractError` with a message naming the file and what is wrong with it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")


class FileContractError(Exception):
    """The file cannot be loaded at all (undecodable, empty, a required column missing)."""


@dataclass
class FileRead:
    path: Path
    sha256: str
    bytes: int
    encoding: str | None
    frame: pd.DataFrame                       # text cells; `_row_number` is 1-based per file
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)  # (row_number, reason, raw text)
    truncated: bool = False


def partition_dir(landing: Path, source: str, day: date) -> Path:
    return landing / source / f"dt={day.isoformat()}"


def partition_files(landing: Path, source: str, day: date) -> list[Path]:
    folder = partition_dir(landing, source, day)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(SUFFIXES))


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """UTF-8 (BOM or not) first; GB18030 (a superset of GBK) when the bytes are not UTF-8.
    Never decodes with replacement characters: an undecodable file fails."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileContractError(f"{path}: not valid UTF-8 or GB18030 text (byte {exc.start})") from exc


def _text_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value != value:
        return None
    return str(value)


def _read_csv(text: str, path: Path) -> tuple[pd.DataFrame, list[tuple[int, str, str]], bool]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileContractError(f"{path}: empty file (no header row)") from None
    except csv.Error as exc:
        raise FileContractError(f"{path}: unreadable header: {exc}") from exc
    rows, numbers, bad = [], [], []
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:                 # e.g. NUL bytes, runaway quotes
            number += 1
            bad.append((number, "malformed_row", str(exc)))
            continue
        if not row:
            continue                              # blank line
        number += 1
        if len(row) != len(header):
            bad.append((number, "malformed_row", ",".join(row)))
            continue
        rows.append(row)
        numbers.append(number)
    truncated = bool(text) and not text.endswith(("\n", "\r")) and bool(bad) and bad[-1][0] == number
    frame = pd.DataFrame(rows, columns=header, dtype="object")
    frame["_row_number"] = numbers
    return frame, bad, truncated


def _read_jsonl_fast(data: bytes, text_columns: tuple[str, ...], required: tuple[str, ...]) -> pd.DataFrame | None:
    """Arrow's multi-threaded JSON reader for the common clean case; None when the file needs
    the careful line-by-line path (bad or blank lines, values that are not text or whole numbers)."""
    if not data.strip() or b"\n\n" in data or b"\r" in data:
        return None
    try:
        # Contract columns are text (Arrow would otherwise turn ISO strings into timestamps).
        schema = pa.schema([(c, pa.string()) for c in text_columns])
        table = pa_json.read_json(io.BytesIO(data), parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="infer"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    # Explicit columns absent from the file come back as nulls: let the careful path tell an
    # absent required column (a contract break) from one that is merely empty.
    if any(table.column(c).null_count == len(table) for c in required if c in table.column_names):
        return None
    if not all(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t) or pa.types.is_int64(t)
               for t in table.schema.types):
        return None
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        values = column.cast(pa.string()) if not pa.types.is_string(column.type) else column
        columns[name.strip()] = pd.Series(values.to_numpy(zero_copy_only=False), dtype="object")
    frame = pd.DataFrame(columns)
    frame["_row_number"] = range(1, len(frame) + 1)
    return frame


def _read_jsonl(text: str, text_columns: tuple[str, ...] = (),
                required: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[tuple[int, str, str]], bool]:
    """Line by line: every line that is not a JSON object is reported with its line number; the
    good lines are then read by Arrow when their values allow, else as Python records."""
    records, numbers, good, bad = [], [], [], []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            bad.append((number, "malformed_json", line))
            continue
        if not isinstance(record, dict):
            bad.append((number, "malformed_json", line))
            continue
        records.append(record)
        good.append(line)
        numbers.append(number)
    truncated = bool(text) and not text.endswith("\n") and bool(bad) and bad[-1][0] == len(lines)
    frame = _read_jsonl_fast("\n".join(good).encode("utf-8"), text_columns, required) if good else None
    if frame is None:
        frame = pd.DataFrame.from_records([{k.strip(): _text_cell(v) for k, v in r.items()} for r in records]) \
            if records else pd.DataFrame()
        frame = frame.astype("object")
    frame["_row_number"] = numbers
    return frame, bad, truncated


def _read_parquet(data: bytes, path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 — pyarrow raises several types for corrupt files
        raise FileContractError(f"{path}: unreadable Parquet file: {exc}") from exc
    frame = pd.DataFrame({name: [_text_cell(v) for v in table.column(name).to_pylist()]
                          for name in table.column_names}, dtype="object")
    frame["_row_number"] = range(1, len(frame) + 1)
    return frame


def read_file(path: Path, required: tuple[str, ...], text_columns: tuple[str, ...] = ()) -> FileRead:
    """Read one landing file as text cells. `text_columns` (the contract's columns) are read as
    text even where they look like numbers or dates."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise FileContractError(f"{path}: empty file (0 bytes)")
    name = path.name.lower()
    if name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FileContractError(f"{path}: broken gzip stream: {exc}") from exc
        name = name[:-3]
    encoding, bad, truncated = None, [], False
    if name.endswith(".parquet"):
        frame = _read_parquet(data, path)
    else:
        text, encoding = decode(data, path)
        if name.endswith(".csv"):
            frame, bad, truncated = _read_csv(text, path)
        else:
            fast = _read_jsonl_fast(data, text_columns or required, required) if encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf") else None
            frame, bad, truncated = ((fast, [], False) if fast is not None
                                     else _read_jsonl(text, text_columns or required, required))
    missing = [c for c in required if c not in frame.columns]
    if missing and (len(frame) or name.endswith(".csv") or name.endswith(".parquet")):
        raise FileContractError(f"{path}: required column(s) missing: {', '.join(missing)}")
    for column in required:           # jsonl with no valid record at all
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object")
    return FileRead(path=path, sha256=digest, bytes=path.stat().st_size, encoding=encoding,
                    frame=frame, bad_rows=bad, truncated=truncated)
