"""The BI serving copy, published after everything else in a run: a read-only DuckDB file and
Parquet folders with the BI-facing marts and their Chinese labels (orchestration/lib/serving.py)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import dbt_project
from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.recall import recall_outbox
from orchestration.defs.report import daily_report
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import model_key
from orchestration.lib import serving as serving_copy

BI_TABLES = serving_copy.bi_tables(dbt_project.manifest_path)


@dg.asset(
    key=["serving", "bi_copy"],
    deps=[*(model_key(t.name) for t in BI_TABLES), recall_outbox.key, daily_report.key],
    group_name="serving",
    description=("给BI的只读副本 · What BI tools read: USEROPS_SERVING/serving.duckdb (open it read-only) and "
                 "USEROPS_SERVING/parquet/<table>/ with the BI-facing marts only — personal data masked, no identity "
                 "map, no raw or quarantine rows, no stored test failures — and a `<column>_zh` Chinese label beside "
                 "each stage, segment, cell, channel and group key. Published whole by an atomic rename after the run's "
                 "other assets, so a dashboard never sees a half-written copy and never blocks the pipeline."),
    **{**DAILY_WAREHOUSE_ASSET, "kinds": {"python", "duckdb", "parquet"}},
)
def bi_copy(context: dg.AssetExecutionContext, warehouse: DuckDBResource,
            serving: OutputFolder) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        rows = serving_copy.publish(conn, BI_TABLES, serving.root)
    path = serving.root / serving_copy.SERVING_FILE
    context.log.info(f"serving copy: {len(rows)} tables, {sum(rows.values()):,} rows in {path}")
    table = "\n".join(f"| {name} | {count:,} |" for name, count in sorted(rows.items()))
    return dg.MaterializeResult(metadata={
        "serving_file": dg.MetadataValue.path(str(path)),
        "parquet_folder": dg.MetadataValue.path(str(serving.root / serving_copy.PARQUET_FOLDER)),
        "tables": len(rows),
        "dagster/row_count": sum(rows.values()),
        "rows_per_table": dg.MetadataValue.md(f"| table | rows |\n|---|---|\n{table}"),
    })
