"""Ingestion: one asset per landing-zone source, for the run's arrival days (dt).

Each asset reads every file of its days, parses and normalises the rows, validates them
with the source's Great Expectations suite and writes `raw.<source>` and
`raw.quarantine_<source>` (keys `raw/<source>` match the dbt sources, so lineage joins).
Checks per source, evaluated in the same step: files that broke the contract (ERROR, blocking),
the share of quarantined rows (WARN / ERROR above the suite's thresholds), deliveries that need a
look (ignored entries, renamed headers, empty exports, a day far below the trailing volume: WARN;
an ignored file of a fail-closed source: ERROR), for consent and STOP replies refusals that name
nobody (ERROR), and for sales amounts whose units changed (ERROR). `raw/landing_zone` accounts
for what belongs to no source.
"""


from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.window import WAREHOUSE_ASSET, window_days
from orchestration.defs.resources import LandingZone, OutputFolder
from orchestration.lib import erasure, expectations, failpoints
from orchestration.lib.contract import ERASURE, SOURCES, SourceSpec
from orchestration.lib.ingest import (
    LEDGER_COLUMNS, IngestTotals, freshness_warnings, ignored_entries, ignored_ledger, ingest, plan_batches, unit_errors,
    volume_warnings,
)
from orchestration.lib.raw_store import (
    daily_history, known_files, previous_versions, replace_ledger, replace_window, table_rows,
)
from orchestration.lib.landing import undelivered_days
from orchestration.lib.run_days import ensure_completed_days


def _markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _severity(name: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if str(name).upper() == "ERROR" else dg.AssetCheckSeverity.WARN


def _listed(lines: list[str]) -> dg.MetadataValue:
    return dg.MetadataValue.md("\n".join(f"- {line}" for line in lines[:200]) or "none")


def check_results(spec: SourceSpec, result: IngestTotals, history=((), ()),
                  days: list[date] = ()) -> list[dg.AssetCheckResult]:
    meta = expectations.load_suite_json(spec.name).get("meta", {})
    limits = expectations.quarantine_thresholds(spec.name)
    warn, error = limits.warn, limits.error
    rate = result.rows_quarantined / result.rows_read if result.rows_read else 0.0
    # A handful of rows on a quiet day can give any rate: it warns, it does not stop the run.
    fails = rate > error and result.rows_read >= limits.min_rows_for_error
    severity = dg.AssetCheckSeverity.ERROR if fails else dg.AssetCheckSeverity.WARN
    volume = meta.get("volume", {})
    warnings = result.warnings + volume_warnings(spec, result, list(history[0]),
                                                 float(volume.get("min_share_of_trailing_median", 0.2)),
                                                 int(volume.get("min_days", 7)))
    warnings += freshness_warnings(spec, result, list(history[0]), list(days), int(volume.get("streak_days", 7)))
    # Where people are concerned a file we did not read may hold a refusal: that stops the run.
    ignored = [w for w in result.warnings if " ignored: " in w]
    checks = [
        dg.AssetCheckResult(
            check_name="files_readable",
            passed=not result.failed_files,
            severity=dg.AssetCheckSeverity.ERROR,
            description=("Every file of the partition could be read and had the required columns."
                         if not result.failed_files else "; ".join(result.failed_files[:10])),
            metadata={"failed_files": len(result.failed_files), "errors": _listed(result.failed_files)},
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
        dg.AssetCheckResult(
            check_name="deliveries_as_expected",
            passed=not warnings,
            severity=(dg.AssetCheckSeverity.ERROR if spec.fail_closed and ignored else dg.AssetCheckSeverity.WARN),
            description=("Every entry of the source's folders was read, with the contract's headers and a usual volume."
                         if not warnings else "; ".join(warnings[:10])),
            metadata={"warnings": len(warnings), "details": _listed(warnings)},
        ),
    ]
    if spec.fail_closed:
        checks.append(dg.AssetCheckResult(
            check_name="unattributed_opt_outs",
            passed=result.unattributed_opt_outs == 0,
            severity=_severity(meta.get("unattributed_opt_out_severity", "ERROR")),
            description=(f"{result.unattributed_opt_outs:,} quarantined row(s) may refuse messages but name no identifier "
                         f"we can read (see raw.quarantine_{spec.name}); {result.fail_closed_rows:,} unreadable row(s) "
                         "kept as opt-outs of the identifier they name."),
            metadata={"unattributed_opt_outs": result.unattributed_opt_outs,
                      "kept_as_opt_outs": result.fail_closed_rows},
        ))
    if "amount" in spec.decimals:
        units = meta.get("amount_units", {})
        errors = unit_errors(spec, result, list(history[1]), float(units.get("max_ratio_to_trailing_median", 50)),
                             int(units.get("min_days", 7)))
        checks.append(dg.AssetCheckResult(
            check_name="amount_units",
            passed=not errors,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(errors) or "Order amounts in line with the trailing median (yuan, not fen).",
            metadata={"days_out_of_line": len(errors), "details": _listed(errors)},
        ))
    return checks


def check_specs(spec: SourceSpec, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec("files_readable", asset=key, blocking=True,
                          description="Every delivered file is readable and has the required columns."),
        dg.AssetCheckSpec("quarantine_rate", asset=key, blocking=True,
                          description="Share of rows set aside in quarantine stays under the thresholds."),
        dg.AssetCheckSpec("deliveries_as_expected", asset=key, blocking=True,
                          description=("Nothing under the source's folder was ignored, headers matched the contract, "
                                       "no day fell far below the trailing volume, a daily source did not stop.")),
    ]
    if spec.fail_closed:
        specs.append(dg.AssetCheckSpec("unattributed_opt_outs", asset=key, blocking=True,
                                       description="Every possible refusal names an identifier we can read."))
    if "amount" in spec.decimals:
        specs.append(dg.AssetCheckSpec("amount_units", asset=key, blocking=True,
                                       description="Order amounts did not jump ×100 against the trailing median."))
    return specs


def build_ingest_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", spec.name])

    @dg.asset(
        key=key,
        group_name="ingest",
        description=(f"{spec.description} Read from `<landing>/{spec.name}/dt=…/`, checked against the input "
                     f"contract and `expectations/{spec.name}.json`; good rows in `raw.{spec.name}`, rejected "
                     f"rows with a reason in `raw.quarantine_{spec.name}`."),
        **WAREHOUSE_ASSET,
        check_specs=check_specs(spec, key),
        # Erasure requests first (nobody erased today is loaded again); nothing is built for a day
        # on which nothing arrived at all (landing_zone fails it).
        deps=[ERASURE_KEY, LANDING_ZONE],
    )
    def _ingest(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: DuckDBResource):
        start, end, days = window_days(context)
        run_id = context.run.run_id
        batches = plan_batches(spec, landing.root, days, landing.batch_bytes)
        context.log.info(f"{spec.name}: {len(days)} day(s) {start} … {end - timedelta(days=1)} from "
                         f"{landing.root / spec.name}, in {len(batches)} batch(es)")
        with warehouse.get_connection() as conn:
            seen = known_files(conn, spec, start)
            history = daily_history(conn, spec, start)
            previous = previous_versions(conn, spec, start, end)
            tombstones = erasure.load_tombstones(conn)
        salt = erasure.salt(Path(warehouse.database)) if tombstones else b""
        totals = IngestTotals()
        for number, batch in enumerate(batches, start=1):
            result = ingest(spec, landing.root, batch, landing.timezone, run_id, seen, undated=number == len(batches),
                            previous=previous, tombstones=tombstones, salt=salt)
            with warehouse.get_connection() as conn:    # one transaction per batch of days
                replace_window(conn, spec, result, batch[0], batch[-1] + timedelta(days=1), run_id)
            failpoints.reached("ingested_a_batch")
            seen.update({f["sha256"]: f["file"] for f in result.files.to_dict(orient="records")
                         if f["status"] in ("loaded", "truncated")})
            totals.add(result)
            if len(batches) > 1:
                context.log.info(f"{spec.name}: batch {number}/{len(batches)} ({batch[0]} … {batch[-1]}): "
                                 f"read {result.rows_read:,}, quarantined {len(result.quarantined):,}")
        with warehouse.get_connection() as conn:
            stored = table_rows(conn, f"raw.{spec.name}", start, end)
        for line in totals.warnings:
            context.log.warning(line)
        reasons = dict(sorted(totals.reasons.items()))
        context.log.info(f"{spec.name}: read {totals.rows_read:,}, loaded {totals.rows_loaded:,}, "
                         f"quarantined {totals.rows_quarantined:,} {reasons or ''}"
                         + (f", dropped {totals.rows_erased:,} naming erased persons only" if totals.rows_erased else ""))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": stored,
                "rows_read": totals.rows_read,
                "rows_loaded": totals.rows_loaded,
                "rows_quarantined": totals.rows_quarantined,
                "rows_erased": totals.rows_erased,
                "quarantined_by_reason": dg.MetadataValue.json(reasons),
                "files": len(totals.files),
                "files_failed": len(totals.failed_files),
                "file_ledger": dg.MetadataValue.md(_markdown_table(
                    totals.files[:200], ["_dt", "file", "status", "encoding", "rows_read", "rows_loaded",
                                         "rows_quarantined"])),
            },
            check_results=check_results(spec, totals, history, days),
        )

    return _ingest


LANDING_ZONE = dg.AssetKey(["raw", "landing_zone"])


@dg.asset(
    key=LANDING_ZONE,
    group_name="ingest",
    description=("What lies in the landing zone outside every source's folder (an unknown source folder, a stray "
                 "file), recorded in `raw.ingested_files` as ignored, with why, so nothing delivered goes unseen. "
                 "Fails when nothing at all arrived for the run's day (no source has a day folder); a day inside a "
                 "longer range with nothing is a WARN."),
    **WAREHOUSE_ASSET,
    check_specs=[dg.AssetCheckSpec("nothing_outside_the_sources", asset=LANDING_ZONE,
                                   description="Every entry of the landing zone is a source folder, and every "
                                               "day of the run had a delivery.")],
)
def landing_zone(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: DuckDBResource):
    import pandas as pd

    start, end, days = window_days(context)
    rows, warnings = ignored_ledger(None, ignored_entries(None, landing.root, days[-1]), landing.root, days[-1],
                                    context.run.run_id)
    files = pd.DataFrame(rows, columns=LEDGER_COLUMNS).assign(rows_loaded=0, rows_quarantined=0)
    with warehouse.get_connection() as conn:
        replace_ledger(conn, None, files, start, end)
        ensure_completed_days(conn, start)
    empty = undelivered_days(landing.root, days)
    if days[-1] in empty:         # the run's own day: nothing to build a day's tables from is news, not green
        raise dg.Failure(
            f"nothing arrived for {days[-1]}: no source folder under {landing.root} has a dt={days[-1]} folder "
            "(an export that did not run?). If the day truly had no data, create an empty folder "
            f"{landing.root}/<source>/dt={days[-1]}/ and run it again.")
    warnings += [f"nothing arrived for {day}: no source has a dt={day} folder under {landing.root}" for day in empty]
    for line in warnings:
        context.log.warning(line)
    return dg.MaterializeResult(
        metadata={"ignored": len(rows), "days_with_nothing": dg.MetadataValue.json([str(d) for d in empty]),
                  "details": _listed(warnings)},
        check_results=[dg.AssetCheckResult(
            check_name="nothing_outside_the_sources", passed=not warnings, severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(warnings[:10]) or "Only source folders in the landing zone.")],
    )


ERASURE_KEY = dg.AssetKey(["privacy", "erasure"])


@dg.asset(
    key=ERASURE_KEY,
    group_name="ingest",
    description=("Erasure requests (PIPL Art. 47) from `<landing>/erasure/dt=…/`, carried out before anything "
                 "else of the day is loaded: the person behind each identifier is removed from every table, "
                 "the retained outbox files are scrubbed, salted-hash tombstones keep them from coming back "
                 "(`privacy.erasure_tombstones`), and `marts.erasure_log` records each request without clear "
                 "values. See orchestration/lib/erasure.py."),
    **WAREHOUSE_ASSET,
    check_specs=[
        dg.AssetCheckSpec("requests_readable", asset=ERASURE_KEY, blocking=True,
                          description="Every erasure request could be read (one that cannot is never dropped)."),
        dg.AssetCheckSpec("no_trace_left", asset=ERASURE_KEY, blocking=True,
                          description="No table and no outbox file holds any form of an erased identifier."),
    ],
)
def erasure_requests(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: DuckDBResource,
                     outbox: OutputFolder):
    import pandas as pd

    start, end, days = window_days(context)
    result = ingest(ERASURE, landing.root, days, landing.timezone, context.run.run_id)
    # Only file names, rows and reasons leave this step: a request's value is never logged or stored.
    unreadable = [f"{r['_source_file']} row {r['_row_number']}: {r['_reason']} ({r['_detail']})"
                  for r in result.quarantined.to_dict(orient="records")]
    with warehouse.get_connection() as conn:
        replace_ledger(conn, ERASURE.name, result.files, start, end)
    done, problems = None, []
    if len(result.loaded) and not unreadable and not result.failed_files:
        requests = result.loaded.drop_duplicates("request_id").sort_values("request_id")
        with warehouse.get_connection() as conn:
            done = erasure.erase(conn, requests, erasure.salt(Path(warehouse.database)), outbox.root,
                                 days[-1].isoformat(), pd.Timestamp.now(tz=landing.timezone).tz_localize(None))
        problems = done.problems
        context.log.info(f"erasure: {len(requests):,} request(s), {len(done.persons):,} person(s), "
                         f"{len(done.identifiers):,} identifier(s) erased; rows removed: "
                         f"{dict(sorted(done.rows_removed.items())) or 'none'}")
    return dg.MaterializeResult(
        metadata={"requests": len(result.loaded), "persons_erased": len(done.persons) if done else 0,
                  "rows_removed": dg.MetadataValue.json(dict(sorted(done.rows_removed.items())) if done else {})},
        check_results=[
            dg.AssetCheckResult(check_name="requests_readable", passed=not (unreadable or result.failed_files),
                                severity=dg.AssetCheckSeverity.ERROR,
                                description="; ".join((result.failed_files + unreadable)[:10])
                                or "Every erasure request was read."),
            dg.AssetCheckResult(check_name="no_trace_left", passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
                                description=("could not clean: " + "; ".join(problems[:10])) if problems
                                else "No copy holds the erased identifiers."),
        ],
    )


ingest_assets = [*(build_ingest_asset(spec) for spec in SOURCES.values()), landing_zone, erasure_requests]
