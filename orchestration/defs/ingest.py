"""Ingestion: one asset per landing-zone source, daily-partitioned on the arrival day (dt).

Each asset reads every file of its partitions, parses and normalises the rows, validates them
with the source's Great Expectations suite and writes `raw.<source>` and
`raw.quarantine_<source>` (keys `raw/<source>` match the dbt sources, so lineage joins).
Two checks per source, evaluated in the same step: files that broke the contract (ERROR,
blocking) and the share of quarantined rows (WARN / ERROR above the suite's thresholds).
"""


from datetime import date, timedelta

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.resources import LandingZone
from orchestration.lib import expectations
from orchestration.lib.contract import SOURCES, SourceSpec
from orchestration.lib.ingest import IngestTotals, ingest, plan_batches
from orchestration.lib.raw_store import known_files, replace_window, table_rows


def window_days(context: dg.AssetExecutionContext) -> tuple[date, date, list[date]]:
    """The arrival days [start, end) of this run (a day, or a whole backfill range)."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    return start, end, [start + timedelta(days=i) for i in range((end - start).days)]


def _markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def check_results(spec: SourceSpec, result: IngestTotals) -> list[dg.AssetCheckResult]:
    limits = expectations.quarantine_thresholds(spec.name)
    warn, error = limits.warn, limits.error
    rate = result.rows_quarantined / result.rows_read if result.rows_read else 0.0
    # A handful of rows on a quiet day can give any rate: it warns, it does not stop the run.
    fails = rate > error and result.rows_read >= limits.min_rows_for_error
    severity = dg.AssetCheckSeverity.ERROR if fails else dg.AssetCheckSeverity.WARN
    return [
        dg.AssetCheckResult(
            check_name="files_readable",
            passed=not result.failed_files,
            severity=dg.AssetCheckSeverity.ERROR,
            description=("Every file of the partition could be read and had the required columns."
                         if not result.failed_files else "; ".join(result.failed_files[:10])),
            metadata={"failed_files": len(result.failed_files),
                      "errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in result.failed_files) or "none")},
        ),
        dg.AssetCheckResult(
            check_name="quarantine_rate",
            passed=rate <= warn,
            severity=severity,
            description=(f"{rate:.2%} of {result.rows_read:,} rows quarantined (warn above {warn:.0%}, error above "
                         f"{error:.0%} from {limits.min_rows_for_error} rows read)."),
            metadata={"quarantine_rate": round(rate, 6), "warn_above": warn, "error_above": error,
                      "min_rows_for_error": limits.min_rows_for_error,
                      "rows_quarantined": result.rows_quarantined, "rows_read": result.rows_read},
        ),
    ]


def build_ingest_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", spec.name])

    @dg.asset(
        key=key,
        group_name="ingest",
        description=(f"{spec.description} Read from `<landing>/{spec.name}/dt=…/`, checked against the input "
                     f"contract and `expectations/{spec.name}.json`; good rows in `raw.{spec.name}`, rejected "
                     f"rows with a reason in `raw.quarantine_{spec.name}`."),
        **DAILY_WAREHOUSE_ASSET,
        check_specs=[
            dg.AssetCheckSpec("files_readable", asset=key, blocking=True,
                              description="Every delivered file is readable and has the required columns."),
            dg.AssetCheckSpec("quarantine_rate", asset=key, blocking=True,
                              description="Share of rows set aside in quarantine stays under the thresholds."),
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: DuckDBResource):
        start, end, days = window_days(context)
        run_id = context.run.run_id
        batches = plan_batches(spec, landing.root, days, landing.batch_bytes)
        context.log.info(f"{spec.name}: {len(days)} day(s) {start} … {end - timedelta(days=1)} from "
                         f"{landing.root / spec.name}, in {len(batches)} batch(es)")
        with warehouse.get_connection() as conn:
            seen = known_files(conn, spec, start)
        totals = IngestTotals()
        for number, batch in enumerate(batches, start=1):
            result = ingest(spec, landing.root, batch, landing.timezone, run_id, seen)
            with warehouse.get_connection() as conn:    # one transaction per batch of days
                replace_window(conn, spec, result, batch[0], batch[-1] + timedelta(days=1), run_id)
            seen.update({f["sha256"]: f["file"] for f in result.files.to_dict(orient="records")
                         if f["status"] in ("loaded", "truncated")})
            totals.add(result)
            if len(batches) > 1:
                context.log.info(f"{spec.name}: batch {number}/{len(batches)} ({batch[0]} … {batch[-1]}): "
                                 f"read {result.rows_read:,}, quarantined {len(result.quarantined):,}")
        with warehouse.get_connection() as conn:
            stored = table_rows(conn, f"raw.{spec.name}", start, end)
        reasons = dict(sorted(totals.reasons.items()))
        context.log.info(f"{spec.name}: read {totals.rows_read:,}, loaded {totals.rows_loaded:,}, "
                         f"quarantined {totals.rows_quarantined:,} {reasons or ''}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": stored,
                "rows_read": totals.rows_read,
                "rows_loaded": totals.rows_loaded,
                "rows_quarantined": totals.rows_quarantined,
                "quarantined_by_reason": dg.MetadataValue.json(reasons),
                "files": len(totals.files),
                "files_failed": len(totals.failed_files),
                "file_ledger": dg.MetadataValue.md(_markdown_table(
                    totals.files[:200], ["_dt", "file", "status", "encoding", "rows_read", "rows_loaded",
                                         "rows_quarantined"])),
            },
            check_results=check_results(spec, totals),
        )

    return _ingest


ingest_assets = [build_ingest_asset(spec) for spec in SOURCES.values()]
