"""The BI serving copy: the BI-facing marts (models marked `bi_facing` in their dbt YAML, masked
by construction) with Chinese labels beside their English keys, published as

- `serving.duckdb`: one read-only DuckDB file, written aside and swapped in by an atomic rename,
  checkpointed so no `.wal` is ever left beside it; readers keep the old snapshot until they
  reopen;
- `parquet/<table>/`: the same tables as Parquet (pyarrow), daily tables in `dt=YYYY-MM-DD/`
  folders by their date column (the `serving_partition_by` meta in the YAML), which every file
  keeps too.

BI tools never open the working warehouse (DuckDB has one writer; a reader would block the run).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq

SERVING_FILE = "serving.duckdb"
PARQUET_FOLDER = "parquet"
LABEL_PREFIXES = ("from_", "to_")          # from_cell / to_cell take the `cell` labels
LABELLED_BY = {"tag_value": "tag_group"}   # user_tags: each tag's value takes its group's labels
PARTITION_FOLDER = "dt"                    # parquet/<table>/dt=YYYY-MM-DD/, the date column kept in the files
BATCH_ROWS = 100_000
# How every BI reader opens the serving file (DuckDB's connect arguments): read-only, and no
# access to other files — a SQL editor (Superset's SQL Lab) could otherwise ATTACH the working
# warehouse, which holds clear phones and emails, or read any file.
BI_CONNECT_ARGS = {"read_only": True, "config": {"enable_external_access": False}}


@dataclass(frozen=True)
class ServingTable:
    schema: str
    name: str
    partition_by: str | None = None


def _bi_models(manifest_path: Path) -> list[dict]:
    """The manifest nodes of the models marked `bi_facing: true` in their YAML."""
    manifest = json.loads(Path(manifest_path).read_text())
    return [node for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and (node["config"].get("meta") or {}).get("bi_facing")]


def bi_tables(manifest_path: Path) -> list[ServingTable]:
    """Every BI-facing model, in a stable order."""
    tables = [ServingTable(node["schema"], node["name"], node["config"]["meta"].get("serving_partition_by"))
              for node in _bi_models(manifest_path)]
    return sorted(tables, key=lambda t: (t.schema, t.name))


def column_descriptions(manifest_path: Path) -> dict[str, dict[str, str]]:
    """{table: {column: description}} of the BI-facing models from their YAML; "" holds the
    table's own description."""
    return {node["name"]: {"": node.get("description") or "",
                           **{c: v.get("description") or "" for c, v in node["columns"].items()}}
            for node in _bi_models(manifest_path)}


def column_description(described: dict[str, str], column: str) -> str:
    """A column's description; a `<column>_zh` label column is described by the column it labels."""
    if column in described:
        return described[column]
    base = column.removesuffix("_zh")
    if column.endswith("_zh") and base in described:
        return f"中文标签 Chinese label of `{base}`."
    return ""


def labelled_select(conn, table: ServingTable, label_sets: set[str], labels: str) -> str:
    """SELECT of the table with `<column>_zh` right after each column that has display labels,
    and whole-number counts as BIGINT (DuckDB's sums are HUGEINT, which BI drivers read badly)."""
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [table.schema, table.name]).fetchall()
    if not columns:
        raise RuntimeError(f"{table.schema}.{table.name} is missing from the warehouse")
    names = {c for c, _ in columns}
    select, joins = [], []
    for column, data_type in columns:
        whole = data_type == "HUGEINT" or (data_type.startswith("DECIMAL(") and data_type.endswith(",0)"))
        select.append(f'cast(t."{column}" as bigint) as "{column}"' if whole else f't."{column}"')
        label_set = next((s for s in (column, *(column.removeprefix(p) for p in LABEL_PREFIXES)) if s in label_sets),
                         None)
        if label_set and f"{column}_zh" not in names:
            alias = f"l{len(joins)}"
            joins.append(f"left join {labels} {alias} on {alias}.label_set = '{label_set}' "
                         f'and {alias}.value = cast(t."{column}" as varchar)')
            select.append(f'{alias}.label_zh as "{column}_zh"')
        elif column in LABELLED_BY and LABELLED_BY[column] in names:
            # a value whose label set is named by another column (user_tags: tag_value by tag_group);
            # values without a label (a category, a city) are shown as they are
            alias = f"l{len(joins)}"
            joins.append(f'left join {labels} {alias} on {alias}.label_set = t."{LABELLED_BY[column]}" '
                         f'and {alias}.value = cast(t."{column}" as varchar)')
            select.append(f'coalesce({alias}.label_zh, t."{column}") as "{column}_zh"')
    return f"select {', '.join(select)} from {table.schema}.{table.name} t {' '.join(joins)}"


def publish(conn, tables: list[ServingTable], folder: Path, labels: str = "main.display_labels") -> dict[str, int]:
    """Write the serving file and the Parquet folders aside, then swap each in. Returns rows per table."""
    folder.mkdir(parents=True, exist_ok=True)
    label_sets = {s for (s,) in conn.execute(f"select distinct label_set from {labels}").fetchall()}
    selects = {t: labelled_select(conn, t, label_sets, labels) for t in tables}
    rows = _publish_duckdb(conn, selects, folder)
    _publish_parquet(conn, selects, folder)
    return rows


def _publish_duckdb(conn, selects: dict[ServingTable, str], folder: Path) -> dict[str, int]:
    final = folder / SERVING_FILE
    scratch = folder / f".{SERVING_FILE}.tmp-{os.getpid()}"
    for leftover in (scratch, Path(f"{scratch}.wal")):
        leftover.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    conn.execute(f"attach '{scratch}' as serving_copy")
    try:
        for table, select in selects.items():
            conn.execute(f"create schema if not exists serving_copy.{table.schema}")
            conn.execute(f"create table serving_copy.{table.schema}.{table.name} as {select}")
            rows[table.name] = conn.execute(
                f"select count(*) from serving_copy.{table.schema}.{table.name}").fetchone()[0]
        conn.execute("checkpoint serving_copy")
    finally:
        conn.execute("detach serving_copy")
    if Path(f"{scratch}.wal").exists():
        raise RuntimeError(f"{scratch}.wal left after the checkpoint: not publishing a half-written copy")
    os.replace(scratch, final)        # atomic: a reader sees the old file or the new one, never a mix
    return rows


def _publish_parquet(conn, selects: dict[ServingTable, str], folder: Path) -> None:
    final = folder / PARQUET_FOLDER
    scratch = folder / f".{PARQUET_FOLDER}.tmp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    for table, select in selects.items():
        target = scratch / table.name
        target.mkdir(parents=True)
        if table.partition_by:
            # Folders by a column of their own, so every file keeps the date column itself (Excel's
            # "From Folder" combine reads the files only) and hive readers see no clash.
            reader = conn.execute(f'select *, cast("{table.partition_by}" as varchar) as {PARTITION_FOLDER} '
                                  f"from ({select}) as t").to_arrow_reader(BATCH_ROWS)
            ds.write_dataset(reader, target, format="parquet", partitioning=[PARTITION_FOLDER],
                             partitioning_flavor="hive", basename_template="part-{i}.parquet",
                             existing_data_behavior="error")
        else:
            reader = conn.execute(select).to_arrow_reader(BATCH_ROWS)
            with pq.ParquetWriter(target / "part-0.parquet", reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
    # Swap the whole folder: tables stay consistent with each other (one run's data).
    retired = folder / f".{PARQUET_FOLDER}.old-{os.getpid()}"
    if final.exists():
        final.rename(retired)
    scratch.rename(final)
    shutil.rmtree(retired, ignore_errors=True)


def read_only_connection(path: Path):
    """How a BI tool should open the serving file: read-only, no access to other files."""
    import duckdb

    return duckdb.connect(str(path), **BI_CONNECT_ARGS)

