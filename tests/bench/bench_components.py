"""Connected components: the portable SQL loop against SciPy, on the same edges, in one run.

    python -m tests.bench.bench_components --persons 1000000

Graph: each person has 2–6 identifiers linked as a random tree (the shape records give), plus a
10,000-long and a 1,000,000-long chain run separately. SciPy's time includes its I/O: reading the
edges out of DuckDB and writing the labels back as a table.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from orchestration.lib.components import connected_components


def person_graph(persons: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 7, persons)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    node = np.arange(sizes.sum())
    owner_first = np.repeat(first, sizes)
    offset = node - owner_first
    keep = offset > 0
    # each identifier links to a random earlier identifier of the same person (a random tree)
    parent = owner_first[keep] + (rng.random(keep.sum()) * offset[keep]).astype(np.int64)
    ids = rng.permutation(len(node)).astype(np.int64) * 7919 % (2**62)     # scattered BIGINT keys
    return pd.DataFrame({"src": ids[node[keep]], "dst": ids[parent]})


def chain(n: int, seed: int) -> pd.DataFrame:
    order = np.random.default_rng(seed).permutation(n).astype(np.int64)
    return pd.DataFrame({"src": order[:-1], "dst": order[1:]})


def time_sql(conn, frame: pd.DataFrame) -> tuple[float, int]:
    conn.execute("create or replace table edges as select cast(src as bigint) src, cast(dst as bigint) dst from frame")
    result = connected_components(conn, "edges", "components", max_rounds=64)
    return result.seconds, result.rounds


def time_scipy(conn) -> float:
    began = time.monotonic()
    src, dst = (conn.execute("select src, dst from edges").fetchnumpy()[c] for c in ("src", "dst"))
    nodes, inverse = np.unique(np.r_[src, dst], return_inverse=True)
    m = len(src)
    n = len(nodes)
    _, labels = scipy_components(coo_matrix((np.ones(m, dtype=np.int8), (inverse[:m], inverse[m:])), shape=(n, n)),
                                 directed=False)
    component_min = pd.Series(nodes).groupby(labels).transform("min").to_numpy()
    result = pd.DataFrame({"node": nodes, "component": component_min})  # noqa: F841 — read by DuckDB below
    conn.execute("create or replace table scipy_components as select * from result")
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    conn = duckdb.connect()
    report: dict[str, object] = {"persons": args.persons}
    graph = person_graph(args.persons, args.seed)
    report["edges"] = len(graph)
    sql_s, rounds = time_sql(conn, graph)
    scipy_s = time_scipy(conn)
    same = conn.execute("select count(*) from components c join scipy_components s using (node) "
                        "where c.component <> s.component").fetchone()[0] == 0
    report.update(sql_s=round(sql_s, 2), rounds=rounds, scipy_s=round(scipy_s, 2),
                  ratio=round(sql_s / scipy_s, 2), same_partition=same)
    for n in (10_000, 1_000_000):
        seconds, rounds = time_sql(conn, chain(n, args.seed))
        report[f"chain_{n}"] = {"sql_s": round(seconds, 2), "rounds": rounds, "scipy_s": round(time_scipy(conn), 2)}
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
