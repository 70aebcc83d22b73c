"""Scale benchmark: generate a brand, load a history as one range run, then one more day.

    python -m tests.bench.bench_ingest --persons 100000 --days 90
    make bench BENCH_ARGS="--persons 1000000 --days 365"

Reports rows, wall time per stage and the ratio of the daily run to the history run (a daily run
must only process what is new, so the ratio should stay far below 1/days × a constant).
Not part of `make test`: timings belong here, never in unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.sample.generator import generate


def _run(args: list[str], env: dict[str, str], log: Path) -> float:
    """Run `userops`; its output (dbt's per-model timings included) goes to `log`."""
    began = time.monotonic()
    userops = str(Path(sys.executable).parent / "userops")
    done = subprocess.run([userops, *args], env=env, capture_output=True, text=True)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-5000:] + done.stderr[-5000:])
        raise SystemExit(f"userops {' '.join(args)} failed with {done.returncode}")
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60, help="days of history (one more day is run after it)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="userops-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "USEROPS_LANDING": str(work / "landing"), "USEROPS_WAREHOUSE": str(work / "warehouse.duckdb"),
           "DAGSTER_HOME": str(work / "dagster_home"), "USEROPS_START_DATE": args.start.isoformat(),
           "USEROPS_OUTBOX": str(work / "outbox"), "USEROPS_REPORTS": str(work / "reports"),
           "USEROPS_SERVING": str(work / "serving")}
    last = args.start + timedelta(days=args.days)
    report: dict[str, object] = {"persons": args.persons, "history_days": args.days, "workdir": str(work)}

    began = time.monotonic()
    written = generate(work / "landing", args.persons, args.start, last, args.seed)
    report["generate_s"] = round(time.monotonic() - began, 1)
    report["rows_written"] = written
    report["rows_total"] = sum(written.values())
    print(f"generated {report['rows_total']:,} rows in {report['generate_s']}s", flush=True)

    history = _run(["run", "--from", args.start.isoformat(), "--to", (last - timedelta(days=1)).isoformat()], env,
                   work / "history.log")
    report["history_run_s"] = round(history, 1)
    print(f"history run ({args.days} days) in {history:.1f}s", flush=True)
    daily = _run(["run", "--date", last.isoformat()], env, work / "daily.log")
    report["daily_run_s"] = round(daily, 1)
    report["daily_over_history"] = round(daily / history, 3)
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as conn:
        report["raw_rows"] = {t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0]
                              for t in ("online", "offline", "sales", "social", "consent")}
    report["rows_per_s_history"] = round(report["rows_total"] * args.days / (args.days + 1) / history)
    report["peak_rss_mb_children"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
