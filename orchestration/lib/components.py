"""Connected components in portable SQL: large-star / small-star with finished-star pruning.

The identity graph's persons are the connected components of its identifier graph. This is the
`twophase_prune` algorithm measured in ../shared/spec/identity-at-scale.md (Kiveris et al. 2014,
GraphFrames' default, plus removal of closed stars each round): about log2(n) rounds even on a
million-long chain, where label propagation (what most SQL stitchers ship) needs one round per
hop. Every statement is a `CREATE TABLE … AS SELECT` using only DISTINCT, GROUP BY min/count,
inner joins, anti-joins against tables unique on the join key, least/greatest and UNION [ALL],
so the same text runs on DuckDB, Spark SQL and Trino. The loop runs here, outside SQL, and stops
when no working edge is left; reaching the round cap is an error, never a silent truncation.

Input: a table of edges `(src BIGINT, dst BIGINT)`; a node seen only with itself (src = dst) is
its own component. Output: `(node BIGINT, component BIGINT)` where component is the smallest
node of the component.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Connection(Protocol):
    def execute(self, sql: str, parameters: object = ...) -> object: ...


class ComponentsDidNotConverge(RuntimeError):
    """The round cap was reached with working edges left: the partition would be wrong."""


@dataclass(frozen=True)
class ComponentsResult:
    rounds: int
    nodes: int
    components: int
    largest: int
    seconds: float


def scalar(conn: Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def connected_components(conn: Connection, edges: str, output: str, max_rounds: int = 64,
                         scratch: str = "cc") -> ComponentsResult:
    """Write `output(node, component)` for the graph in `edges(src, dst)`.

    `scratch` prefixes the working tables (dropped at the end). Raises ComponentsDidNotConverge
    when `max_rounds` rounds leave working edges behind.
    """
    began = time.monotonic()
    t = {name: f"{scratch}_{name}" for name in
         ("nodes", "ee", "mn1", "ls", "mn2", "out", "open_roots", "done", "done_roots", "done_nodes", "next")}

    def table(name: str, select: str) -> None:
        # Write to a new name, then swap: some statements read the table they replace.
        conn.execute(f"drop table if exists {t['next']}")
        conn.execute(f"create table {t['next']} as {select}")
        conn.execute(f"drop table if exists {t[name]}")
        conn.execute(f"alter table {t['next']} rename to {t[name].split('.')[-1]}")

    mn1_from_ee = f"""
        select u, least(u, min(v)) as m, count(*) as cnt
        from (select src as u, dst as v from {t['ee']} union all select dst as u, src as v from {t['ee']}) as both_ways
        group by u"""
    table("nodes", f"select src as node from {edges} union select dst as node from {edges}")
    table("ee", f"select distinct least(src, dst) as src, greatest(src, dst) as dst from {edges} where src <> dst")
    table("mn1", mn1_from_ee)
    table("out", f"select src, dst from {t['ee']} where 1 = 0")
    rounds = 0
    while scalar(conn, f"select count(*) from {t['ee']}") > 0:
        if rounds >= max_rounds:
            left = scalar(conn, f"select count(*) from {t['ee']}")
            raise ComponentsDidNotConverge(
                f"connected components: {left:,} working edges left after {rounds} rounds (cap {max_rounds}); "
                "raise the cap only after checking the graph for an unexpected shape")
        rounds += 1
        # Large star: every node's larger neighbours hang from the smallest node it sees.
        table("ls", f"select distinct e.dst as src, n.m as dst from {t['ee']} e join {t['mn1']} n on e.src = n.u")
        table("mn2", f"select src as u, min(dst) as m from {t['ls']} group by src")
        # Small star: re-point each edge at the smallest neighbour of its source.
        table("ee", f"""
            select distinct src, dst from (
                select n.m as src, l.dst as dst from {t['ls']} l join {t['mn2']} n on l.src = n.u where n.m <> l.dst
                union all
                select m as src, u as dst from {t['mn2']}
            ) as stars""")
        table("mn1", mn1_from_ee)
        # Closed stars (a root whose leaves see nothing else) are finished: set them aside.
        table("open_roots", f"""
            select distinct e.src as r from {t['ee']} e join {t['mn1']} n on n.u = e.dst where n.cnt > 1""")
        table("done", f"""
            select e.src, e.dst from {t['ee']} e
            join {t['mn1']} c on c.u = e.src and c.m = c.u
            left join {t['open_roots']} o on o.r = e.src
            where o.r is null""")
        table("out", f"select src, dst from {t['out']} union all select src, dst from {t['done']}")
        table("done_roots", f"select distinct src as r from {t['done']}")
        table("ee", f"""
            select e.src, e.dst from {t['ee']} e left join {t['done_roots']} d on d.r = e.src where d.r is null""")
        table("done_nodes", f"select src as node from {t['done']} union select dst as node from {t['done']}")
        table("mn1", f"""
            select n.u, n.m, n.cnt from {t['mn1']} n left join {t['done_nodes']} d on d.node = n.u
            where d.node is null""")
    conn.execute(f"drop table if exists {output}")
    conn.execute(f"""
        create table {output} as
        select n.node, coalesce(o.src, n.node) as component
        from {t['nodes']} n left join {t['out']} o on o.dst = n.node""")
    for name in t.values():
        conn.execute(f"drop table if exists {name}")
    nodes = scalar(conn, f"select count(*) from {output}")
    components = scalar(conn, f"select count(distinct component) from {output}")
    largest = scalar(conn, f"select coalesce(max(size), 0) from (select count(*) as size from {output} "
                            "group by component) as sizes")
    return ComponentsResult(rounds, nodes, components, largest, time.monotonic() - began)
