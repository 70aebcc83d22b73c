"""Charts of the day, as PNG files linked from the asset's metadata: the nine-grid heatmap, the
week's transition matrix and the retention curves of recent week cohorts."""

import os
import shutil
from datetime import date, timedelta

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import dbt_after_identity
from orchestration.lib import charts

RETENTION_COHORTS = 8          # the last eight week cohorts, so the lines stay readable
TRANSITION_LAG_DAYS = 7


@dg.asset(
    key=["reports", "charts"],
    deps=[get_asset_key_for_model([dbt_after_identity], model)
          for model in ("nine_grid_summary", "nine_grid_transitions", "cohort_retention")],
    group_name="reports",
    description=("Charts of the latest day, as PNG files under USEROPS_REPORTS/dt=<day>/: the nine-grid as a "
                 "heatmap (users and share per cell), the transition matrix over the last 7 days (or 1 while the "
                 "history is shorter), and the retention curves of the last eight week cohorts."),
    **{**DAILY_WAREHOUSE_ASSET, "kinds": {"python", "duckdb", "matplotlib"}},
)
def daily_charts(context: dg.AssetExecutionContext, warehouse: DuckDBResource,
                 reports: OutputFolder) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        day: date | None = conn.execute("select max(snapshot_date) from marts.nine_grid_summary").fetchone()[0]
        if day is None:
            raise dg.Failure("no nine-grid snapshot to chart: marts.nine_grid_summary is empty")
        users = dict(conn.execute("select cell, users from marts.nine_grid_summary where snapshot_date = ?",
                                  [day]).fetchall())
        lag = conn.execute("""select max(lag_days) from marts.nine_grid_transitions
                              where to_date = ? and lag_days <= ?""", [day, TRANSITION_LAG_DAYS]).fetchone()[0]
        moves = conn.execute("""select from_cell, to_cell, users from marts.nine_grid_transitions
                                where to_date = ? and lag_days = ?""", [day, lag]).fetchall() if lag else []
        retention = conn.execute(f"""
            select cast(cohort_start as varchar), day_number, retention_rate from marts.cohort_retention
            where cohort_type = 'week' and cohort_start in (
                select distinct cohort_start from marts.cohort_retention where cohort_type = 'week'
                order by cohort_start desc limit {RETENTION_COHORTS})""").fetchall()

    # Written into a scratch folder and swapped in whole: the day's folder is complete or absent.
    final = reports.root / f"dt={day.isoformat()}"
    scratch = reports.root / f".dt={day.isoformat()}.tmp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    heatmap = charts.nine_grid_heatmap(users, scratch / "nine_grid.png", f"Nine-grid on {day}")
    since = (day - timedelta(days=lag)).isoformat() if lag else "—"
    transitions = charts.transition_matrix(moves, scratch / "nine_grid_transitions.png",
                                           f"Cell moves {since} → {day}")
    curves = charts.retention_curves(retention, scratch / "retention_curves.png",
                                     f"Retention of week cohorts (day N after registering), as of {day}")
    shutil.rmtree(final, ignore_errors=True)
    scratch.rename(final)
    files = {name: final / path.name for name, path in
             (("nine_grid_heatmap", heatmap), ("transition_matrix", transitions), ("retention_curves", curves))}
    context.log.info(f"charts for {day} in {final}")
    table = "\n".join(f"| {cell} | {users.get(cell, 0):,} |" for cell in range(1, 10))
    return dg.MaterializeResult(metadata={
        "day": day.isoformat(),
        "folder": dg.MetadataValue.path(str(final)),
        **{name: dg.MetadataValue.path(str(path)) for name, path in files.items()},
        "nine_grid": dg.MetadataValue.md(f"| cell | users |\n|---|---|\n{table}"),
        "transition_lag_days": lag or 0,
        "retention_cohorts": len({cohort for cohort, _, _ in retention}),
    })
