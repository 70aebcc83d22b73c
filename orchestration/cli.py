"""`userops`: generate sample data and run the pipeline through Dagster from a terminal.

    userops generate --persons 2000 --start 2026-08-01 --end 2026-10-31 --seed 42
    userops run --date 2026-10-31
    userops run --from 2026-08-01 --to 2026-10-31     # one run, one dbt build for the range
    userops demo                                       # sample data + everything on it
    userops grid --from 2026-10-24 --to 2026-10-31     # nine-grid moves between two days
    userops suggest-thresholds                         # nine-grid thresholds from the data
    userops bi                                         # Superset with the dashboard (make bi)

Runs go through the real Dagster instance in $DAGSTER_HOME (default .dagster_home/), so they
appear in `dagster dev`. Exit status 1 names the failed asset steps and blocking checks.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from orchestration.settings import REPO_ROOT, Settings, export_environment, prepare_dagster_home

DEMO = {"persons": 2000, "start": date(2026, 8, 1), "end": date(2026, 10, 31), "seed": 42}
SAMPLE_MARKER = ".userops-sample"        # marks a landing zone the generator owns (safe to replace)


class UsageError(Exception):
    pass


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _say(message: str) -> None:
    print(f"[userops] {message}", flush=True)


# --- generate -----------------------------------------------------------------------------------

def generate_sample(landing: Path, persons: int, start: date, end: date, seed: int,
                    truth: Path | None) -> dict[str, int]:
    from orchestration.sample.generator import generate

    if landing.exists() and any(landing.iterdir()):
        if not (landing / SAMPLE_MARKER).exists():
            raise UsageError(f"{landing} already holds data that the generator did not write; "
                             "point USEROPS_LANDING (or --landing) at an empty or sample folder")
        shutil.rmtree(landing)
    _say(f"generating {persons:,} persons, arrival days {start} … {end} (seed {seed}) into {landing}")
    began = time.monotonic()
    written = generate(landing, persons, start, end, seed, truth)
    (landing / SAMPLE_MARKER).write_text(f"persons={persons} start={start} end={end} seed={seed}\n")
    _say("rows written: " + ", ".join(f"{k} {v:,}" for k, v in sorted(written.items()))
         + f" ({time.monotonic() - began:.1f}s)" + (f"; ground truth in {truth}" if truth else ""))
    return written


# --- run ------------------------------------------------------------------------------------------

def check_dates(settings: Settings, start: date, end: date) -> None:
    if end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    if start < settings.start_date:
        raise UsageError(f"{start} is before the first day {settings.start_date}; "
                         f"set USEROPS_START_DATE={start.isoformat()} (or earlier) to move it")


def prepare_dbt_manifest() -> None:
    """@dbt_assets reads target/manifest.json when the definitions load: parse the project first
    (skipped when nothing it reads changed since the last parse)."""
    from orchestration.lib.dbt_parse import ensure_manifest

    ensure_manifest(_say)


def run_pipeline(start: date, end: date) -> int:
    """Materialise every asset for arrival days start..end (inclusive) as one Dagster run, holding
    the warehouse's run lock (a second run waits for it)."""
    from orchestration.lib.run_lock import RunLock, WarehouseLocked, connect_writer, prune_run_history, recover
    from orchestration.lib.serving import SERVING_FILE

    settings = export_environment()
    check_dates(settings, start, end)
    what = "userops run " + (f"--date {start}" if start == end else f"--from {start} --to {end}")
    with RunLock(settings.warehouse, what, _say):
        prepare_dagster_home(settings)
        import dagster as dg

        instance = dg.DagsterInstance.get()
        recovered = recover(instance, settings.warehouse, [settings.outbox, settings.reports, settings.serving])
        if recovered:
            _say("recovered from an interrupted run: " + "; ".join(recovered))
        pruned = prune_run_history(instance, settings.run_history_days)
        if pruned:
            _say(f"run history: {pruned} run(s) older than {settings.run_history_days} days deleted")
        try:        # a BI tool holding the warehouse file fails the run now, not after minutes of retries
            settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
            connect_writer(str(settings.warehouse), settings.serving / SERVING_FILE).close()
        except WarehouseLocked as error:
            print(f"[userops] FAILED: {error}", file=sys.stderr, flush=True)
            return 1
        return _run_locked(settings, instance, start, end)


def _run_locked(settings: Settings, instance, start: date, end: date) -> int:
    from orchestration.lib.run_days import catch_up
    from orchestration.lib.run_lock import run_tags

    earlier = catch_up(settings.warehouse, settings.landing, start)
    if earlier.first:    # a failed, never-run or corrected earlier day: it counts before anyone is messaged
        _say("; ".join(earlier.reasons()) + f"; running {earlier.first} … {end} in this run")
        start = earlier.first
    prepare_dbt_manifest()

    from orchestration.definitions import defs
    from orchestration.lib.run_days import window_tags

    job = defs.resolve_job_def("daily_pipeline")
    _say(f"running every asset for {start} … {end} ({(end - start).days + 1} day(s)); "
         f"warehouse {settings.warehouse}; Dagster home {settings.dagster_home}")
    from orchestration.lib.ui_runs import shown_in_the_ui

    began = time.monotonic()
    with shown_in_the_ui(instance, REPO_ROOT, job.name):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            tags={**window_tags(start, end), **run_tags(settings.warehouse)},
        )
    failures = describe_failures(result)
    _say(f"run {result.run_id} {'succeeded' if result.success and not failures else 'FAILED'} "
         f"in {time.monotonic() - began:.0f}s")
    print_counts(settings.warehouse, start, end + timedelta(days=1))
    if result.success and not failures:
        report = settings.reports / f"dt={end}" / "report.html"
        _say(f"daily report for {end}: {report}" if report.exists()
             else f"no daily report for {end} (see the daily_report step above)")
        _say(f"BI serving copy: {settings.serving / 'serving.duckdb'} (open read-only) and "
             f"{settings.serving / 'parquet'}/")
    if failures or not result.success:
        for line in failures or ["the run failed (see the log above)"]:
            print(f"[userops] FAILED: {line}", file=sys.stderr, flush=True)
        return 1
    return 0


def describe_failures(result) -> list[str]:
    import dagster as dg

    lines = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            lines.append(f"step {event.step_key}: {error.message.strip().splitlines()[0] if error else ''}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                level = "ERROR" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "WARN"
                message = (evaluation.description or "").strip()
                line = f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({level}) {message}"
                if level == "ERROR":
                    lines.append(line)
                else:
                    _say(f"warning: {line}")
    return lines


DAY_COLUMNS = ("_dt", "arrived_on", "as_of_date", "snapshot_date", "campaign_date", "to_date", "occurred_on")


def print_counts(warehouse: Path, start: date, end: date) -> None:
    """Rows per raw, quarantine, staging and mart table for the run's days (by the table's day
    column: arrival day, snapshot day, campaign day …), and in total."""
    import duckdb

    if not warehouse.exists():
        return
    try:
        conn = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.ConnectionException as error:      # a failed step's connection is still held in this process
        _say(f"row counts not shown ({error}); see the failure below")
        return
    with conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'staging', 'identity', 'marts') order by table_schema, table_name").fetchall()
        days = f"{start} … {end - timedelta(days=1)}"
        _say(f"{'table':<40} {'rows of ' + days:>27} {'rows in total':>14}")
        for schema, table in tables:
            columns = {c[0] for c in conn.execute(f'describe "{schema}"."{table}"').fetchall()}
            total = conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            # The rows this run wrote: those of its days, by the table's day column; a table
            # without one (identity, whole-history marts) shows — rather than its total again.
            column = next((c for c in DAY_COLUMNS if c in columns), None)
            window = "—"
            if column:
                count = conn.execute(f'select count(*) from "{schema}"."{table}" where "{column}" >= ? and "{column}" < ?',
                                     [start, end]).fetchone()[0]
                window = f"{count:,}"
            _say(f"{schema + '.' + table:<40} {window:>27} {total:>14,}")


# --- nine-grid questions -------------------------------------------------------------------------

def nine_grid_report(args: argparse.Namespace) -> int:
    import duckdb

    from orchestration.lib.nine_grid import suggest_thresholds, transition_matrix

    warehouse = Settings.from_env().warehouse
    if not warehouse.exists():
        raise UsageError(f"no warehouse at {warehouse}: run `userops run` first")
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        if args.command == "grid":
            matrix = transition_matrix(conn, args.start, args.end)
            if matrix.to_numpy().sum() == 0:
                raise UsageError(f"nobody is on the nine-grid on both {args.start} and {args.end}")
            print(f"users from cell (rows) on {args.start} to cell (columns) on {args.end}")
            print(matrix.to_string())
        else:
            print("# paste into seeds/nine_grid_thresholds.csv")
            print(suggest_thresholds(conn, args.date).to_csv(index=False), end="")
    return 0


# --- BI ---------------------------------------------------------------------------------------------

SUPERSET = REPO_ROOT / ".venv-bi" / "bin" / "superset"     # `make bi` installs it (its pins clash with Dagster's)


def superset_bi(port: int) -> int:
    """Import the dashboard kept as code into Superset on the serving copy, then serve it."""
    from orchestration.dbt_project import dbt_project
    from orchestration.lib import serving as serving_copy
    from orchestration.lib import superset

    settings = Settings.from_env()
    serving_file = settings.serving / serving_copy.SERVING_FILE
    if not serving_file.exists():
        raise UsageError(f"no BI serving copy at {serving_file}: run `userops run` (or `make run`) first")
    bundle = superset.build_bundle(REPO_ROOT / "orchestration" / "bi" / "dashboard.yaml", serving_file,
                                   serving_copy.column_descriptions(dbt_project.manifest_path),
                                   settings.superset_home / "userops_dashboard.zip")
    bi = superset.Superset(SUPERSET, settings.superset_home, REPO_ROOT / "orchestration" / "bi" / "superset_config.py")
    _say(f"Superset: preparing {settings.superset_home} and importing the dashboard (about a minute) …")
    try:
        bi.prepare(bundle)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    log = settings.superset_home / "superset.log"
    server = bi.start(port, log)
    _say(f"Superset on http://127.0.0.1:{port}/superset/dashboard/{superset.DASHBOARD_SLUG}/ "
         f"(log in as {bi.username} / {bi.password}; reads {serving_file} read-only; log: {log}; Ctrl-C stops it)")
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=30)
        return 0


# --- entry point ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="userops", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write the simulated brand's data into the landing zone")
    gen.add_argument("--persons", type=int, default=DEMO["persons"])
    gen.add_argument("--start", type=_date, default=DEMO["start"], help="first arrival day (YYYY-MM-DD)")
    gen.add_argument("--end", type=_date, default=DEMO["end"], help="last arrival day (YYYY-MM-DD)")
    gen.add_argument("--seed", type=int, default=DEMO["seed"])
    gen.add_argument("--landing", type=Path, help="default: USEROPS_LANDING or data/landing")
    gen.add_argument("--truth", type=Path, default=None,
                     help="also write the true person behind every identifier and record here")

    run = sub.add_parser("run", help="materialise every asset for a day or a range of days")
    when = run.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=_date, help="one arrival day")
    when.add_argument("--from", dest="start", type=_date, help="first arrival day of a range")
    run.add_argument("--to", dest="end", type=_date, help="last arrival day of a range (with --from)")

    sub.add_parser("demo", help="generate the bundled sample data and run everything on it")

    grid = sub.add_parser("grid", help="nine-grid transition matrix between two snapshot days")
    grid.add_argument("--from", dest="start", type=_date, required=True, help="earlier snapshot day")
    grid.add_argument("--to", dest="end", type=_date, required=True, help="later snapshot day")

    suggest = sub.add_parser("suggest-thresholds",
                             help="nine-grid thresholds from today's distribution, to copy into the seed")
    suggest.add_argument("--date", type=_date, default=None, help="snapshot day (default: the latest)")

    bi = sub.add_parser("bi", help="Apache Superset with the userops dashboard on the BI serving copy")
    bi.add_argument("--port", type=int, default=8088)

    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            landing = (args.landing.resolve() if args.landing else Settings.from_env().landing)
            generate_sample(landing, args.persons, args.start, args.end, args.seed, args.truth)
            return 0
        if args.command == "run":
            if args.start and not args.end:
                raise UsageError("--from needs --to")
            if args.end and not args.start:
                raise UsageError("--to needs --from")
            start, end = (args.date, args.date) if args.date else (args.start, args.end)
            return run_pipeline(start, end)
        if args.command in ("grid", "suggest-thresholds"):
            return nine_grid_report(args)
        if args.command == "bi":
            return superset_bi(args.port)
        settings = Settings.from_env()
        generate_sample(settings.landing, DEMO["persons"], DEMO["start"], DEMO["end"], DEMO["seed"],
                        settings.landing.parent / "ground_truth")
        return run_pipeline(DEMO["start"], DEMO["end"])
    except UsageError as exc:
        print(f"userops: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
