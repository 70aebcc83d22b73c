"""Benchmark: where a daily run's time goes — model work against everything around it.

    python -m tests.bench.bench_daily --persons 20000 --days 30
    python -m tests.bench.bench_daily --workdir W --reuse      # time the re-run again on W

Generates a brand, loads its history as one range run, then re-runs the last day (the daily
case: one new day on top of a kept history) and splits that run's wall time into
- dbt model work: how long dbt itself says each of the run's dbt builds ran its nodes (models,
  seeds, tests, hooks: "Finished running … (4.34s)"), so dbt's start-up and parsing are not in it;
- Python model work: the Dagster steps that are not dbt builds (ingestion, identity, purchase
  model, outbox, report, serving copy), as Dagster timed them;
- outside model work: the rest (process start, imports, dbt start-up and parsing, Dagster
  planning, metadata), the overhead a daily run pays whatever the data.
Not part of `make test`: timings belong here, never in unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from orchestration.settings import REPO_ROOT


def environment(work: Path, start: date) -> dict[str, str]:
    return {**os.environ, "USEROPS_LANDING": str(work / "landing"), "USEROPS_WAREHOUSE": str(work / "warehouse.duckdb"),
            "DAGSTER_HOME": str(work / "dagster_home"), "USEROPS_START_DATE": start.isoformat(),
            "USEROPS_OUTBOX": str(work / "outbox"), "USEROPS_REPORTS": str(work / "reports"),
            "USEROPS_SERVING": str(work / "serving")}


def run(args: list[str], env: dict[str, str], log: Path) -> tuple[float, str]:
    """Run `userops` in a subprocess; its wall time and the Dagster run id it printed."""
    began = time.monotonic()
    userops = str(Path(sys.executable).parent / "userops")
    done = subprocess.run([userops, *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    wall = time.monotonic() - began
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-5000:] + done.stderr[-5000:])
        raise SystemExit(f"userops {' '.join(args)} failed with {done.returncode}")
    found = re.search(r"run ([0-9a-f-]{36}) succeeded", done.stdout + done.stderr)
    return wall, found.group(1) if found else ""


def split(run_id: str, dagster_home: Path, log: str) -> dict[str, float]:
    """dbt execution time, Python step time and the number of dbt builds of one Dagster run."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    builds = [float(s) for s in re.findall(r"Finished running .* \(([\d.]+)s\)\.", log)]
    steps = dg.DagsterInstance.get().get_run_step_stats(run_id)
    python = sum((s.end_time or 0) - (s.start_time or 0) for s in steps if not s.step_key.startswith("dbt_"))
    dbt_steps = sum((s.end_time or 0) - (s.start_time or 0) for s in steps if s.step_key.startswith("dbt_"))
    return {"dbt_exec_s": round(sum(builds), 1), "python_steps_s": round(python, 1),
            "dbt_steps_s": round(dbt_steps, 1), "dbt_builds": len(builds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--reuse", action="store_true", help="the workdir holds a loaded history: only re-run")
    parser.add_argument("--reruns", type=int, default=2, help="re-runs of the last day (the first warms caches)")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="userops-bench-daily-"))
    work.mkdir(parents=True, exist_ok=True)
    env = environment(work, args.start)
    last = args.start + timedelta(days=args.days - 1)
    if not args.reuse:
        from orchestration.sample.generator import generate

        generate(work / "landing", args.persons, args.start, last + timedelta(days=1), args.seed)
        wall, _ = run(["run", "--from", args.start.isoformat(), "--to", last.isoformat()], env, work / "history.log")
        print(f"history run of {args.days} days: {wall:.1f}s", flush=True)
    for attempt in range(args.reruns):
        wall, run_id = run(["run", "--date", last.isoformat()], env, work / f"daily-{attempt}.log")
        parts = split(run_id, work / "dagster_home", (work / f"daily-{attempt}.log").read_text())
        outside = wall - parts["dbt_exec_s"] - parts["python_steps_s"]
        print(json.dumps({"persons": args.persons, "history_days": args.days, "rerun": attempt + 1,
                          "wall_s": round(wall, 1), **parts, "outside_model_work_s": round(outside, 1),
                          "outside_share": round(outside / wall, 2)}), flush=True)


if __name__ == "__main__":
    main()
