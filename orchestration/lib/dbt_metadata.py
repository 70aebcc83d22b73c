"""What the Dagster UI shows of each dbt node a build wrote: its row count and every column with
its type, described from the YAML where the YAML describes it (the YAML alone lists only the
documented columns). Read from the warehouse after the dbt process has exited: DuckDB lets one
process at a time hold the file, so dagster-dbt's own fetchers cannot read it during the build."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg

COUNTED = {"table", "incremental", "seed", "snapshot"}      # views are not counted: a count scans their sources


def node_metadata(conn, node: Mapping[str, Any]) -> dict[str, Any]:
    """Row count and column schema of one model or seed, from the warehouse and the manifest node."""
    schema, name = node["schema"], node.get("alias") or node["name"]
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, name]).fetchall()
    if not columns:
        return {}
    described = {column.lower(): spec.get("description") or None for column, spec in node.get("columns", {}).items()}
    metadata: dict[str, Any] = {"dagster/column_schema": dg.TableSchema(columns=[
        dg.TableColumn(column, data_type.lower(), description=described.get(column.lower()))
        for column, data_type in columns])}
    materialized = node["resource_type"] if node["resource_type"] == "seed" else node["config"].get("materialized")
    if materialized in COUNTED:
        metadata["dagster/row_count"] = conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    return metadata


def with_table_metadata(events: Iterable[Any], manifest: Mapping[str, Any], conn) -> Iterator[Any]:
    """The build's events, each model's and seed's Output with its row count and column schema."""
    for event in events:
        unique_id = event.metadata.get("unique_id") if isinstance(event, dg.Output) else None
        node = manifest["nodes"].get(getattr(unique_id, "value", unique_id)) if unique_id else None
        yield event.with_metadata({**event.metadata, **node_metadata(conn, node)}) if node else event
