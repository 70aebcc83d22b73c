"""Connected components in portable SQL, checked against SciPy on graphs with known answers."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from orchestration.lib.components import ComponentsDidNotConverge, connected_components


def _run(edges: list[tuple[int, int]] | pd.DataFrame, **kwargs):
    conn = duckdb.connect()
    frame = edges if isinstance(edges, pd.DataFrame) else pd.DataFrame(edges, columns=["src", "dst"])
    conn.register("edge_frame", frame)
    conn.execute("create table edges as select cast(src as bigint) as src, cast(dst as bigint) as dst from edge_frame")
    result = connected_components(conn, "edges", "components", **kwargs)
    mapping = dict(conn.execute("select node, component from components").fetchall())
    leftovers = conn.execute("select count(*) from information_schema.tables where table_name like 'cc_%'").fetchone()[0]
    assert leftovers == 0, "working tables are dropped"
    return result, mapping


def _partition(mapping: dict[int, int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for node, component in mapping.items():
        groups.setdefault(component, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def test_small_graph_with_isolated_node_and_duplicates():
    result, mapping = _run([(5, 3), (3, 9), (9, 5), (3, 5), (7, 8), (11, 11), (8, 7)])
    assert mapping == {3: 3, 5: 3, 9: 3, 7: 7, 8: 7, 11: 11}    # component = smallest node
    assert (result.nodes, result.components, result.largest) == (6, 3, 3)


def test_chain_needs_few_rounds():
    """A 10,000-long chain: label propagation would need 10,000 rounds."""
    n = 10_000
    order = np.random.default_rng(1).permutation(n)           # chain through shuffled ids
    result, mapping = _run(pd.DataFrame({"src": order[:-1], "dst": order[1:]}))
    assert set(mapping.values()) == {0} and len(mapping) == n
    assert result.rounds <= 20


def test_round_cap_fails_loudly():
    order = np.random.default_rng(2).permutation(2_000)
    with pytest.raises(ComponentsDidNotConverge, match="working edges left after 2 rounds"):
        _run(pd.DataFrame({"src": order[:-1], "dst": order[1:]}), max_rounds=2)


def test_random_graph_matches_scipy():
    rng = np.random.default_rng(3)
    n, m = 20_000, 14_000                                     # sparse: many components of varied size
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    _, labels = scipy_components(coo_matrix((np.ones(m), (src, dst)), shape=(n, n)), directed=False)
    seen = np.unique(np.r_[src, dst])
    expected: dict[int, set[int]] = {}
    for node in seen:
        expected.setdefault(labels[node], set()).add(int(node))
    _, mapping = _run(pd.DataFrame({"src": src, "dst": dst}))
    assert _partition(mapping) == {frozenset(g) for g in expected.values()}


def test_star_hub_merges_everything_it_touches():
    """A super-node joins thousands: the algorithm does what the edges say (guards come before it)."""
    result, mapping = _run([(0, leaf) for leaf in range(1, 5_001)] + [(9_000, 9_001)])
    assert result.largest == 5_001 and result.components == 2
