"""Reading the landing zone: `<landing>/<source>/dt=YYYY-MM-DD/<files>`.

Every cell is read as text (leading zeros and long numbers survive); typing happens later.
A file either yields rows (plus the row numbers of records it could not read whole) or raises
`FileContractError` with a message naming the file and what is wrong with it. Every entry of
the landing zone that is not read is returned with the reason, so the ledger accounts for it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from orchestration.lib.contract import LANDING_SPECS, SourceSpec, column_aliases, name_key

SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz", ".xlsx", ".parquet")
SAMPLE_MARKER = ".userops-sample"        # marks a landing zone the sample generator owns
_DAY_FOLDER = re.compile(r"^dt=(\d{4})-(\d{1,2})-(\d{1,2})$|^dt=(\d{4})(\d{2})(\d{2})$")


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
    notes: list[str] = field(default_factory=list)       # how it was read, where that needs saying
    warnings: list[str] = field(default_factory=list)    # what an operator should look at


# --- finding files --------------------------------------------------------------------------------

def partition_dir(landing: Path, source: str, day: date) -> Path:
    return landing / source / f"dt={day.isoformat()}"


def folder_day(name: str) -> date | None:
    """The arrival day a folder name stands for: `dt=YYYY-MM-DD`, also `dt=YYYY-M-D` and
    `dt=YYYYMMDD` as exporters write them; None for anything else."""
    match = _DAY_FOLDER.match(name)
    if not match:
        return None
    year, month, day = (int(g) for g in (match.group(1, 2, 3) if match.group(1) else match.group(4, 5, 6)))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def landing_days(landing: Path) -> list[date]:
    """Every day that has a `dt=` folder under any source of the landing zone."""
    return sorted({day for source in (landing.iterdir() if landing.is_dir() else []) if source.is_dir()
                   for entry in os.scandir(source) if entry.is_dir() and (day := folder_day(entry.name))})


def source_entries(landing: Path, source: str) -> tuple[dict[date, list[Path]], list[tuple[Path, str]]]:
    """The day folders of a source by day, and every other entry of the source folder with why it
    is not read."""
    folder = landing / source
    days: dict[date, list[Path]] = {}
    ignored: list[tuple[Path, str]] = []
    if not folder.is_dir():
        return days, ignored
    for entry in sorted(folder.iterdir()):
        day = folder_day(entry.name) if entry.is_dir() else None
        if day is not None:
            days.setdefault(day, []).append(entry)
        elif entry.is_dir():
            ignored.append((entry, "folder name is not dt=YYYY-MM-DD: nothing in it is read"))
        else:
            ignored.append((entry, "file outside a dt=YYYY-MM-DD folder: not read"))
    return days, ignored


def partition_files(landing: Path, source: str, day: date) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The readable files of a source's day (in every folder naming that day), and the entries of
    those folders that are not read, with why."""
    return folder_files(source_entries(landing, source)[0].get(day, []))


def folder_files(folders: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The readable files of a day's folders, and their other entries with why they are not read."""
    files, ignored = [], []
    for folder in folders:
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                ignored.append((entry, "nested folder inside a day folder: files in it are not read"))
            elif entry.name.startswith("."):
                ignored.append((entry, "hidden file (still being written?): not read"))
            elif not entry.name.lower().endswith(SUFFIXES):
                ignored.append((entry, f"unknown file type (read: {', '.join(SUFFIXES)})"))
            else:
                files.append(entry)
    return files, ignored


def undelivered_days(landing: Path, days: list[date]) -> list[date]:
    """Days for which no source has a day folder at all: nothing arrived (an export that did not
    run). An empty `dt=` folder is a delivery of nothing, the way to confirm a day without data."""
    delivered: set[date] = set()
    for source in LANDING_SPECS:
        delivered |= set(source_entries(landing, source)[0])
    return [day for day in days if day not in delivered]


def landing_entries(landing: Path) -> list[tuple[Path, str]]:
    """Entries at the top of the landing zone that belong to no source, with why."""
    if not landing.is_dir():
        return []
    return [(entry, "unknown source folder (sources: " + ", ".join(LANDING_SPECS) + ")" if entry.is_dir()
             else "file outside a source folder: not read")
            for entry in sorted(landing.iterdir())
            if entry.name not in LANDING_SPECS and entry.name != SAMPLE_MARKER]


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
    # A delivery cut short ends without a newline after its last record, or inside a quoted field
    # (an odd number of quotes: the open quote swallowed the rest). The last record is not whole.
    truncated = number > 0 and (not text.endswith(("\n", "\r")) or text.count('"') % 2 == 1)
    if truncated:
        if numbers and numbers[-1] == number:
            bad.append((number, "truncated", ",".join(rows.pop())))
            numbers.pop()
        else:
            bad[-1] = (number, "truncated", bad[-1][2])
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
    # Records end at \n only: U+2028 and other line separators may sit inside JSON strings.
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    last = max((n for n, line in enumerate(lines, start=1) if line.strip()), default=0)
    truncated = last > 0 and not text.endswith("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if truncated and number == last:
            bad.append((number, "truncated", line))
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
    frame = _read_jsonl_fast("\n".join(good).encode("utf-8"), text_columns, required) if good else None
    if frame is None:
        frame = _records_frame(records)
    frame["_row_number"] = numbers
    return frame, bad, truncated


def _records_frame(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records([{k.strip(): _text_cell(v) for k, v in r.items()} for r in records]) \
        if records else pd.DataFrame()
    return frame.astype("object")


def _read_json_array(text: str, path: Path) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """A JSON document holding an array of objects (or one object): record n is element n."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise FileContractError(f"{path}: not a whole JSON document (cut short?): {exc}") from exc
    items = document if isinstance(document, list) else [document]
    records, numbers, bad = [], [], []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            records.append(item)
            numbers.append(number)
        else:
            bad.append((number, "malformed_json", json.dumps(item, ensure_ascii=False)))
    frame = _records_frame(records)
    frame["_row_number"] = numbers
    return frame, bad


def _read_xlsx(data: bytes, path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The first sheet of a workbook, header in its first row, every cell as text."""
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        frame = pd.read_excel(book, sheet_name=0, dtype=str, header=0, keep_default_na=False, na_values=[])
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many types for broken workbooks
        raise FileContractError(f"{path}: unreadable Excel workbook: {exc}") from exc
    frame = frame.astype("object").where(frame != "", None)
    frame.columns = [str(c) for c in frame.columns]
    frame["_row_number"] = range(1, len(frame) + 1)
    others = book.sheet_names[1:]
    return frame, [f"only the first sheet {book.sheet_names[0]!r} read; not read: {', '.join(others)}"] if others else []


def _read_parquet(data: bytes, path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 — pyarrow raises several types for corrupt files
        raise FileContractError(f"{path}: unreadable Parquet file: {exc}") from exc
    frame = pd.DataFrame({name: [_text_cell(v) for v in table.column(name).to_pylist()]
                          for name in table.column_names}, dtype="object")
    frame["_row_number"] = range(1, len(frame) + 1)
    return frame


def _map_headers(frame: pd.DataFrame, spec: SourceSpec, path: Path) -> tuple[list[str], list[str]]:
    """Rename the file's headers to the contract's columns (case-, width- and whitespace-insensitively,
    and through seeds/column_aliases.csv). Returns (notes, warnings); two headers that read as
    the same column fail the file."""
    aliases = column_aliases(spec.name)
    names, notes, warnings = [], [], []
    for header in frame.columns:
        if header == "_row_number":
            names.append(header)
            continue
        key = name_key(header)
        column = aliases.get(key, str(header).strip())
        names.append(column)
        if column != header and column in spec.columns:
            if key == column:          # same name but for case, width or spaces: say so
                warnings.append(f"header {header!r} read as {column}")
            else:
                notes.append(f"header {header!r} read as {column} (seeds/column_aliases.csv)")
    doubled = [name for name, count in Counter(names).items() if count > 1]
    if doubled:
        raise FileContractError(f"{path}: more than one column reads as {', '.join(doubled)} "
                                f"(headers: {', '.join(map(str, frame.columns[:-1]))})")
    frame.columns = names
    return notes, warnings


def read_file(path: Path, spec: SourceSpec) -> FileRead:
    """Read one landing file of `spec`'s source as text cells, headers renamed to the contract's
    columns; the contract's columns are read as text even where they look like numbers or dates."""
    required, text_columns = spec.required, spec.columns
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
    encoding, bad, truncated, notes = None, [], False, []
    if name.endswith(".parquet"):
        frame = _read_parquet(data, path)
    elif name.endswith(".xlsx"):
        frame, notes = _read_xlsx(data, path)
    else:
        text, encoding = decode(data, path)
        if name.endswith(".csv"):
            frame, bad, truncated = _read_csv(text, path)
        elif text.lstrip().startswith("[") or (name.endswith(".json") and _one_document(text)):
            frame, bad = _read_json_array(text, path)
            if not name.endswith(".json"):
                notes.append("a JSON array, not one object per line: read as an array")
        else:
            fast = (_read_jsonl_fast(data, text_columns, required)
                    if encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\n") else None)
            frame, bad, truncated = ((fast, [], False) if fast is not None
                                     else _read_jsonl(text, text_columns, required))
    header_notes, warnings = _map_headers(frame, spec, path)
    notes += header_notes
    if not len(frame) and not bad:
        warnings.append("no records (header only or empty export)")
    missing = [c for c in required if c not in frame.columns]
    if missing and (len(frame) or not name.endswith(".jsonl")):
        raise FileContractError(f"{path}: required column(s) missing: {', '.join(missing)}")
    for column in required:           # jsonl with no valid record at all
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object")
    return FileRead(path=path, sha256=digest, bytes=path.stat().st_size, encoding=encoding,
                    frame=frame, bad_rows=bad, truncated=truncated, notes=notes, warnings=warnings)


def _one_document(text: str) -> bool:
    """A .json file holding one (possibly pretty-printed) object rather than one object per line."""
    try:
        return isinstance(json.loads(text), dict) and text.strip().count("\n") > 0
    except ValueError:
        return False
