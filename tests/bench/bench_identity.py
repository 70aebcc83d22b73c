"""The identity stage at scale: a generated brand through the real pipeline, then the stage timed
step by step on the warehouse it left, against SciPy on the same edges, in one run.

    python -m tests.bench.bench_identity --persons 1000000 --days 7

Steps timed on the loaded warehouse: the dbt models that build the graph (observations,
identifiers with their junk flags, edges; times from dbt's run_results.json), the connected
components (portable SQL loop), the stable person ids. SciPy's time includes its I/O: reading the
edges out of DuckDB and writing the labels back as a table. With --truth the pairwise precision
and recall of identity_map against the generator's true persons are reported too.
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
import pandas as pd

from orchestration.lib.components import connected_components
from orchestration.lib.person_ids import assign_person_ids
from orchestration.sample.generator import generate
from tests.bench.bench_components import chain, time_scipy, time_sql
from tests.bench.bench_ingest import _run

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAPH_MODELS = ["int_identity_observations", "int_identifiers", "int_identity_edges"]


def time_graph_models(env: dict[str, str], target: Path) -> dict[str, float]:
    """Rebuild the graph's dbt models and return dbt's execution time per model."""
    dbt = str(Path(sys.executable).parent / "dbt")
    done = subprocess.run([dbt, "run", "--select", *GRAPH_MODELS, "--target-path", str(target),
                           "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)],
                          env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stdout[-5000:] + done.stderr[-5000:])
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results}


def pairwise_accuracy(conn: duckdb.DuckDBPyConnection, truth: Path) -> dict[str, float]:
    conn.execute(f"""create or replace temp table truth as
                     select * from read_csv('{truth / 'identifiers.csv'}', all_varchar = true)""")
    pairs = conn.execute("""
        with both_keys as (
            select m.person_id, t.person_key from marts.identity_map m
            join truth t on t.identifier_type = m.identifier_type and t.identifier_value = m.identifier_value
             and coalesce(t.wechat_app, '') = coalesce(m.wechat_app, '')),
        pairs as (select n * (n - 1) / 2 as p from (select count(*) as n from both_keys group by person_id, person_key)),
        predicted as (select n * (n - 1) / 2 as p from (select count(*) as n from both_keys group by person_id)),
        actual as (select n * (n - 1) / 2 as p from (select count(*) as n from both_keys group by person_key))
        select (select sum(p) from pairs), (select sum(p) from predicted), (select sum(p) from actual)""").fetchone()
    true_positive, predicted, actual = (float(v) for v in pairs)
    return {"precision": round(true_positive / predicted, 5), "recall": round(true_positive / actual, 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--truth", action="store_true", help="also score precision and recall")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="userops-bench-identity-"))
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "warehouse.duckdb"
    env = {**os.environ, "USEROPS_LANDING": str(work / "landing"), "USEROPS_WAREHOUSE": str(warehouse),
           "DAGSTER_HOME": str(work / "dagster_home"), "USEROPS_START_DATE": args.start.isoformat()}
    last = args.start + timedelta(days=args.days - 1)
    report: dict[str, object] = {"persons": args.persons, "days": args.days, "workdir": str(work)}

    began = time.monotonic()
    generate(work / "landing", args.persons, args.start, last, args.seed, work / "truth" if args.truth else None)
    report["generate_s"] = round(time.monotonic() - began, 1)
    print(f"generated in {report['generate_s']}s", flush=True)
    report["pipeline_run_s"] = round(_run(["run", "--from", args.start.isoformat(), "--to", last.isoformat()], env), 1)
    print(f"pipeline run in {report['pipeline_run_s']}s", flush=True)

    models = time_graph_models(env, work / "dbt_target")
    report["graph_models_s"] = models
    with duckdb.connect(str(warehouse)) as conn:
        report["observations"] = conn.execute("select count(*) from intermediate.int_identity_observations").fetchone()[0]
        report["identifiers"] = conn.execute("select count(*) from intermediate.int_identifiers").fetchone()[0]
        conn.execute("create or replace table main.edges as select src, dst from intermediate.int_identity_edges")
        report["edges"] = conn.execute("select count(*) from main.edges").fetchone()[0]
        cc = connected_components(conn, "main.edges", "identity.components", max_rounds=64, scratch="identity.cc")
        ids = assign_person_ids(conn, "identity.components", "identity.person_registry", "identity.person_merges",
                                last, scratch="identity.ids")
        report["components_s"] = round(cc.seconds, 2)
        report["rounds"] = cc.rounds
        report["persons_found"] = cc.components
        report["largest_person"] = cc.largest
        report["person_ids_s"] = round(ids.seconds, 2)
        report["identity_stage_s"] = round(sum(models.values()) + cc.seconds + ids.seconds, 2)
        scipy_s = time_scipy(conn)
        report["scipy_with_io_s"] = round(scipy_s, 2)
        report["components_over_scipy"] = round(cc.seconds / scipy_s, 2)
        report["same_partition_as_scipy"] = conn.execute(
            "select count(*) from identity.components c join scipy_components s using (node) "
            "where c.component <> s.component").fetchone()[0] == 0
        if args.truth:
            report["accuracy"] = pairwise_accuracy(conn, work / "truth")
        for n in (10_000, 1_000_000):
            seconds, rounds = time_sql(conn, chain(n, args.seed))
            report[f"chain_{n}"] = {"sql_s": round(seconds, 2), "rounds": rounds}
    report["peak_rss_mb_self"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["peak_rss_mb_pipeline"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
