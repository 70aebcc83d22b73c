"""The churn stage's model: the MBG/NBD purchase model fitted by maximum likelihood on every
buyer's purchase history, which dbt turns into each buyer's p_alive and p_active in the profile."""

from datetime import date

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.transform import dbt_after_identity
from orchestration.lib import churn_model

HISTORIES = "intermediate.int_purchase_histories"
SETTINGS = "intermediate.int_churn_settings"
PURCHASE_MODEL = "churn.purchase_model"


@dg.asset(
    key=["churn", "purchase_model"],
    deps=[get_asset_key_for_model([dbt_after_identity], "int_purchase_histories"),
          get_asset_key_for_model([dbt_after_identity], "int_churn_settings")],
    group_name="churn",
    description=("The purchase model behind the early warning: MBG/NBD (who is still a buyer, from how often "
                 "and how recently each buyer bought) fitted on all buyers' purchase days, one row of parameters "
                 "per as-of day. MBG/NBD rather than BG/NBD so one-time buyers can fade. The fitting code matches "
                 "the published CDNOW parameters (tests/orchestration/test_churn_model.py)."),
    **DAILY_WAREHOUSE_ASSET,
)
def purchase_model(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        conn.execute("create schema if not exists churn")
        conn.execute(f"""create table if not exists {PURCHASE_MODEL} (
            fitted_on date primary key, r double, alpha double, a double, b double,
            buyers bigint, log_likelihood double)""")
        # Buyers sharing one (x, t_x, T) are fitted as one weighted row.
        grouped = conn.execute(f"""
            select x, t_x, t_cal, count(*) as buyers, max(as_of_date) as as_of_date
            from {HISTORIES} group by x, t_x, t_cal""").df()
        min_buyers = conn.execute(f"select min_buyers_to_fit from {SETTINGS}").fetchone()[0]
        buyers = int(grouped.buyers.sum()) if len(grouped) else 0
        as_of: date | None = grouped.as_of_date.max().date() if len(grouped) else None
        if as_of is not None:
            conn.execute(f"delete from {PURCHASE_MODEL} where fitted_on = ?", [as_of])
        if buyers < min_buyers:
            context.log.warning(f"purchase model not fitted: {buyers} buyers, fewer than min_buyers_to_fit = "
                                f"{min_buyers} (churn_settings); p_alive stays empty today")
            return dg.MaterializeResult(metadata={"fitted": False, "buyers": buyers, "min_buyers_to_fit": min_buyers})
        try:
            params = churn_model.fit(grouped.x, grouped.t_x, grouped.t_cal, weights=grouped.buyers)
        except RuntimeError as error:      # no convergence: today's profile goes without p_alive
            context.log.warning(f"purchase model not fitted on {as_of}: {error}")
            return dg.MaterializeResult(metadata={"fitted": False, "buyers": buyers, "error": str(error)})
        implausible = churn_model.implausible(params)
        if implausible:                     # e.g. a few days of history: every buyer looks alike
            context.log.warning(f"purchase model on {as_of} rejected ({implausible}): r {params.r:.4g}, "
                                f"alpha {params.alpha:.4g}, a {params.a:.4g}, b {params.b:.4g}; p_alive stays empty")
            return dg.MaterializeResult(metadata={"fitted": False, "buyers": buyers, "rejected": implausible})
        log_likelihood = churn_model.log_likelihood(params, grouped.x, grouped.t_x, grouped.t_cal,
                                                    weights=grouped.buyers)
        conn.execute(f"insert into {PURCHASE_MODEL} values (?, ?, ?, ?, ?, ?, ?)",
                     [as_of, params.r, params.alpha, params.a, params.b, buyers, log_likelihood])
        one_time = int(grouped.loc[grouped.x == 0, "buyers"].sum())
    context.log.info(f"purchase model on {as_of}: {buyers:,} buyers ({len(grouped):,} distinct histories) → "
                     f"r {params.r:.4f}, alpha {params.alpha:.4f}, a {params.a:.4f}, b {params.b:.4f}")
    return dg.MaterializeResult(metadata={
        "fitted": True,
        "fitted_on": str(as_of),
        "buyers": buyers,
        "one_time_buyers": one_time,
        "distinct_histories": len(grouped),
        "r": round(params.r, 6), "alpha": round(params.alpha, 6), "a": round(params.a, 6), "b": round(params.b, 6),
        "log_likelihood": round(log_likelihood, 3),
    })
