"""The BI serving copy, published after everything else in a run: a read-only DuckDB file and
Parquet folders with the BI-facing marts and their Chinese labels (orchestration/lib/serving.py)."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import dbt_project
from orchestration.defs.window import WAREHOUSE_ASSET, window_days
from orchestration.defs.recall import recall_outbox
from orchestration.defs.report import daily_report
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import model_key
from orchestration.lib import erasure
from orchestration.lib import serving as serving_copy
from orchestration.lib.run_days import COMPLETED, record_completed

BI_TABLES = serving_copy.bi_tables(dbt_project.manifest_path)


@dg.asset(
    key=["serving", "bi_copy"],
    deps=[*(model_key(t.name) for t in BI_TABLES), recall_outbox.key, daily_report.key],
    group_name="serving",
    description=("给BI的只读副本 · What BI tools read: USEROPS_SERVING/serving.duckdb (open it read-only) and "
                 "`USEROPS_SERVING/parquet/<table>/` with the BI-facing marts only — personal data masked, no identity "
                 "map, no raw or quarantine rows, no stored test failures — and a `<column>_zh` Chinese label beside "
                 "each stage, segment, cell, channel and group key. Published whole by an atomic rename after the run's "
                 "other assets, so a dashboard never sees a half-written copy and never blocks the pipeline."),
    **{**WAREHOUSE_ASSET, "kinds": {"python", "duckdb", "parquet"}},
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


@dg.asset(
    key=["serving", "completed_days"],
    # Every asset that nothing else reads (a test keeps this list whole).
    deps=[bi_copy.key, model_key("identity_junk")],
    group_name="serving",
    description=(f"The run's arrival days recorded as done in `{COMPLETED}`, last of all: a day counts as done only "
                 "when every other asset of its run succeeded. The next run starts at the first earlier day that "
                 "landed but never got here (a failed or never-run day), so no day's opt-outs are skipped. On a day "
                 "with erasure requests the warehouse file is first rewritten with its live data only, so no freed "
                 "block keeps an erased value."),
    **WAREHOUSE_ASSET,
)
def completed_days(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    start, end, days = window_days(context)
    with warehouse.get_connection() as conn:
        requests = erasure.requests_on(conn, days[0], days[-1])
    metadata = {"first_day": str(days[0]), "last_day": str(days[-1]), "days": len(days)}
    if requests:        # before the days count as done: a crash here compacts again on the next run
        before, after = erasure.compact(Path(warehouse.database))
        context.log.info(f"warehouse rewritten after {requests} erasure request(s): {before:,} → {after:,} bytes, "
                         "no freed block left holding an erased value")
        metadata.update(compacted_bytes_before=before, compacted_bytes_after=after)
    with warehouse.get_connection() as conn:
        record_completed(conn, days, context.run.run_id)
    return dg.MaterializeResult(metadata=metadata)
