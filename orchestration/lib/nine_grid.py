"""Nine-grid questions asked of the warehouse: the transition matrix between any two snapshot
days, and thresholds suggested from the current distribution (to copy into the seed)."""

from __future__ import annotations

from datetime import date

import pandas as pd

CELLS = list(range(1, 10))


def transition_matrix(conn, from_date: date, to_date: date) -> pd.DataFrame:
    """Users per (from cell, to cell) for persons on the grid on both days: rows are from-cells,
    columns to-cells, all nine of each (zeros included)."""
    pairs = conn.execute("""
        select f.cell as from_cell, t.cell as to_cell, count(*) as users
        from marts.nine_grid_daily f
        join marts.nine_grid_daily t on t.person_id = f.person_id
        where f.snapshot_date = ? and t.snapshot_date = ?
        group by f.cell, t.cell""", [from_date, to_date]).df()
    matrix = pairs.pivot_table(index="from_cell", columns="to_cell", values="users", aggfunc="sum", fill_value=0)
    return matrix.reindex(index=CELLS, columns=CELLS, fill_value=0).astype(int)


def suggest_thresholds(conn, as_of: date | None = None) -> pd.DataFrame:
    """Low/mid/high bounds at the terciles of today's buyers' net revenue and of the active
    persons' interaction index, as rows of the nine_grid_thresholds seed."""
    day = as_of or conn.execute("select max(snapshot_date) from marts.user_profile_daily").fetchone()[0]
    value = conn.execute("""select quantile_cont(net_revenue_365d, [1/3, 2/3]) from marts.user_profile_daily
                            where snapshot_date = ? and net_revenue_365d > 0""", [day]).fetchone()[0]
    engagement = conn.execute("""select quantile_cont(interaction_index, [1/3, 2/3]) from marts.user_profile_daily
                                 where snapshot_date = ? and interaction_index > 0""", [day]).fetchone()[0]
    rows = []
    for dimension, bounds in (("value", value), ("engagement", engagement)):
        if not bounds:
            raise ValueError(f"no {dimension} data on {day}: run the pipeline first")
        low, high = (round(float(b), -1) if b >= 50 else round(float(b), 1) for b in bounds)
        rows += [(dimension, "low", None, low), (dimension, "mid", low, high), (dimension, "high", high, None)]
    return pd.DataFrame(rows, columns=["dimension", "level", "min_value", "max_value"])
